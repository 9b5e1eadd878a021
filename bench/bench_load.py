"""Benchmark: many people at once on one server — does every session keep working, and does the memory
come back when they leave?

    .venv/bin/python bench/bench_load.py [--sessions 20] [--rounds 2] [--upload-mb 100] [--uploads 2]

One `streamlit run dashboard.py` server, one headless chromium (Debian's /usr/bin/chromium) with a
Playwright context per session. Each session opens the app, clicks "Use demo data" and switches through
every analysis page `--rounds` times; meanwhile `--uploads` other sessions each upload their own
~`--upload-mb` MB CSV export on the Data page at the same moment. Then every session closes and the
server's memory is sampled until Streamlit has dropped the disconnected sessions
(`server.disconnectedSessionTTL`, set to 20 s here instead of the default 120 s to keep the run short)
and one short visit has let Streamlit notice it (see `settle_memory`).

Prints JSON:
  sessions, uploads          how many ran; failed_sessions (with the error) must be empty
  slowest_page_s             the slowest page switch of any session (click → script finished, title drawn)
  page_switch_s              median and 95th percentile of all page switches under load
  page_switch_alone_s        baseline in the same run: median page switch of one session alone (the warm-up)
  upload_s                   each upload: file chosen → read, stored in the workspace and its card drawn
  rss_mb                     server resident memory (/proc/<pid>/status VmRSS): fresh, baseline (after a
                             warm-up session that loaded the demo and visited every page, and a 1 MB upload,
                             had left), peak (during the load), after (sessions gone), after_vs_baseline
                             (ratio; the target is ≤ 1.2)
  rss_per_session_mb         (peak - baseline) / (sessions + uploads)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.conftest import CHROMIUM, start_server  # noqa: E402 - after the path setup

BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = ("Platforms", "Campaigns & content", "Funnel", "Goals", "A/B tests", "Overview")
SESSION_TTL_S = 20
TIMEOUT_MS = 300_000
SETTLED = """([title]) => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const heading = document.querySelector("[data-testid='stMain'] h1");
  return heading !== null && heading.textContent.includes(title)
         && document.querySelector("[data-testid='stException']") === null;
}"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Sampler:
    """Samples the server's RSS every 0.25 s while the load runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._task = pid, 0.0, None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mb(self.pid))
            await asyncio.sleep(0.25)

    def __enter__(self):
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_):
        self._task.cancel()


async def _settle(page, title: str) -> None:
    await page.wait_for_function(SETTLED, arg=[title], timeout=TIMEOUT_MS, polling=50)


async def _where(page) -> str:
    """What the page shows, for a failure report."""
    try:
        state = await page.evaluate("() => document.querySelector(\"[data-testid='stApp']\")"
                                    "?.getAttribute('data-test-script-state')")
        text = " ".join((await page.inner_text("body", timeout=5_000)).split())
        return f"script {state}; page: {text[:200]}"
    except Exception as error:  # noqa: BLE001 - best effort
        return f"page unreadable ({type(error).__name__})"


async def browse(browser, url: str, rounds: int, switches: list[float]) -> None:
    """One person: open the app, load the demo, visit every page `rounds` times."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    step = "opening the app"
    page = None
    try:
        page = await context.new_page()
        # The Data page always offers the demo, whatever the workspace holds (the empty start only
        # offers it while the workspace has no data).
        await page.goto(f"{url}/upload", timeout=TIMEOUT_MS)
        step = "loading the demo"
        await page.get_by_role("button", name="Use demo data").first.click(timeout=TIMEOUT_MS)
        await page.get_by_text("Demo account", exact=False).first.wait_for(timeout=TIMEOUT_MS)
        nav = page.get_by_test_id("stSidebarNav")
        await nav.get_by_role("link", name="Overview", exact=True).click(timeout=TIMEOUT_MS)
        await page.wait_for_selector("[data-testid='stMetric']", timeout=TIMEOUT_MS)
        await _settle(page, "Overview")
        for round_number in range(rounds):
            for title in PAGES:
                step = f"round {round_number + 1}, {title}"
                started = time.perf_counter()
                await nav.get_by_role("link", name=title, exact=True).click(timeout=TIMEOUT_MS)
                await _settle(page, title.split(" &")[0])
                switches.append(time.perf_counter() - started)
    except Exception as error:
        where = await _where(page) if page is not None else ""
        raise RuntimeError(f"{step}: {type(error).__name__}; {where}") from error
    finally:
        await context.close()


async def upload(browser, url: str, csv_path: Path, times: list[float]) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await context.new_page()
        await page.goto(f"{url}/upload", timeout=TIMEOUT_MS)
        chooser = page.get_by_test_id("stFileUploaderDropzoneInput")
        await chooser.wait_for(state="attached", timeout=TIMEOUT_MS)
        started = time.perf_counter()
        await chooser.set_input_files(str(csv_path), timeout=TIMEOUT_MS)
        # The file's card, drawn once it has been read and stored (the uploader lists the name at once).
        await page.get_by_test_id("stMetricLabel").get_by_text("Rows read").first.wait_for(timeout=TIMEOUT_MS)
        await _settle(page, "Data")
        times.append(time.perf_counter() - started)
    finally:
        await context.close()


async def _guard(coroutine, name: str, failures: dict[str, str]) -> None:
    try:
        await coroutine
    except Exception as error:  # noqa: BLE001 - a failed session is a result, reported in the JSON
        failures[name] = f"{type(error).__name__}: {str(error).splitlines()[0][:500]}"


async def settle_memory(browser, url: str, pid: int, wait_s: float) -> float:
    """RSS once Streamlit has dropped the disconnected sessions and the value has stopped falling.

    Streamlit forgets sessions lazily: disconnected ones leave its session storage only when it is next
    written, and its message loop keeps a reference to the last session it flushed (with all its
    session state) until it flushes another. So, as any next visitor would, one short visit comes
    first — to a dead share link, which loads no data, so that the session left pinned is a small one.
    """
    await asyncio.sleep(wait_s)
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{url}/?share=not-a-share-token-just-a-visit", timeout=TIMEOUT_MS)
    await _settle(page, "This link is not valid")
    await context.close()
    # Every 30 s the app collects garbage and, once nobody has been connected for the session TTL,
    # drops its shared data caches (ui/memory.py); polars' allocator (jemalloc) hands freed pages back
    # ~10 s later. So wait until the RSS has not fallen for longer than all of that together.
    quiet_s = SESSION_TTL_S + 30 + 15 + 10
    last, unchanged_since = rss_mb(pid), time.monotonic()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and time.monotonic() - unchanged_since < quiet_s:
        await asyncio.sleep(5)
        now = rss_mb(pid)
        if now < last - 2:
            unchanged_since = time.monotonic()
        last = now
    return last


async def run(args, tmp: Path) -> dict:
    from playwright.async_api import async_playwright

    from metrics import demo

    warm_up_csv = tmp / "warm_up.csv"  # 1 MB: the upload code paths are loaded before the baseline
    demo.generate(rows=5_000, seed=5).drop("source_file").write_csv(warm_up_csv)
    csv_paths = []
    rows = int(args.upload_mb * 1_000_000 / 192)  # the demo export is about 192 bytes a row
    for index in range(args.uploads):
        path = tmp / f"export_{index + 1}.csv"
        demo.generate(rows=rows, seed=11 + index).drop("source_file").write_csv(path)
        csv_paths.append(path)

    server = start_server(tmp, env={"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(SESSION_TTL_S)})
    pid = server.process.pid
    try:
        fresh = rss_mb(pid)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            warm_up: list[float] = []
            await browse(browser, server.url, 1, warm_up)
            await upload(browser, server.url, warm_up_csv, [])
            baseline = await settle_memory(browser, server.url, pid, SESSION_TTL_S + 5)

            switches: list[float] = []
            upload_times: list[float] = []
            failures: dict[str, str] = {}
            started = time.perf_counter()
            with Sampler(pid) as sampler:
                tasks = [_guard(browse(browser, server.url, args.rounds, switches), f"session {i + 1}", failures)
                         for i in range(args.sessions)]
                tasks += [_guard(upload(browser, server.url, path, upload_times), f"upload {path.name}", failures)
                          for path in csv_paths]
                await asyncio.gather(*tasks)
            load_s = time.perf_counter() - started
            after = await settle_memory(browser, server.url, pid, SESSION_TTL_S + 5)
            await browser.close()
    finally:
        server.stop()

    ordered = sorted(switches)
    return {
        "sessions": args.sessions,
        "uploads": args.uploads,
        "upload_file_mb": [round(p.stat().st_size / 1e6, 1) for p in csv_paths],
        "failed_sessions": failures,
        "page_switches": len(switches),
        "slowest_page_s": round(max(switches), 2) if switches else None,
        "page_switch_s": {"median": round(statistics.median(ordered), 2),
                          "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2)} if ordered else None,
        "page_switch_alone_s": round(statistics.median(warm_up), 2),
        "upload_s": [round(t, 1) for t in upload_times],
        "load_wall_s": round(load_s, 1),
        "rss_mb": {"fresh": round(fresh), "baseline": round(baseline), "peak": round(sampler.peak),
                   "after": round(after), "after_vs_baseline": round(after / baseline, 2)},
        "rss_per_session_mb": round((sampler.peak - baseline) / (args.sessions + args.uploads), 1),
        "session_ttl_s": SESSION_TTL_S,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--upload-mb", type=float, default=100)
    parser.add_argument("--uploads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        result = asyncio.run(run(args, Path(tmp_name)))
    print(json.dumps(result, indent=2))
    return 0 if not result["failed_sessions"] else 1


if __name__ == "__main__":
    sys.exit(main())
