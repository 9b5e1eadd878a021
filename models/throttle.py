"""Sign-in throttling (SPEC §8): wrong passwords are limited per account and for all accounts together.

The state lives in the database (`sign_in_throttle`), so the limits hold across browser sessions,
processes and replicas. The rules:

- **Per account**: 5 password checks without a success within 15 minutes lock the account for
  1 minute; each further lockout in a streak lasts twice as long (1, 2, 4, 8, 16, 32 minutes), at
  most 60 minutes. A successful sign-in ends the streak, and so does a day without a lockout.
- **All accounts together**: at most 30 password checks a minute; beyond that every sign-in waits
  for the next minute.
- While locked, a password is not even checked: the right one is refused too, with one sentence
  saying when to try again ("Too many wrong passwords. Try again in 4 minutes.").

Race-free: a check is *reserved* before the (slow) password comparison, in one short transaction
that first writes both counters' rows (an upsert: SQLite takes its write lock, PostgreSQL locks the
rows), then reads and updates them. However many sessions guess at once, an account gets at most 5
password checks before its lock. A success then clears the account's counters.

Every refusal is written to the log (time, account, client address when known; never the password).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlmodel import Session, col, select

from models.auth import verify_password
from models.tables import SignInThrottle, utcnow

ACCOUNT_MAX_ATTEMPTS = 5
ACCOUNT_WINDOW = timedelta(minutes=15)
FIRST_LOCKOUT = timedelta(minutes=1)
LONGEST_LOCKOUT = timedelta(hours=1)
STREAK_FORGOTTEN_AFTER = timedelta(days=1)
GLOBAL_MAX_ATTEMPTS = 30
GLOBAL_WINDOW = timedelta(minutes=1)
GLOBAL_KEY = "*"
# The password gate has one account; OIDC sign-ins are the identity provider's to throttle.
EDITOR_ACCOUNT = "editor"

AUDIT = logging.getLogger("campaign_lens.sign_in")


@dataclass(frozen=True)
class SignInResult:
    """What a sign-in attempt came to. `wait_seconds` > 0: refused without checking the password
    (`password_checked` False), or this wrong password started a lockout of that length."""

    accepted: bool
    wait_seconds: int = 0
    password_checked: bool = True

    @property
    def message(self) -> str | None:
        """The sentence to show; None when accepted."""
        if self.accepted:
            return None
        if self.wait_seconds > 0:
            return f"Too many wrong passwords. Try again in {describe_wait(self.wait_seconds)}."
        return "That password is not correct. Try again."


def describe_wait(seconds: float) -> str:
    """'45 seconds', '1 minute', '4 minutes' (whole minutes rounded up from a minute on)."""
    if seconds < 60:
        whole = max(1, math.ceil(seconds))
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def lockout_length(lockouts_before: int) -> timedelta:
    """The lock imposed after `lockouts_before` earlier lockouts in the streak: 1, 2, 4 … 60 minutes."""
    return min(FIRST_LOCKOUT * 2 ** min(lockouts_before, 16), LONGEST_LOCKOUT)


def check_password(
    *,
    session: Session,
    password: str,
    password_hash: str,
    account: str = EDITOR_ACCOUNT,
    client: str | None = None,
    now: datetime | None = None,
) -> SignInResult:
    """Check `password` against `password_hash` under the throttle rules (module docstring).

    `client` (an IP address, when known) goes to the audit log only. `now` is for tests.
    """
    now = now or utcnow()
    reservation = _reserve(session, account, now)
    if not reservation.accepted:
        _audit(now, account, client, f"refused without checking the password: locked for {reservation.wait_seconds} s more")
        return reservation
    if verify_password(password, password_hash):
        _clear(session, account, now)
        return SignInResult(accepted=True)
    lock = f"; the account is now locked for {reservation.wait_seconds} s" if reservation.wait_seconds else ""
    _audit(now, account, client, f"wrong password{lock}")
    return SignInResult(accepted=False, wait_seconds=reservation.wait_seconds)


def _audit(now: datetime, account: str, client: str | None, what: str) -> None:
    AUDIT.warning("%s sign-in for account %r from %s: %s", now.isoformat(timespec="seconds"), account,
                  client or "an unknown address", what)


def _account_key(account: str) -> str:
    return f"account:{account}"


def _lock_rows(session: Session, keys: list[str], now: datetime) -> dict[str, SignInThrottle]:
    """Create-or-touch each row, then read them: the first write opens the transaction and takes
    the lock (SQLite: the database write lock; PostgreSQL: the rows), so nobody else can read
    these counters until we commit. Keys are taken in sorted order so two callers never deadlock."""
    table = SignInThrottle.__table__
    dialect = session.get_bind().dialect.name
    insert = (pg_dialect if dialect == "postgresql" else sqlite_dialect).insert
    for key in sorted(keys):
        statement = insert(table).values(key=key, window_started_at=now, attempts=0, lockouts=0, updated_at=now)
        session.exec(statement.on_conflict_do_update(index_elements=[table.c.key], set_={"updated_at": now}))
    rows = session.exec(
        select(SignInThrottle).where(col(SignInThrottle.key).in_(keys)).with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {row.key: row for row in rows}


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _reserve(session: Session, account: str, now: datetime) -> SignInResult:
    """Count one password check for `account` and for everyone, or refuse it (one transaction).

    Accepted: the password may be checked; `wait_seconds` > 0 when this check used the account's
    last attempt and started a lockout (lifted again if the password turns out right).
    """
    key = _account_key(account)
    try:
        rows = _lock_rows(session, [key, GLOBAL_KEY], now)
        mine, everyone = rows[key], rows[GLOBAL_KEY]
        if mine.locked_until is not None and mine.locked_until > now:
            return SignInResult(accepted=False, wait_seconds=_seconds_until(mine.locked_until, now),
                                password_checked=False)
        if mine.locked_until is not None and now - mine.locked_until >= STREAK_FORGOTTEN_AFTER:
            mine.lockouts, mine.locked_until = 0, None
        if now - mine.window_started_at >= ACCOUNT_WINDOW:
            mine.window_started_at, mine.attempts = now, 0
        if now - everyone.window_started_at >= GLOBAL_WINDOW:
            everyone.window_started_at, everyone.attempts = now, 0
        if everyone.attempts >= GLOBAL_MAX_ATTEMPTS:
            return SignInResult(accepted=False, password_checked=False,
                                wait_seconds=_seconds_until(everyone.window_started_at + GLOBAL_WINDOW, now))
        everyone.attempts += 1
        mine.attempts += 1
        lock_seconds = 0
        if mine.attempts >= ACCOUNT_MAX_ATTEMPTS:
            length = lockout_length(mine.lockouts)
            mine.locked_until, mine.lockouts = now + length, mine.lockouts + 1
            mine.window_started_at, mine.attempts = now, 0
            lock_seconds = int(length.total_seconds())
        for row in (mine, everyone):
            row.updated_at = now
            session.add(row)
        session.commit()
        return SignInResult(accepted=True, wait_seconds=lock_seconds)
    finally:
        session.rollback()  # a refusal changed nothing; never leave the write lock held


def _clear(session: Session, account: str, now: datetime) -> None:
    """A right password: the account's counters, lock and streak start afresh."""
    try:
        rows = _lock_rows(session, [_account_key(account)], now)
        row = rows[_account_key(account)]
        row.attempts, row.lockouts, row.locked_until, row.window_started_at, row.updated_at = 0, 0, None, now, now
        session.add(row)
        session.commit()
    finally:
        session.rollback()
