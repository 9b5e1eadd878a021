"""Several `python -m reports deliver` processes at once (cron on two machines, replicas of a Kubernetes
CronJob) against one database, on SQLite and PostgreSQL: the SMTP server the test runs receives each due
delivery exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlmodel import Session

from models.tables import utcnow
from reports import deliveries
from reports.schedule import Cadence
from tests.db.test_delivery import CLIENT, QUIET, SENDER, saved_snapshot
from tests.smtp_server import smtp_server

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROCESSES, SCHEDULES = 3, 12
# Every process imports first, then waits for the start file: they race from the same moment.
SENDER_PROCESS = textwrap.dedent(
    """
    import os, sys, time
    from reports.cli import main
    while not os.path.exists(sys.argv[1]):
        time.sleep(0.01)
    sys.exit(main(["deliver"]))
    """
)


def test_racing_delivery_processes_send_each_due_report_exactly_once(engine, tmp_path):
    with Session(engine) as session:
        workspace_id, snapshot_id = saved_snapshot(session, settings=QUIET)
        created = utcnow() - timedelta(days=8)  # every schedule's first moment has passed
        for number in range(SCHEDULES):
            cadence = Cadence.weekly(number % 7, "00:00", "UTC")
            deliveries.create_schedule(session=session, workspace_id=workspace_id, snapshot_id=snapshot_id,
                                       title=f"Report {number:02d}", cadence=cadence, recipients=[CLIENT],
                                       deliver="html", now=created)  # cheaper to render than a PDF
    start = tmp_path / "go"
    with smtp_server() as (inbox, port):
        inbox.delay = 0.05  # each message takes a moment, so the processes overlap
        environment = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False),
                       "CAMPAIGN_LENS_SMTP_URL": f"smtp://127.0.0.1:{port}?starttls=0&from={SENDER}"}
        processes = [subprocess.Popen([sys.executable, "-c", SENDER_PROCESS, str(start)], cwd=REPO, env=environment,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for _ in range(PROCESSES)]
        time.sleep(1.0)
        start.touch()
        results = [(p.wait(240), p.stdout.read(), p.stderr.read()) for p in processes]
    assert [rc for rc, _, _ in results] == [0] * PROCESSES, [err for _, _, err in results]
    sent_lines = [line for _, out, _ in results for line in out.splitlines() if line.startswith("Sent ")]
    assert len(sent_lines) == SCHEDULES
    assert sum(1 for _, out, _ in results if "Sent " in out) >= 2  # the work was shared, not done by one

    received = Counter(subject.split(" · ")[0] for subject in inbox.subjects())
    assert received == Counter({f"Report {number:02d}": 1 for number in range(SCHEDULES)})
    with Session(engine) as session:
        schedules = deliveries.list_schedules(session=session, workspace_id=workspace_id)
        now = datetime.now(timezone.utc)
        assert all(s.last_status == "sent" and s.claim_token is None and s.next_due_at > now for s in schedules)
        logged = [deliveries.list_attempts(session=session, schedule_id=s.id) for s in schedules]
    assert [[a.outcome for a in attempts] for attempts in logged] == [["sent"]] * SCHEDULES
