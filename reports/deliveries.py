"""Stored report schedules and their delivery log: keyword-only functions with an explicit session.

    schedule = create_schedule(session=session, workspace_id=3, title="Weekly report", snapshot_id=7,
                               cadence=Cadence.weekly("monday", "09:00", "Europe/Berlin"),
                               recipients=["client@acme.example"], deliver="pdf")

What people type is checked here (and refused with one sentence, `ScheduleError`): the cadence and its
time zone, every address, what to send. The tables live in `models.tables` (`DeliverySchedule`,
`DeliveryAttempt`); this module sits in `reports/` because it validates with `reports.schedule`, and
`models/` never imports upward.

**Exactly once.** A delivery is due when its schedule is enabled, its moment (`next_due_at`, or
`retry_at` after a temporary failure) has come, and nobody holds a live claim on it. `claim_due` takes
one due row atomically and sets a random claim token with a lease (`claimed_until`):

- PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED` picks a due row no other transaction holds, and the same
  short transaction writes the claim, so two processes can never pick the same row;
- SQLite (one writer at a time): a conditional `UPDATE … WHERE id = ? AND <still due and unclaimed>`;
  only the process whose UPDATE changed the row (rowcount 1) owns it.

The sender then renders and sends outside any transaction, and `finish_delivery` records the outcome
only `WHERE claim_token = <its token>`, moving `next_due_at` on from the schedule's own slot (not from
"now", so a late run does not drift; a run late by more than one period skips the missed ones rather
than sending stale copies). A process that dies holding a claim leaves it to expire: after the lease
the delivery is due again. Temporary failures retry with exponential back-off (`retry_at`), up to
`MAX_ATTEMPTS`; then, or at once for a permanent failure, the delivery is marked failed with its error
and the schedule goes on to its next moment.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import repository
from models.repository import KEEP, NotFoundError, _Keep
from models.settings import MAX_SHARE_DAYS, load_settings
from models.tables import DeliveryAttempt, DeliverySchedule, utcnow
from reports.schedule import Cadence, LivePeriod, ScheduleError, check_period, next_due, validate_recipients

Deliver = Literal["pdf", "html", "link"]
Outcome = Literal["sent", "retrying", "failed"]
DELIVER_CHOICES: dict[str, str] = {"pdf": "PDF attached", "html": "HTML attached", "link": "A new client link"}
TITLE_MAX_LENGTH = 200
ERROR_MAX_LENGTH = 500
# A claim outlives the slowest render + send by far (SMTP replies time out after 30 s by default); a
# process that died holding one leaves the delivery to the next run after this long.
LEASE = timedelta(minutes=10)
# Temporary failures are retried after 5, 10, 20, 40, 80, 160 and 240 minutes (about 9 hours in all)
# before the delivery counts as failed.
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_CAP = timedelta(hours=4)
# SQLite: due rows one claim tries before saying nothing is due (others may take some meanwhile).
CANDIDATES_PER_CLAIM = 8


def backoff(failed_attempts: int, *, base: timedelta = BACKOFF_BASE, cap: timedelta = BACKOFF_CAP) -> timedelta:
    """How long to wait after the `failed_attempts`-th failure (1, 2, …): base × 2^(n−1), at most `cap`."""
    return min(base * (2 ** max(failed_attempts - 1, 0)), cap)


# --- validation ---------------------------------------------------------------------------------------


def _clean_title(value: object) -> str:
    title = " ".join(str(value or "").split())
    if not title:
        raise ScheduleError("Give the schedule a title; it is the email's subject and the report's title.")
    if len(title) > TITLE_MAX_LENGTH:
        raise ScheduleError(f"The title is longer than {TITLE_MAX_LENGTH} characters; shorten it.")
    return title


def _clean_cadence(value: Cadence | Mapping[str, Any]) -> Cadence:
    return value if isinstance(value, Cadence) else Cadence.from_dict(value)


def _clean_deliver(value: object) -> Deliver:
    if value not in DELIVER_CHOICES:
        raise ScheduleError(f"{str(value)[:20]!r} is not something a schedule can send; pick a PDF, an HTML file "
                            "or a client link.")
    return value  # type: ignore[return-value]


def _clean_link_days(value: object) -> int | None:
    if value is None:
        return None
    try:
        days = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        days = 0
    if isinstance(value, bool) or not 1 <= days <= MAX_SHARE_DAYS:
        raise ScheduleError(f"A link sent by email must stay valid for 1 to {MAX_SHARE_DAYS} days.")
    return days


def _check_what(session: Session, workspace_id: int, snapshot_id: int | None, period: object,
                deliver: Deliver) -> LivePeriod | None:
    """The snapshot must be the workspace's; a live report needs a period; a link needs a snapshot and the
    public address the link is built on. Returns the live period (None for a snapshot)."""
    if snapshot_id is not None:
        if repository.get_snapshot(session=session, snapshot_id=snapshot_id, workspace_id=workspace_id) is None:
            raise NotFoundError(f"Snapshot {snapshot_id} is not in this workspace; it may have been deleted.")
        live = None
    else:
        live = check_period(period)
    if deliver == "link":
        if snapshot_id is None:
            raise ScheduleError("A client link opens a snapshot, so a live report cannot be sent as a link; send it "
                                "as a PDF or HTML file, or schedule a snapshot.")
        if load_settings().public_url is None:
            raise ScheduleError("Emailed links need the app's public address; set CAMPAIGN_LENS_PUBLIC_URL (e.g. "
                                "https://reports.example.com) or send a PDF or HTML file.")
    return live


# --- schedules ------------------------------------------------------------------------------------------


def create_schedule(
    *, session: Session, workspace_id: int, title: str, cadence: Cadence | Mapping[str, Any],
    recipients: Iterable[str], deliver: Deliver = "pdf", snapshot_id: int | None = None,
    period: LivePeriod | None = None, link_days: int | None = None, enabled: bool = True,
    now: datetime | None = None,
) -> DeliverySchedule:
    """A new schedule of a snapshot's report (`snapshot_id`) or of the workspace's latest data for a
    relative `period` (see `reports.schedule.LIVE_PERIODS`). Its first delivery is the cadence's first
    moment after `now`. Raises `ScheduleError` (one sentence) for anything it cannot use."""
    now = now or utcnow()
    clean = dict(title=_clean_title(title), cadence=_clean_cadence(cadence),
                 recipients=list(validate_recipients(recipients)), deliver=_clean_deliver(deliver),
                 link_days=_clean_link_days(link_days))
    if repository.get_workspace(session=session, workspace_id=workspace_id) is None:
        raise NotFoundError(f"Workspace {workspace_id} does not exist; it may have been deleted.")
    live = _check_what(session, workspace_id, snapshot_id, period, clean["deliver"])
    schedule = DeliverySchedule(
        workspace_id=workspace_id, snapshot_id=snapshot_id, period=live, title=clean["title"],
        cadence=clean["cadence"].to_dict(), recipients=clean["recipients"], deliver=clean["deliver"],
        link_days=clean["link_days"], enabled=bool(enabled), next_due_at=next_due(clean["cadence"], now),
        created_at=now, updated_at=now,
    )
    session.add(schedule)
    try:
        session.commit()
    except IntegrityError:  # the workspace or snapshot was deleted a moment ago
        session.rollback()
        raise NotFoundError("The workspace or snapshot of this schedule no longer exists.") from None
    session.refresh(schedule)
    return schedule


def get_schedule(*, session: Session, schedule_id: int, workspace_id: int | None = None) -> DeliverySchedule | None:
    statement = select(DeliverySchedule).where(DeliverySchedule.id == schedule_id)
    if workspace_id is not None:
        statement = statement.where(DeliverySchedule.workspace_id == workspace_id)
    return session.exec(statement).first()


def _require(session: Session, schedule_id: int, workspace_id: int | None) -> DeliverySchedule:
    schedule = get_schedule(session=session, schedule_id=schedule_id, workspace_id=workspace_id)
    if schedule is None:
        raise NotFoundError(f"Schedule {schedule_id} does not exist; it may have been deleted.")
    return schedule


def list_schedules(*, session: Session, workspace_id: int) -> list[DeliverySchedule]:
    """The workspace's schedules, the next due first (paused ones last)."""
    return list(session.exec(
        select(DeliverySchedule).where(DeliverySchedule.workspace_id == workspace_id)
        .order_by(col(DeliverySchedule.enabled).desc(), col(DeliverySchedule.next_due_at), col(DeliverySchedule.id))
    ).all())


def update_schedule(
    *, session: Session, schedule_id: int, workspace_id: int | None = None, title: str | _Keep = KEEP,
    cadence: Cadence | Mapping[str, Any] | _Keep = KEEP, recipients: Iterable[str] | _Keep = KEEP,
    deliver: Deliver | _Keep = KEEP, period: LivePeriod | _Keep = KEEP, link_days: int | None | _Keep = KEEP,
    now: datetime | None = None,
) -> DeliverySchedule:
    """Change a schedule. A new cadence (or time, or time zone) starts from its first moment after `now`
    and forgets a pending retry; an edit while a delivery is being sent keeps the edited timing."""
    now = now or utcnow()
    schedule = _require(session, schedule_id, workspace_id)
    if not isinstance(title, _Keep):
        schedule.title = _clean_title(title)
    if not isinstance(recipients, _Keep):
        schedule.recipients = list(validate_recipients(recipients))
    chosen_deliver = schedule.deliver if isinstance(deliver, _Keep) else _clean_deliver(deliver)
    if not isinstance(link_days, _Keep):
        schedule.link_days = _clean_link_days(link_days)
    chosen_period = schedule.period if isinstance(period, _Keep) else period
    live = _check_what(session, schedule.workspace_id, schedule.snapshot_id, chosen_period, chosen_deliver)
    schedule.deliver, schedule.period = chosen_deliver, live
    if not isinstance(cadence, _Keep):
        clean = _clean_cadence(cadence)
        if clean.to_dict() != schedule.cadence:
            schedule.cadence = clean.to_dict()
            schedule.next_due_at, schedule.retry_at, schedule.attempts = next_due(clean, now), None, 0
    return _save_edit(session, schedule, now)


def _save_edit(session: Session, schedule: DeliverySchedule, now: datetime) -> DeliverySchedule:
    """Store an edit: a new revision, so an outcome recorded for the old one keeps the edited timing."""
    schedule.revision += 1
    schedule.updated_at = now
    session.add(schedule)
    session.commit()
    session.refresh(schedule)
    return schedule


def set_schedule_enabled(*, session: Session, schedule_id: int, enabled: bool, workspace_id: int | None = None,
                         now: datetime | None = None) -> DeliverySchedule:
    """Pause or resume. Resuming starts at the cadence's next moment after `now`: what fell due while
    paused is not sent."""
    now = now or utcnow()
    schedule = _require(session, schedule_id, workspace_id)
    if schedule.enabled != bool(enabled):
        schedule.enabled = bool(enabled)
        if enabled:
            schedule.next_due_at = next_due(Cadence.from_dict(schedule.cadence), now)
            schedule.retry_at, schedule.attempts = None, 0
        _save_edit(session, schedule, now)
    return schedule


def delete_schedule(*, session: Session, schedule_id: int, workspace_id: int | None = None) -> bool:
    """Delete a schedule and its delivery log. False when it did not exist (in `workspace_id`)."""
    statement = delete(DeliverySchedule).where(col(DeliverySchedule.id) == schedule_id)
    if workspace_id is not None:
        statement = statement.where(col(DeliverySchedule.workspace_id) == workspace_id)
    result = session.exec(statement)
    session.commit()
    return result.rowcount > 0


def list_attempts(*, session: Session, schedule_id: int, limit: int = 20) -> list[DeliveryAttempt]:
    """The schedule's delivery log, newest first."""
    return list(session.exec(
        select(DeliveryAttempt).where(DeliveryAttempt.schedule_id == schedule_id)
        .order_by(col(DeliveryAttempt.started_at).desc(), col(DeliveryAttempt.id).desc()).limit(limit)
    ).all())


Status = Literal["paused", "sending", "retrying", "failed", "sent", "scheduled"]
STATUS_LABELS: dict[str, str] = {"paused": "Paused", "sending": "Sending now", "retrying": "Retrying",
                                 "failed": "Failed", "sent": "Sent", "scheduled": "Scheduled"}


def status_of(schedule: DeliverySchedule, now: datetime | None = None) -> Status:
    """What the app shows: paused; being sent (a live claim); retrying after a temporary failure; the last
    delivery failed or was sent; or scheduled (never attempted yet)."""
    now = now or utcnow()
    if not schedule.enabled:
        return "paused"
    if schedule.claim_token and schedule.claimed_until and schedule.claimed_until > now:
        return "sending"
    if schedule.retry_at is not None:
        return "retrying"
    if schedule.last_status in ("failed", "sent"):
        return schedule.last_status  # type: ignore[return-value]
    return "scheduled"


def next_attempt_at(schedule: DeliverySchedule) -> datetime:
    """When the next attempt is due: the retry time after a temporary failure, else the next moment."""
    return schedule.retry_at or schedule.next_due_at


# --- claims ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A due delivery this process holds (until `lease_until`), with what it needs to send it."""

    schedule_id: int
    token: str
    lease_until: datetime
    slot_at: datetime
    attempts: int
    revision: int
    workspace_id: int
    snapshot_id: int | None
    period: str | None
    title: str
    cadence: Mapping[str, Any]
    recipients: tuple[str, ...]
    deliver: str
    link_days: int | None
    created_at: datetime

    @property
    def attempt(self) -> int:
        """The number of this attempt at the slot (1 for the first)."""
        return self.attempts + 1

    @property
    def local_day(self) -> date:
        """The client's local date at the scheduled moment (a live report's period is counted from it)."""
        return self.slot_at.astimezone(ZoneInfo(Cadence.from_dict(self.cadence).timezone)).date()


def _due(now: datetime):
    """SQL condition: enabled, its moment has come, and no live claim on it."""
    moment = func.coalesce(DeliverySchedule.retry_at, DeliverySchedule.next_due_at)
    return and_(col(DeliverySchedule.enabled).is_(True), moment <= now,
                or_(col(DeliverySchedule.claimed_until).is_(None), col(DeliverySchedule.claimed_until) <= now))


_CLAIM_COLUMNS = (DeliverySchedule.id, DeliverySchedule.next_due_at, DeliverySchedule.attempts,
                  DeliverySchedule.revision, DeliverySchedule.workspace_id, DeliverySchedule.snapshot_id,
                  DeliverySchedule.period, DeliverySchedule.title, DeliverySchedule.cadence,
                  DeliverySchedule.recipients, DeliverySchedule.deliver, DeliverySchedule.link_days,
                  DeliverySchedule.created_at)


def _claim(row: Any, token: str, lease_until: datetime) -> Claim:
    (schedule_id, slot_at, attempts, revision, workspace_id, snapshot_id, period, title, cadence, recipients,
     deliver, link_days, created_at) = row
    return Claim(schedule_id=schedule_id, token=token, lease_until=lease_until, slot_at=slot_at, attempts=attempts,
                 revision=revision, workspace_id=workspace_id, snapshot_id=snapshot_id, period=period, title=title,
                 cadence=dict(cadence), recipients=tuple(recipients), deliver=deliver, link_days=link_days,
                 created_at=created_at)


def unclaimed(schedule: DeliverySchedule, *, now: datetime) -> Claim:
    """A schedule as a delivery due `now` that nobody claimed: what "Send now" sends."""
    row = tuple(getattr(schedule, column.key) for column in _CLAIM_COLUMNS)
    return replace(_claim(row, "", now), slot_at=now, attempts=0)


def claim_due(*, session: Session, now: datetime | None = None, lease: timedelta = LEASE) -> Claim | None:
    """Take one due delivery for this process (the earliest first), or None when nothing is due.

    Safe with any number of processes and replicas at once: each due delivery is handed to exactly one
    of them until its lease ends (see the module docstring). Commits its own short transaction."""
    now = now or utcnow()
    token = secrets.token_hex(16)
    lease_until = now + lease
    order = (func.coalesce(DeliverySchedule.retry_at, DeliverySchedule.next_due_at), col(DeliverySchedule.id))
    try:
        if session.connection().dialect.name == "postgresql":
            row = session.exec(select(*_CLAIM_COLUMNS).where(_due(now)).order_by(*order).limit(1)
                               .with_for_update(skip_locked=True, of=DeliverySchedule)).first()
            if row is None:
                session.rollback()
                return None
            session.exec(update(DeliverySchedule).where(col(DeliverySchedule.id) == row[0])
                         .values(claim_token=token, claimed_until=lease_until))
            session.commit()
            return _claim(row, token, lease_until)
        candidates = session.exec(select(DeliverySchedule.id).where(_due(now)).order_by(*order)
                                  .limit(CANDIDATES_PER_CLAIM)).all()
        session.rollback()  # end the read before writing (SQLite refuses to upgrade a stale read)
        for schedule_id in candidates:
            # Atomic on SQLite: the UPDATE re-checks "due and unclaimed" under the write lock.
            row = session.exec(update(DeliverySchedule)
                               .where(col(DeliverySchedule.id) == schedule_id, _due(now))
                               .values(claim_token=token, claimed_until=lease_until)
                               .returning(*_CLAIM_COLUMNS)).first()
            session.commit()
            if row is not None:
                return _claim(row, token, lease_until)
        return None
    except BaseException:
        session.rollback()
        raise


def renew_claim(*, session: Session, claim: Claim, now: datetime | None = None, lease: timedelta = LEASE) -> Claim | None:
    """Extend the lease just before sending; None when the claim was lost (its lease ended and another
    process took the delivery, or the schedule was deleted or paused): then do not send."""
    now = now or utcnow()
    lease_until = now + lease
    result = session.exec(update(DeliverySchedule)
                          .where(col(DeliverySchedule.id) == claim.schedule_id,
                                 col(DeliverySchedule.claim_token) == claim.token,
                                 col(DeliverySchedule.enabled).is_(True))
                          .values(claimed_until=lease_until))
    session.commit()
    if result.rowcount != 1:
        return None
    return replace(claim, lease_until=lease_until)


def release_claim(*, session: Session, claim: Claim) -> None:
    """Give a claim back without an attempt (the delivery was not tried): it is due again at once."""
    session.exec(update(DeliverySchedule).where(col(DeliverySchedule.id) == claim.schedule_id,
                                                col(DeliverySchedule.claim_token) == claim.token)
                 .values(claim_token=None, claimed_until=None))
    session.commit()


@dataclass(frozen=True)
class Finished:
    """What `finish_delivery` recorded: the outcome, and whether the claim was still held."""

    outcome: Outcome
    held: bool
    retry_at: datetime | None = None
    next_due_at: datetime | None = None


def finish_delivery(
    *, session: Session, claim: Claim, sent: bool, error: str | None = None, temporary: bool = False,
    started_at: datetime, now: datetime | None = None, recipients: int = 0, message_id: str | None = None,
    max_attempts: int = MAX_ATTEMPTS, backoff_base: timedelta = BACKOFF_BASE,
) -> Finished:
    """Record an attempt: release the claim, move the schedule on (sent, or failed for good) or set a
    retry (a temporary failure with attempts left), and add the attempt to the log. One transaction."""
    now = now or utcnow()
    error = _sentence(error)
    attempt = claim.attempt
    if sent:
        outcome: Outcome = "sent"
    elif temporary and attempt < max_attempts:
        outcome = "retrying"
    else:
        outcome = "failed"
    retry_at = now + backoff(attempt, base=backoff_base) if outcome == "retrying" else None
    # From the slot, not from now: no drift; a run late by more than a period skips to the next moment.
    following = next_due(Cadence.from_dict(claim.cadence), max(claim.slot_at, now))
    record: dict[str, Any] = dict(claim_token=None, claimed_until=None, last_attempt_at=now, last_status=outcome,
                                  last_error=error, updated_at=now)
    if sent:
        record["last_sent_at"] = now
    timing: dict[str, Any] = (dict(attempts=attempt, retry_at=retry_at) if outcome == "retrying" else
                              dict(attempts=0, retry_at=None, next_due_at=following))
    mine = (col(DeliverySchedule.id) == claim.schedule_id, col(DeliverySchedule.claim_token) == claim.token)
    try:
        result = session.exec(update(DeliverySchedule)
                               .where(*mine, col(DeliverySchedule.revision) == claim.revision)
                               .values(**record, **timing))
        held = result.rowcount == 1
        if not held:  # edited while sending: keep the edited timing, record the outcome
            held = session.exec(update(DeliverySchedule).where(*mine).values(**record)).rowcount == 1
        exists = session.exec(select(func.count()).select_from(DeliverySchedule)
                              .where(DeliverySchedule.id == claim.schedule_id)).one()
        if exists:
            session.add(DeliveryAttempt(schedule_id=claim.schedule_id, slot_at=claim.slot_at, started_at=started_at,
                                        finished_at=now, outcome=outcome, attempt=attempt, recipients=recipients,
                                        error=error, message_id=message_id))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return Finished(outcome=outcome, held=held, retry_at=retry_at,
                    next_due_at=following if outcome != "retrying" else claim.slot_at)


def log_manual_send(*, session: Session, schedule_id: int, started_at: datetime, sent: bool, error: str | None,
                    recipients: int, message_id: str | None, now: datetime | None = None) -> None:
    """Add a "Send now" test to the log; the schedule's own timing and status do not change."""
    now = now or utcnow()
    session.add(DeliveryAttempt(schedule_id=schedule_id, slot_at=None, started_at=started_at, finished_at=now,
                                outcome="sent" if sent else "failed", attempt=1, manual=True,
                                recipients=recipients, error=_sentence(error), message_id=message_id))
    try:
        session.commit()
    except IntegrityError:  # the schedule was deleted meanwhile: nothing to log it under
        session.rollback()


def _sentence(error: str | None) -> str | None:
    if not error:
        return None
    text = " ".join(str(error).split())
    return text if len(text) <= ERROR_MAX_LENGTH else text[: ERROR_MAX_LENGTH - 1] + "…"

