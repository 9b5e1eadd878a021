"""Display text is made without Python callbacks inside polars queries.

A callback (`map_elements`) runs on polars' worker threads and takes the GIL there; a server thread that holds
the GIL while it waits on those workers (`to_pandas` for a table, a cached frame being unpickled) then waits
for ever, and with it every session: the load test's server hung that way."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import REPO

# Chart and table formatting from several threads, as sessions do, while another thread turns frames into
# pandas, as st.dataframe does. Before the fix this hung within a second or two.
_CONCURRENT_SESSIONS = textwrap.dedent("""
    import threading, time
    from datetime import date, timedelta
    import polars as pl
    from metrics.exports import to_csv_bytes
    from ui.charts import formatted, with_bucket_text, with_platform_labels

    days = 20_000
    frame = pl.DataFrame({
        "date": [date(2024, 1, 1) + timedelta(days=i % 700) for i in range(days)],
        "platform": [("google_ads", "facebook", "x", None)[i % 4] for i in range(days)],
        "spend": [i * 1.5 for i in range(days)],
        "tags": [[i, i + 1] for i in range(days)],
        "range": [{"low": i, "high": i + 2} for i in range(days)],
    })
    small = frame.head(300)
    stop = threading.Event()

    def tables():
        while not stop.is_set():
            frame.to_pandas()

    def charts():
        while not stop.is_set():
            with_bucket_text(with_platform_labels(formatted(small, "spend", "currency", "EUR", "spend_text")),
                             "week")
            to_csv_bytes(small)

    threads = [threading.Thread(target=f, daemon=True) for f in (tables, charts, charts, tables)]
    for thread in threads:
        thread.start()
    time.sleep(4)
    stop.set()
    for thread in threads:
        thread.join(timeout=20)
    print("stuck" if any(t.is_alive() for t in threads) else "done")
""")


def test_formatting_alongside_pandas_conversion_never_hangs():
    try:
        run = subprocess.run([sys.executable, "-c", _CONCURRENT_SESSIONS], cwd=REPO, capture_output=True,
                             text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise AssertionError("formatting and to_pandas in parallel threads deadlocked") from None
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "done"
