"""Share tokens match exactly, and a link has one live token, also under concurrent regenerations
(threads and separate processes) on SQLite and PostgreSQL (SPEC §8)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone

import polars as pl
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from metrics.errors import UsageError
from models import repository as repo
from tests.conftest import REPO

CONCURRENT = 10


def _shared(session) -> tuple[int, int, str]:
    snapshot = repo.save_snapshot(
        session=session, workspace_id=repo.ensure_workspace(session=session).id, name="Q3",
        frame=pl.DataFrame({"platform": ["facebook"], "spend": [1.0]}), settings={},
    )
    link, token = repo.create_share_link(session=session, snapshot_id=snapshot.id, label="ACME", expires_in_days=7)
    return snapshot.id, link.id, token


class _Statements:
    """Counts the SQL statements an engine runs."""

    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_):
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args, **_kwargs):
        self.count += 1


def test_only_the_exact_token_opens_the_report(engine, session):
    _, link_id, token = _shared(session)
    padded = [f" {token} ", f" {token}", f"{token} ", f"{token}\n", f"\t{token}", f"{token}=", f"%20{token}%20",
              f"'{token}'", token + "A", token[1:]]
    for candidate in padded:
        assert repo.resolve_share_token(session=session, token=candidate, count_view=False) is None, repr(candidate)
    assert repo.resolve_share_token(session=session, token=token, count_view=False).id == link_id


def test_malformed_and_huge_values_are_refused_without_a_query(engine, session):
    _shared(session)
    refused = [" " * 43, "a" * 101, "A" * 100_000, "abc def" * 7, "tok%20en" * 6, "<script>alert(1)</script>" * 2,
               "é" * 43, "short", "", None]
    with _Statements(engine) as statements:
        started = time.perf_counter()
        for value in refused:
            assert repo.resolve_share_token(session=session, token=value) is None
        elapsed = time.perf_counter() - started
    assert statements.count == 0
    assert elapsed < 1.0  # no hashing of 100,000 characters per request, no database round trip


def test_regenerating_a_revoked_or_expired_link_is_refused_with_one_sentence(session):
    snapshot_id, link_id, token = _shared(session)
    repo.revoke_share_link(session=session, link_id=link_id)
    with pytest.raises(UsageError, match=r"^This link was revoked, so it cannot be regenerated; create a new link"):
        repo.regenerate_share_link(session=session, link_id=link_id)
    expired, expired_token = repo.create_share_link(
        session=session, snapshot_id=snapshot_id, expires_at=datetime.now(timezone.utc) - timedelta(seconds=1))
    with pytest.raises(UsageError, match=r"^This link has expired, so it cannot be regenerated"):
        repo.regenerate_share_link(session=session, link_id=expired.id)
    for dead in (token, expired_token):
        assert repo.resolve_share_token(session=session, token=dead) is None
    assert all(link.status != "active" for link in repo.list_share_links(session=session, snapshot_id=snapshot_id))


def test_regenerating_from_a_stale_page_is_refused(session):
    """Two clicks on a page that still shows the first token: the second must not mint another address."""
    _, link_id, token = _shared(session)
    seen = repo.hash_token(token)
    _, first = repo.regenerate_share_link(session=session, link_id=link_id, replacing_token_sha256=seen)
    with pytest.raises(UsageError, match="regenerated a moment ago"):
        repo.regenerate_share_link(session=session, link_id=link_id, replacing_token_sha256=seen)
    assert repo.resolve_share_token(session=session, token=first).id == link_id
    assert repo.resolve_share_token(session=session, token=token) is None


def _assert_one_live_token(engine, link_id: int, original: str, issued: list[str]) -> None:
    with Session(engine) as session:
        live = [t for t in [original, *issued] if repo.resolve_share_token(session=session, token=t, count_view=False)]
        assert len(live) == 1, f"{len(live)} live tokens"
        assert live[0] != original
        link = repo.resolve_share_token(session=session, token=live[0])
        assert link.id == link_id
        assert len(repo.list_share_links(session=session)) == 1  # the same link, not a new row
        assert repo.load_snapshot_frame(session=session, snapshot_id=link.snapshot_id).height == 1  # it opens


def test_concurrent_regenerations_from_threads_leave_one_live_token(engine, session):
    _, link_id, original = _shared(session)
    start = threading.Barrier(CONCURRENT)
    issued: list[str] = []
    refusals: list[str] = []
    errors: list[BaseException] = []

    def regenerate() -> None:
        try:
            with Session(engine) as own:
                start.wait()
                try:
                    issued.append(repo.regenerate_share_link(session=own, link_id=link_id)[1])
                except UsageError as refusal:
                    refusals.append(str(refusal))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=regenerate) for _ in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, [repr(e) for e in errors]
    assert len(issued) + len(refusals) == CONCURRENT and issued
    assert all("regenerated a moment ago" in r for r in refusals)
    _assert_one_live_token(engine, link_id, original, issued)


REGENERATE_IN_A_PROCESS = textwrap.dedent(
    """
    import sys, time
    from sqlmodel import Session
    from metrics.errors import UsageError
    from models import repository as repo
    from models.db import make_engine

    engine = make_engine(sys.argv[1])
    link_id, start_at = int(sys.argv[2]), float(sys.argv[3])
    with Session(engine) as session:
        session.connection()  # connected before the start line, so the regenerations overlap
        time.sleep(max(0.0, start_at - time.time()))
        try:
            print("TOKEN", repo.regenerate_share_link(session=session, link_id=link_id)[1])
        except UsageError as refusal:
            print("REFUSED", refusal)
    """
)


def test_concurrent_regenerations_from_processes_leave_one_live_token(engine, session):
    """Replicas are processes: each regenerates the same link at the same moment through its own engine."""
    _, link_id, original = _shared(session)
    url = engine.url.render_as_string(hide_password=False)
    start_at = time.time() + 8  # every child has imported and connected by then, even on a busy machine
    children = [
        subprocess.Popen([sys.executable, "-c", REGENERATE_IN_A_PROCESS, url, str(link_id), str(start_at)],
                         cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    assert [child.returncode for child in children] == [0] * len(children), [err for _, err in outputs]
    lines = [out.strip() for out, _ in outputs]
    issued = [line.split(" ", 1)[1] for line in lines if line.startswith("TOKEN ")]
    assert issued and all(line.startswith(("TOKEN ", "REFUSED This link was regenerated")) for line in lines), lines
    _assert_one_live_token(engine, link_id, original, issued)
