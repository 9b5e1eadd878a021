"""Sending scheduled reports: what `python -m reports deliver` and the app's "Send now" run.

    results = deliver_due(engine, smtp=smtp_settings())      # every delivery due now, each exactly once

Each due delivery is claimed (`reports.deliveries.claim_due`), its report built from the database and
rendered, the claim renewed, the email sent outside any transaction, and the outcome recorded against
the claim (`finish_delivery`). A failure never loses a delivery silently: a temporary one (no answer
from the mail server, a 4xx reply) is retried later with back-off, a permanent one (a 5xx reply, a
report that cannot be built) is recorded as failed with its sentence, and the app shows both.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import Engine
from sqlmodel import Session

from metrics.errors import CampaignLensError, UsageError
from models import repository
from models.settings import load_settings
from models.tables import utcnow
from reports import deliveries
from reports.mail import MailError, SmtpSettings, build_email, report_attachment, send
from reports.model import Report
from reports.stored import live_report, snapshot_report

_LOGGER = logging.getLogger(__name__)
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class DeliveryResult:
    """One attempt of this run: the schedule, what happened ("sent", "retrying", "failed", or "lost" when
    this process no longer held the claim), the error sentence and when it is tried again."""

    schedule_id: int
    title: str
    outcome: str
    recipients: int = 0
    error: str | None = None
    retry_at: datetime | None = None

    def describe(self) -> str:
        name = f"“{self.title}” (schedule {self.schedule_id})"
        if self.outcome == "sent":
            count = f"{self.recipients} recipient{'s' if self.recipients != 1 else ''}"
            return f"Sent {name} to {count}." + (f" {self.error}" if self.error else "")
        if self.outcome == "retrying":
            return f"Not sent {name}; trying again at {self.retry_at:%Y-%m-%d %H:%M} UTC: {self.error}"
        if self.outcome == "lost":
            return f"Left {name} to another process: this one's claim ended before the email went out."
        return f"Failed {name}: {self.error}"


@dataclass(frozen=True)
class _Prepared:
    message: EmailMessage
    link_id: int | None


def message_id(claim: deliveries.Claim, sender: str) -> str:
    """The same Message-ID for every attempt at one scheduled moment, so mail systems can drop a copy
    (after a crash between the server's "accepted" and the recorded outcome)."""
    origin = hashlib.sha256(f"{claim.schedule_id}:{claim.created_at.isoformat()}".encode()).hexdigest()[:12]
    return f"<report.{claim.schedule_id}.{claim.slot_at:%Y%m%dT%H%M%SZ}.{origin}@{sender.rsplit('@', 1)[1]}>"


def build_schedule_report(session: Session, claim: deliveries.Claim, *, generated_at: datetime) -> Report:
    """The report a schedule sends: its snapshot's, or the workspace's latest data for its period counted
    from the client's local date at the scheduled moment (a late run reports the same period)."""
    if claim.snapshot_id is not None:
        return snapshot_report(session=session, snapshot_id=claim.snapshot_id, workspace_id=claim.workspace_id,
                               title=claim.title, generated_at=generated_at)
    return live_report(session=session, workspace_id=claim.workspace_id, period=claim.period,  # type: ignore[arg-type]
                       today=claim.local_day, title=claim.title, generated_at=generated_at)


def _prepare(session: Session, claim: deliveries.Claim, smtp: SmtpSettings, now: datetime,
             msg_id: str | None) -> _Prepared:
    report = build_schedule_report(session, claim, generated_at=now)
    if claim.deliver != "link":
        attachment = report_attachment(report, claim.deliver)  # type: ignore[arg-type]
        return _Prepared(build_email(report, sender=smtp.sender, recipients=claim.recipients, attachment=attachment,
                                     message_id=msg_id), None)
    settings = load_settings()
    if settings.public_url is None:
        raise UsageError("Emailed links need the app's public address; set CAMPAIGN_LENS_PUBLIC_URL.")
    link, token = repository.create_share_link(
        session=session, snapshot_id=claim.snapshot_id, workspace_id=claim.workspace_id,  # type: ignore[arg-type]
        label=f"Emailed: {claim.title}"[:200], expires_in_days=claim.link_days)
    try:
        message = build_email(report, sender=smtp.sender, recipients=claim.recipients,
                              link=settings.share_url(token), message_id=msg_id)
    except BaseException:
        repository.revoke_share_link(session=session, link_id=link.id)
        raise
    return _Prepared(message, link.id)


def _failure(error: BaseException) -> tuple[str, bool]:
    """(sentence, temporary) for anything that stopped a delivery."""
    if isinstance(error, MailError):
        return str(error), error.temporary
    if isinstance(error, CampaignLensError):  # the report cannot be built as scheduled: retrying will not help
        return str(error), False
    _LOGGER.exception("A scheduled report could not be delivered")
    return (f"Unexpected error ({type(error).__name__}) while preparing or sending the report; the server log has "
            "the details. It will be tried again."), True


@dataclass(frozen=True)
class _Attempt:
    sent: bool
    error: str | None = None
    temporary: bool = False
    delivered_to: int = 0
    lost: bool = False


def _attempt(engine: Engine, claim: deliveries.Claim, smtp: SmtpSettings, started: datetime, msg_id: str,
             still_mine: Callable[[Session], bool] | None) -> _Attempt:
    """Build and send the claim's email; `still_mine` is asked (in the building session) right before sending."""
    prepared: _Prepared | None = None
    try:
        with Session(engine) as session:
            prepared = _prepare(session, claim, smtp, started, msg_id)
            if still_mine is not None and not still_mine(session):
                if prepared.link_id is not None:
                    repository.revoke_share_link(session=session, link_id=prepared.link_id)
                return _Attempt(sent=False, lost=True)
        refused = send(prepared.message, smtp)
    except Exception as failure:  # every failure is recorded; KeyboardInterrupt leaves the claim to expire
        error, temporary = _failure(failure)
        if prepared is not None and prepared.link_id is not None:
            _revoke_quietly(engine, prepared.link_id)
        return _Attempt(sent=False, error=error, temporary=temporary)
    error = ("The mail server refused " + "; ".join(f"{address} ({reply})" for address, reply in refused.items())
             + ".") if refused else None
    return _Attempt(sent=True, error=error, delivered_to=len(claim.recipients) - len(refused))


def deliver_claim(engine: Engine, claim: deliveries.Claim, *, smtp: SmtpSettings, clock: Clock = utcnow,
                  lease: timedelta = deliveries.LEASE, max_attempts: int = deliveries.MAX_ATTEMPTS,
                  backoff_base: timedelta = deliveries.BACKOFF_BASE) -> DeliveryResult:
    """Build, send and record one claimed delivery."""
    started = clock()
    msg_id = message_id(claim, smtp.sender)

    def still_mine(session: Session) -> bool:
        if deliveries.renew_claim(session=session, claim=claim, now=clock(), lease=lease) is not None:
            return True
        deliveries.release_claim(session=session, claim=claim)  # paused meanwhile: give it back (no-op if taken)
        return False

    attempt = _attempt(engine, claim, smtp, started, msg_id, still_mine)
    if attempt.lost:
        return DeliveryResult(claim.schedule_id, claim.title, "lost")
    with Session(engine) as session:
        finished = deliveries.finish_delivery(
            session=session, claim=claim, sent=attempt.sent, error=attempt.error, temporary=attempt.temporary,
            started_at=started, now=clock(), recipients=attempt.delivered_to, message_id=msg_id,
            max_attempts=max_attempts, backoff_base=backoff_base)
    return DeliveryResult(claim.schedule_id, claim.title, finished.outcome, attempt.delivered_to, attempt.error,
                          finished.retry_at)


def _revoke_quietly(engine: Engine, link_id: int) -> None:
    """A link made for an email that did not go out must not stay usable."""
    try:
        with Session(engine) as session:
            repository.revoke_share_link(session=session, link_id=link_id)
    except Exception:
        _LOGGER.exception("An unsent report link could not be revoked")


def deliver_due(engine: Engine, *, smtp: SmtpSettings, clock: Clock = utcnow, lease: timedelta = deliveries.LEASE,
                max_attempts: int = deliveries.MAX_ATTEMPTS, backoff_base: timedelta = deliveries.BACKOFF_BASE,
                limit: int | None = None, stopping: Callable[[], bool] = lambda: False) -> list[DeliveryResult]:
    """Send every delivery due now (at most `limit`), one claim at a time, and return what happened;
    `stopping` is asked before each claim (a delivery in hand is always finished).

    Several processes may run this at once (cron on two machines, replicas): each due delivery goes to
    exactly one of them."""
    results: list[DeliveryResult] = []
    while (limit is None or len(results) < limit) and not stopping():
        with Session(engine) as session:
            claim = deliveries.claim_due(session=session, now=clock(), lease=lease)
        if claim is None:
            break
        results.append(deliver_claim(engine, claim, smtp=smtp, clock=clock, lease=lease,
                                     max_attempts=max_attempts, backoff_base=backoff_base))
    return results


def send_now(engine: Engine, *, schedule_id: int, workspace_id: int, smtp: SmtpSettings,
             clock: Clock = utcnow) -> DeliveryResult:
    """"Send now": the schedule's report to its recipients at once, as a test. Logged; the schedule's
    next delivery and status do not change. A link sent this way is a new, real client link."""
    started = clock()
    with Session(engine) as session:
        schedule = deliveries.get_schedule(session=session, schedule_id=schedule_id, workspace_id=workspace_id)
        if schedule is None:
            raise repository.NotFoundError(f"Schedule {schedule_id} does not exist; it may have been deleted.")
        claim = deliveries.unclaimed(schedule, now=started)
    msg_id = email.utils.make_msgid(domain=smtp.sender.rsplit("@", 1)[1])
    attempt = _attempt(engine, claim, smtp, started, msg_id, None)
    with Session(engine) as session:
        deliveries.log_manual_send(session=session, schedule_id=schedule_id, started_at=started, sent=attempt.sent,
                                   error=attempt.error, recipients=attempt.delivered_to, message_id=msg_id,
                                   now=clock())
    return DeliveryResult(schedule_id, claim.title, "sent" if attempt.sent else "failed", attempt.delivered_to,
                          attempt.error)
