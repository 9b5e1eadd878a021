"""Scheduled delivery on SQLite and PostgreSQL against a real SMTP server the test starts (aiosmtpd on
127.0.0.1): what a client receives and when, retries, crashed senders, and schedules people type wrong.

Clocks are fixed moments passed to the delivery run, so "late", "retry in 5 minutes" and "the lease has
ended" are exact. Expected due moments are worked out by hand from the zones' published offsets
(Berlin: CET = UTC+1 until 29 Mar 2026 02:00, CEST = UTC+2 until 25 Oct 2026 03:00)."""

from __future__ import annotations

import hashlib
import io
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser

import polars as pl
import pytest
from pypdf import PdfReader
from sqlmodel import Session, func, select

from metrics.display import format_value
from metrics.report_settings import ReportFilters, ReportSettings
from models import repository
from models.tables import DeliveryAttempt, DeliverySchedule
from reports import deliveries
from reports.deliver import deliver_due, send_now
from reports.mail import SmtpSettings
from reports.schedule import Cadence, ScheduleError
from tests.smtp_server import smtp_server

SENDER = "reports@agency.example"
CLIENT = "client@acme.example"
WEEKLY = Cadence.weekly("monday", "09:00", "Europe/Berlin")
CREATED = datetime(2026, 1, 7, 12, tzinfo=timezone.utc)  # a Wednesday
FIRST_SLOT = datetime(2026, 1, 12, 8, tzinfo=timezone.utc)  # Monday 12 Jan, 09:00 CET
# Saved filters no row matches: the report is a cover and a note, so no chart engine starts.
QUIET = ReportSettings(filters=ReportFilters(platforms=("snapchat",))).to_dict()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.fixture
def smtp():
    with smtp_server() as (inbox, port):
        yield inbox, SmtpSettings.from_url(f"smtp://127.0.0.1:{port}?starttls=0&from={SENDER}&timeout=5")


def january() -> pl.DataFrame:
    """Spend 10, 11, … 40 on facebook and twice that on tiktok, every day of January 2026, in EUR."""
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(31)]
    return pl.DataFrame({
        "date": days * 2, "platform": ["facebook"] * 31 + ["tiktok"] * 31, "campaign": ["Winter"] * 62,
        "spend": [10.0 + i for i in range(31)] + [2 * (10.0 + i) for i in range(31)],
        "impressions": [1000.0] * 62, "clicks": [50.0] * 62, "currency": ["EUR"] * 62,
    })


def saved_snapshot(session: Session, settings=QUIET, name: str = "January review") -> tuple[int, int]:
    workspace_id = repository.ensure_workspace(session=session).id
    snapshot = repository.save_snapshot(session=session, workspace_id=workspace_id, name=name, frame=january(),
                                        settings=settings, client_label="Acme")
    return workspace_id, snapshot.id


def new_schedule(session: Session, workspace_id: int, snapshot_id: int | None, *, cadence=WEEKLY, now=CREATED,
                 **options) -> DeliverySchedule:
    options = {"title": "Weekly report", "recipients": [CLIENT], "deliver": "pdf", **options}
    return deliveries.create_schedule(session=session, workspace_id=workspace_id, snapshot_id=snapshot_id,
                                      cadence=cadence, now=now, **options)


def run(engine, smtp_settings: SmtpSettings, at: datetime, **options):
    return deliver_due(engine, smtp=smtp_settings, clock=lambda: at, **options)


def stored(engine, schedule_id: int) -> DeliverySchedule:
    with Session(engine) as session:
        return deliveries.get_schedule(session=session, schedule_id=schedule_id)


def log(engine, schedule_id: int) -> list[DeliveryAttempt]:
    with Session(engine) as session:
        return list(reversed(deliveries.list_attempts(session=session, schedule_id=schedule_id)))


def test_a_due_report_goes_out_once_with_the_pdf_and_the_schedule_moves_a_week_on(engine, session, smtp):
    inbox, settings = smtp
    workspace_id, snapshot_id = saved_snapshot(session)
    schedule = new_schedule(session, workspace_id, snapshot_id)
    assert schedule.next_due_at == FIRST_SLOT

    assert run(engine, settings, FIRST_SLOT - timedelta(seconds=1)) == []  # not yet
    [result] = run(engine, settings, FIRST_SLOT + timedelta(seconds=30))
    assert (result.outcome, result.recipients) == ("sent", 1)
    assert run(engine, settings, FIRST_SLOT + timedelta(minutes=1)) == []  # sent already: never twice

    [message] = inbox.messages
    assert message["To"] == CLIENT and message["Subject"].startswith("Weekly report · ")
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "Weekly-report.pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(attachment.get_content())).pages)
    assert "Weekly report" in text and "Acme" in text
    after = stored(engine, schedule.id)
    assert (after.last_status, after.last_error, after.claim_token) == ("sent", None, None)
    assert after.last_sent_at == FIRST_SLOT + timedelta(seconds=30)
    assert after.next_due_at == FIRST_SLOT + timedelta(weeks=1)
    [entry] = log(engine, schedule.id)
    assert (entry.outcome, entry.slot_at, entry.recipients, entry.message_id) == (
        "sent", FIRST_SLOT, 1, message["Message-ID"])


def test_a_late_run_does_not_drift_and_sends_one_copy_after_a_long_outage(engine, session, smtp):
    inbox, settings = smtp
    workspace_id, snapshot_id = saved_snapshot(session)
    schedule = new_schedule(session, workspace_id, snapshot_id)
    run(engine, settings, utc(2026, 1, 12, 10, 37))  # 2 h 37 min late
    assert stored(engine, schedule.id).next_due_at == utc(2026, 1, 19, 8)  # still Monday 09:00, not 11:37
    # Nobody ran the command for three weeks: one report now, then the next Monday, not three stale copies.
    run(engine, settings, utc(2026, 2, 4, 15))
    assert len(inbox.messages) == 2
    assert stored(engine, schedule.id).next_due_at == utc(2026, 2, 9, 8)


def test_a_refusing_mail_server_means_a_retry_with_back_off_until_it_accepts(engine, session, smtp):
    inbox, settings = smtp
    workspace_id, snapshot_id = saved_snapshot(session)
    schedule = new_schedule(session, workspace_id, snapshot_id)
    inbox.refuse_data = "421 4.3.0 Mailbox server busy, try again later"

    [first] = run(engine, settings, FIRST_SLOT)
    assert first.outcome == "retrying" and inbox.messages == []
    waiting = stored(engine, schedule.id)
    assert "421 4.3.0 Mailbox server busy" in waiting.last_error
    assert waiting.retry_at == FIRST_SLOT + timedelta(minutes=5)  # the first back-off
    assert waiting.next_due_at == FIRST_SLOT and deliveries.status_of(waiting, FIRST_SLOT) == "retrying"
    [second] = run(engine, settings, FIRST_SLOT + timedelta(minutes=5))
    assert second.outcome == "retrying"
    assert stored(engine, schedule.id).retry_at == FIRST_SLOT + timedelta(minutes=5 + 10)  # doubled

    inbox.refuse_data = None
    assert run(engine, settings, FIRST_SLOT + timedelta(minutes=14)) == []  # the back-off holds
    [third] = run(engine, settings, FIRST_SLOT + timedelta(minutes=15))
    assert third.outcome == "sent" and len(inbox.messages) == 1
    done = stored(engine, schedule.id)
    assert (done.last_status, done.last_error, done.retry_at, done.attempts) == ("sent", None, None, 0)
    assert done.next_due_at == FIRST_SLOT + timedelta(weeks=1)  # from the slot, not from the late success
    entries = log(engine, schedule.id)
    assert [(e.outcome, e.attempt) for e in entries] == [("retrying", 1), ("retrying", 2), ("sent", 3)]
    assert all("421" in e.error for e in entries[:2]) and entries[2].error is None
    # Every attempt carries the Message-ID the delivered email has: a copy is recognisable as one.
    assert {e.message_id for e in entries} == {inbox.messages[0]["Message-ID"]}


def test_temporary_failures_become_failed_after_the_last_attempt_and_the_next_week_is_kept(engine, session, smtp):
    inbox, settings = smtp
    workspace_id, snapshot_id = saved_snapshot(session)
    schedule = new_schedule(session, workspace_id, snapshot_id)
    inbox.refuse_data = "451 4.3.0 Temporary local problem"
    options = dict(max_attempts=3, backoff_base=timedelta(minutes=1))
    outcomes = [run(engine, settings, FIRST_SLOT + timedelta(minutes=m), **options) for m in (0, 1, 3)]
    assert [[r.outcome for r in results] for results in outcomes] == [["retrying"], ["retrying"], ["failed"]]
    failed = stored(engine, schedule.id)
    assert failed.last_status == "failed" and "451 4.3.0 Temporary local problem" in failed.last_error
    assert (failed.retry_at, failed.next_due_at) == (None, FIRST_SLOT + timedelta(weeks=1))
    assert deliveries.status_of(failed, FIRST_SLOT) == "failed"


def test_a_permanent_refusal_fails_at_once_with_its_reason(engine, session, smtp):
    inbox, settings = smtp
    workspace_id, snapshot_id = saved_snapshot(session)
    schedule = new_schedule(session, workspace_id, snapshot_id, recipients=["gone@refused.example"])
    [result] = run(engine, settings, FIRST_SLOT)
    assert result.outcome == "failed" and inbox.messages == []
    failed = stored(engine, schedule.id)
    assert failed.last_error == ("The mail server refused every recipient (gone@refused.example: 550 5.1.1 no such "
                                 "mailbox).")
    assert failed.next_due_at == FIRST_SLOT + timedelta(weeks=1)


def test_a_crashed_senders_claim_expires_and_the_delivery_goes_out_once_later(engine, session, smtp):
    inbox, settings = smtp
    workspace_id, snapshot_id = saved_snapshot(session)
    schedule = new_schedule(session, workspace_id, snapshot_id)
    with Session(engine) as crashed:  # claims, then dies before sending anything
        lost = deliveries.claim_due(session=crashed, now=FIRST_SLOT)
    assert lost is not None and lost.schedule_id == schedule.id
    assert deliveries.status_of(stored(engine, schedule.id), FIRST_SLOT) == "sending"

    assert run(engine, settings, FIRST_SLOT + deliveries.LEASE - timedelta(seconds=1)) == []  # still held
    [result] = run(engine, settings, FIRST_SLOT + deliveries.LEASE)
    assert result.outcome == "sent" and len(inbox.messages) == 1
    assert run(engine, settings, FIRST_SLOT + deliveries.LEASE + timedelta(minutes=1)) == []

    # The crashed process coming back to life cannot record over the delivery that happened.
    with Session(engine) as late:
        finished = deliveries.finish_delivery(session=late, claim=lost, sent=False, error="late", temporary=True,
                                              started_at=FIRST_SLOT, now=FIRST_SLOT + timedelta(minutes=20))
    assert not finished.held
    after = stored(engine, schedule.id)
    assert (after.last_status, after.next_due_at, after.retry_at) == ("sent", FIRST_SLOT + timedelta(weeks=1), None)


def test_a_paused_schedule_sends_nothing_and_resumes_from_its_next_moment(engine, session, smtp):
    inbox, settings = smtp
    workspace_id, snapshot_id = saved_snapshot(session)
    schedule = new_schedule(session, workspace_id, snapshot_id)
    deliveries.set_schedule_enabled(session=session, schedule_id=schedule.id, enabled=False, now=CREATED)
    assert run(engine, settings, FIRST_SLOT + timedelta(days=10)) == []
    resumed = deliveries.set_schedule_enabled(session=session, schedule_id=schedule.id, enabled=True,
                                              now=FIRST_SLOT + timedelta(days=10))
    assert resumed.next_due_at == utc(2026, 1, 26, 8)  # what fell due while paused is not sent
    run(engine, settings, utc(2026, 1, 26, 8))
    assert len(inbox.messages) == 1


@pytest.mark.parametrize(("cadence", "created", "expected"), [
    # The 31st at 09:00 Berlin: 31 Jan (CET), then 28 Feb, then 31 Mar, after the clocks went forward (CEST).
    (Cadence.monthly(31, "09:00", "Europe/Berlin"), utc(2026, 1, 15),
     [utc(2026, 1, 31, 8), utc(2026, 2, 28, 8), utc(2026, 3, 31, 7), utc(2026, 4, 30, 7)]),
    # The last day: 29 February in a leap year.
    (Cadence.monthly("last", "09:00", "Europe/Berlin"), utc(2028, 1, 31, 9),
     [utc(2028, 2, 29, 8), utc(2028, 3, 31, 7)]),
    # Sunday 02:30 Berlin across both changes: the skipped 02:30 of 29 March is read at CET (01:30 UTC), the
    # repeated 02:30 of 25 October is its first occurrence (00:30 UTC) and is not due again an hour later.
    (Cadence.weekly("sunday", "02:30", "Europe/Berlin"), utc(2026, 3, 25),
     [utc(2026, 3, 29, 1, 30), utc(2026, 4, 5, 0, 30)]),
    (Cadence.weekly("sunday", "02:30", "Europe/Berlin"), utc(2026, 10, 20),
     [utc(2026, 10, 25, 0, 30), utc(2026, 11, 1, 1, 30)]),
])
def test_month_ends_and_daylight_saving_through_the_stored_schedule(engine, session, smtp, cadence, created, expected):
    inbox, settings = smtp
    workspace_id, snapshot_id = saved_snapshot(session)
    schedule = new_schedule(session, workspace_id, snapshot_id, cadence=cadence, now=created)
    seen = [stored(engine, schedule.id).next_due_at]
    for _ in expected[1:]:
        assert run(engine, settings, seen[-1] - timedelta(seconds=1)) == []
        [result] = run(engine, settings, seen[-1])
        assert result.outcome == "sent"
        seen.append(stored(engine, schedule.id).next_due_at)
    assert seen == expected
    assert len(inbox.messages) == len(expected) - 1


@pytest.mark.parametrize(("change", "phrase"), [
    (dict(recipients=["client@acme"]), "'client@acme' is not an email address"),
    (dict(recipients=["a@acme.example, b@acme.example"]), "is not an email address"),
    (dict(recipients=["boss@acme.example\nBcc: all@acme.example"]), "is not an email address"),
    (dict(recipients=[]), "at least one recipient"),
    (dict(cadence={"cadence": "weekly", "weekday": "monday", "time": "09:00", "timezone": "Europe/Berln"}),
     "'Europe/Berln' is not a time zone"),
    (dict(cadence={"cadence": "fortnightly", "time": "09:00", "timezone": "UTC"}),
     "'fortnightly' is not weekly or monthly"),
    (dict(cadence={"cadence": "monthly", "day": 32, "time": "09:00", "timezone": "UTC"}),
     "'32' is not a day of the month"),
    (dict(cadence={"cadence": "weekly", "weekday": "monday", "time": "25:00", "timezone": "UTC"}),
     "'25:00' is not a time of day"),
    (dict(deliver="fax"), "'fax' is not something a schedule can send"),
    (dict(title="  "), "Give the schedule a title"),
])
def test_a_schedule_typed_wrong_is_refused_with_one_sentence_and_nothing_changes(engine, session, change, phrase):
    workspace_id, snapshot_id = saved_snapshot(session)
    with pytest.raises(ScheduleError, match=phrase) as created:
        new_schedule(session, workspace_id, snapshot_id, **change)
    assert str(created.value).count(". ") == 0 and str(created.value).endswith(".")  # one sentence
    assert session.exec(select(func.count()).select_from(DeliverySchedule)).one() == 0

    kept = new_schedule(session, workspace_id, snapshot_id)
    with pytest.raises(ScheduleError, match=phrase):
        deliveries.update_schedule(session=session, schedule_id=kept.id, workspace_id=workspace_id, **change)
    session.rollback()
    again = stored(engine, kept.id)
    assert (again.recipients, again.cadence, again.deliver, again.title) == (
        [CLIENT], WEEKLY.to_dict(), "pdf", "Weekly report")


def test_a_live_report_needs_a_period_and_a_link_needs_a_snapshot(session, monkeypatch):
    workspace_id, _ = saved_snapshot(session)
    with pytest.raises(ScheduleError, match="'yesterday' is not a report period"):
        new_schedule(session, workspace_id, None, period="yesterday")
    monkeypatch.setenv("CAMPAIGN_LENS_PUBLIC_URL", "https://reports.agency.example")
    with pytest.raises(ScheduleError, match="a live report cannot be sent as a link"):
        new_schedule(session, workspace_id, None, period="last_month", deliver="link")


def test_an_emailed_link_opens_the_snapshot_and_expires_as_set(engine, session, smtp, monkeypatch):
    inbox, settings = smtp
    monkeypatch.setenv("CAMPAIGN_LENS_PUBLIC_URL", "https://reports.agency.example")
    workspace_id, snapshot_id = saved_snapshot(session)
    schedule = new_schedule(session, workspace_id, snapshot_id, deliver="link", link_days=7)
    [result] = run(engine, settings, FIRST_SLOT)
    assert result.outcome == "sent"
    [message] = inbox.messages
    assert list(message.iter_attachments()) == []
    text = message.get_body(("plain",)).get_content()
    token = text.split("https://reports.agency.example/?share=", 1)[1].split()[0]
    with Session(engine) as reader:
        link = repository.resolve_share_token(session=reader, token=token, count_view=False)
        assert link is not None and link.snapshot_id == snapshot_id
        assert link.expires_at - link.created_at == timedelta(days=7)

    # A link made for an email that did not go out is revoked at once.
    inbox.refuse_data = "421 4.3.0 try later"
    run(engine, settings, FIRST_SLOT + timedelta(weeks=1))
    with Session(engine) as reader:
        links = repository.list_share_links(session=reader, snapshot_id=snapshot_id)
    assert [link.status for link in links] == ["revoked", "active"]  # newest first
    assert stored(engine, schedule.id).last_status == "retrying"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def test_a_live_report_covers_last_month_as_of_the_scheduled_day(engine, session, smtp):
    """Monthly on the 1st at 09:00 Berlin, "last month": delivered on 1 Feb it reports January only."""
    inbox, settings = smtp
    workspace_id = repository.ensure_workspace(session=session).id
    february = pl.DataFrame({"date": [date(2026, 2, 1)], "platform": ["facebook"], "campaign": ["Spring"],
                             "spend": [999.0], "impressions": [5.0], "clicks": [1.0], "currency": ["EUR"]})
    for name, frame in (("january.csv", january()), ("february.csv", february)):
        repository.store_upload(session=session, workspace_id=workspace_id, target="new", upload=repository.SourceUpload(
            file_name=name, sha256=hashlib.sha256(name.encode()).hexdigest(), size=1, frame=frame,
            report={"source_format": "generic", "mapping": {}}))
    schedule = new_schedule(session, workspace_id, None, period="last_month", deliver="html", title="Monthly report",
                            cadence=Cadence.monthly(1, "09:00", "Europe/Berlin"), now=utc(2026, 1, 20))
    assert schedule.next_due_at == utc(2026, 2, 1, 8)
    [result] = run(engine, settings, utc(2026, 2, 1, 8, 5))
    assert result.outcome == "sent"
    [message] = inbox.messages
    assert message["Subject"] == "Monthly report · 1 – 31 Jan 2026"
    [attachment] = message.iter_attachments()
    parser = _Text()
    parser.feed(attachment.get_content())
    text = " ".join(parser.parts)
    january_spend = sum(10.0 + i for i in range(31)) * 3  # facebook's and tiktok's, by hand
    assert format_value(january_spend, "currency", "EUR") in text
    assert format_value(january_spend + 999.0, "currency", "EUR") not in text


def test_send_now_sends_a_test_without_moving_the_schedule(engine, session, smtp):
    inbox, settings = smtp
    workspace_id, snapshot_id = saved_snapshot(session)
    schedule = new_schedule(session, workspace_id, snapshot_id, deliver="html")
    result = send_now(engine, schedule_id=schedule.id, workspace_id=workspace_id, smtp=settings)
    assert (result.outcome, result.recipients, len(inbox.messages)) == ("sent", 1, 1)
    after = stored(engine, schedule.id)
    assert (after.next_due_at, after.last_status) == (FIRST_SLOT, None)
    [entry] = log(engine, schedule.id)
    assert entry.manual and entry.outcome == "sent" and entry.slot_at is None
    other = repository.create_workspace(session=session, name="Other client").id
    with pytest.raises(repository.NotFoundError):  # another workspace's schedule is not reachable
        send_now(engine, schedule_id=schedule.id, workspace_id=other, smtp=settings)


def test_deleting_the_snapshot_or_the_workspace_deletes_its_schedules_and_their_log(engine, session, smtp):
    inbox, settings = smtp
    workspace_id, snapshot_id = saved_snapshot(session)
    first = new_schedule(session, workspace_id, snapshot_id).id
    live = new_schedule(session, workspace_id, None, period="last_7_days").id
    # The editor is told what deleting the workspace would take with it.
    assert repository.workspace_contents(session=session, workspace_id=workspace_id).describe() == (
        "0 sources, 1 snapshot, 0 client links, 2 email schedules")
    run(engine, settings, FIRST_SLOT)
    assert repository.delete_snapshot(session=session, snapshot_id=snapshot_id)
    with Session(engine) as reader:
        assert deliveries.get_schedule(session=reader, schedule_id=first) is None
        assert [s.id for s in deliveries.list_schedules(session=reader, workspace_id=workspace_id)] == [live]
    assert repository.delete_workspace(session=session, workspace_id=workspace_id)
    with Session(engine) as reader:
        assert reader.exec(select(func.count()).select_from(DeliverySchedule)).one() == 0
        assert reader.exec(select(func.count()).select_from(DeliveryAttempt)).one() == 0
