"""`python -m reports deliver` as cron, a systemd timer or a container runs it: exit codes, one line per
delivery, `--loop` picking up new work and stopping cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

from sqlmodel import Session, select

from models.tables import DeliverySchedule, utcnow
from reports import deliveries
from reports.schedule import Cadence
from tests.conftest import REPO
from tests.db.test_delivery import CLIENT, QUIET, SENDER, saved_snapshot
from tests.smtp_server import smtp_server


def due_schedule(engine, title: str) -> int:
    """A weekly schedule whose first moment passed a minute ago."""
    with Session(engine) as session:
        existing = session.exec(select(DeliverySchedule.workspace_id, DeliverySchedule.snapshot_id)).first()
        workspace_id, snapshot_id = existing or saved_snapshot(session, settings=QUIET)
        now = utcnow()
        due = now - timedelta(minutes=1)
        cadence = Cadence.weekly(due.weekday(), due.strftime("%H:%M"), "UTC")
        return deliveries.create_schedule(session=session, workspace_id=workspace_id, snapshot_id=snapshot_id,
                                          title=title, cadence=cadence, recipients=[CLIENT], deliver="html",
                                          now=now - timedelta(days=7)).id


def environment(engine, port: int | None) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    env.pop("CAMPAIGN_LENS_SMTP_URL", None)
    if port is not None:
        env["CAMPAIGN_LENS_SMTP_URL"] = f"smtp://127.0.0.1:{port}?starttls=0&from={SENDER}"
    return env


def deliver(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reports", "deliver", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_without_a_mail_server_nothing_is_claimed_and_one_sentence_says_what_to_set(engine):
    schedule_id = due_schedule(engine, "Weekly report")
    result = deliver(environment(engine, None))
    assert result.returncode == 2
    assert result.stderr == ("Email delivery is not set up; set CAMPAIGN_LENS_SMTP_URL, e.g. "
                             "smtp://user:password@mail.example.com:587?from=reports@example.com.\n")
    with Session(engine) as session:
        untouched = deliveries.get_schedule(session=session, schedule_id=schedule_id)
        assert (untouched.claim_token, untouched.last_status) == (None, None)


def test_one_line_per_delivery_and_exit_4_when_one_did_not_go_out(engine):
    due_schedule(engine, "Weekly report")
    with smtp_server() as (inbox, port):
        inbox.refuse_data = "421 4.3.0 Try again later"
        refused = deliver(environment(engine, port))
        assert refused.returncode == 4, refused.stderr
        assert refused.stdout.startswith("Not sent “Weekly report” (schedule ")
        assert "trying again at" in refused.stdout and "421 4.3.0 Try again later" in refused.stdout
        inbox.refuse_data = None
        nothing = deliver(environment(engine, port))  # the retry is five minutes away
        assert (nothing.returncode, nothing.stdout) == (0, "Nothing is due.\n")
    assert inbox.messages == []


def test_loop_sends_what_becomes_due_and_stops_on_sigterm(engine):
    due_schedule(engine, "First report")
    with smtp_server() as (inbox, port):
        process = subprocess.Popen([sys.executable, "-m", "reports", "deliver", "--loop", "--interval", "1"],
                                   cwd=REPO, env=environment(engine, port), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            assert process.stdout.readline().startswith("Sent “First report”")
            due_schedule(engine, "Second report")  # while it runs
            assert process.stdout.readline().startswith("Sent “Second report”")
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        time.sleep(0.1)
        assert sorted(str(m["Subject"]).split(" · ")[0] for m in inbox.messages) == ["First report", "Second report"]
    assert process.stderr.read() == ""
