"""Sign-in throttling (SPEC §8) on SQLite and PostgreSQL: the numbers are the ones docs/operations.md
promises (5 wrong passwords in 15 minutes lock the account for 1 minute, doubling up to 1 hour; 30
password checks a minute for everyone), written here as literals, not read from the code."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone

from sqlmodel import Session

from models.auth import hash_password
from models.throttle import check_password
from tests.conftest import REPO

RIGHT = "correct horse battery"
# A cheap scrypt cost: these tests are about counting, not about hashing.
HASH = hash_password(RIGHT, n=2**10)
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def _try(session, password: str, at: datetime, account: str = "editor"):
    return check_password(session=session, password=password, password_hash=HASH, account=account, now=at)


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_refused_until_the_lock_ends(session):
    for i in range(4):
        result = _try(session, f"guess {i}", T0 + timedelta(seconds=i))
        assert (result.accepted, result.message) == (False, "That password is not correct. Try again.")
    fifth = _try(session, "guess 5", T0 + timedelta(seconds=4))
    assert fifth.message == "Too many wrong passwords. Try again in 1 minute."

    refused = _try(session, RIGHT, T0 + timedelta(seconds=34))
    assert not refused.accepted and refused.message == "Too many wrong passwords. Try again in 30 seconds."
    assert not _try(session, RIGHT, T0 + timedelta(seconds=63)).accepted  # 1 minute after the 5th guess, less a second
    assert _try(session, RIGHT, T0 + timedelta(seconds=65)).accepted

    # a success starts afresh: 4 more wrong guesses do not lock
    for i in range(4):
        assert _try(session, "nope", T0 + timedelta(minutes=2, seconds=i)).message.startswith("That password")


def test_lockouts_double_up_to_an_hour(session):
    at = T0
    lengths = []
    for _ in range(9):
        for _ in range(5):
            result = _try(session, "wrong", at)
            at += timedelta(seconds=1)
        lengths.append(result.wait_seconds)
        at += timedelta(seconds=result.wait_seconds)  # wait exactly until the lock ends
    assert [seconds // 60 for seconds in lengths] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_wrong_guesses_spread_over_more_than_15_minutes_do_not_lock(session):
    for i in range(12):
        assert _try(session, "wrong", T0 + timedelta(minutes=4 * i)).message.startswith("That password"), i


def test_all_accounts_together_get_30_checks_a_minute(session):
    results = [_try(session, "wrong", T0 + timedelta(seconds=i), account=f"user{i}") for i in range(31)]
    assert all(r.message.startswith("That password") for r in results[:30])
    assert results[30].message == "Too many wrong passwords. Try again in 30 seconds."
    assert _try(session, RIGHT, T0 + timedelta(seconds=61), account="someone").accepted


def test_every_refusal_is_logged_without_the_password(session, caplog):
    with caplog.at_level(logging.WARNING, logger="campaign_lens.sign_in"):
        for i in range(6):
            check_password(session=session, password=f"secret-guess-{i}", password_hash=HASH,
                           client="203.0.113.7", now=T0 + timedelta(seconds=i))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 6
    assert all("203.0.113.7" in line and "2026-11-26T12:00:0" in line and "'editor'" in line for line in lines)
    assert "locked for 60 s" in lines[4] and "without checking the password" in lines[5]
    assert not any("secret-guess" in line for line in lines)


GUESSER = textwrap.dedent(
    """
    import sys, time
    from sqlmodel import Session
    from models.db import make_engine
    from models.throttle import check_password

    engine = make_engine(sys.argv[1])
    password_hash, guesses, start_at = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    checked = refused = 0
    with Session(engine) as session:
        session.connection()
        time.sleep(max(0.0, start_at - time.time()))
        for i in range(guesses):
            result = check_password(session=session, password=f"guess {i}", password_hash=password_hash)
            if result.password_checked:
                checked += 1
            else:
                refused += 1
    print(checked, refused)
    """
)


def test_200_guesses_from_4_processes_are_throttled_and_the_lock_holds(engine, session):
    """Four replicas (processes with their own engines) guessing at once share one limit."""
    url = engine.url.render_as_string(hide_password=False)
    start_at = time.time() + 8  # every process is connected by then
    processes = [
        subprocess.Popen([sys.executable, "-c", GUESSER, url, HASH, "50", str(start_at)], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=180) for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, [err[-2000:] for _, err in outputs]
    counts = [tuple(map(int, out.split())) for out, _ in outputs]
    assert sum(checked for checked, _ in counts) == 5  # only 5 passwords were ever compared
    assert sum(refused for _, refused in counts) == 195
    finished = datetime.now(timezone.utc)

    locked = check_password(session=session, password=RIGHT, password_hash=HASH)
    assert not locked.accepted and locked.message.startswith("Too many wrong passwords. Try again in ")
    assert 0 < locked.wait_seconds <= 60
    # the lock is the documented minute, counted from the fifth guess (which came before `finished`)
    assert not check_password(session=session, password=RIGHT, password_hash=HASH,
                              now=finished + timedelta(seconds=locked.wait_seconds - 2)).accepted
    assert check_password(session=session, password=RIGHT, password_hash=HASH,
                          now=finished + timedelta(seconds=61)).accepted


def test_each_check_uses_its_own_short_transaction(engine):
    """A refusal must not leave the write lock held: another connection can write at once."""
    with Session(engine) as first, Session(engine) as second:
        for i in range(6):
            _try(first, "wrong", T0 + timedelta(seconds=i))
        started = time.perf_counter()
        assert _try(second, "wrong", T0 + timedelta(seconds=7)).wait_seconds > 0
        assert time.perf_counter() - started < 5


# --- sign-in tickets (exchanged by the browser for the sign-in cookie) ----------------------------


def test_a_sign_in_ticket_is_redeemed_once(engine, session):
    from models import repository as repo

    ticket = repo.issue_sign_in_ticket(session=session)
    assert repo.redeem_sign_in_ticket(session=session, ticket=ticket)
    assert not repo.redeem_sign_in_ticket(session=session, ticket=ticket)
    assert not repo.redeem_sign_in_ticket(session=session, ticket=" " + repo.issue_sign_in_ticket(session=session))


def test_an_expired_sign_in_ticket_is_refused(session, monkeypatch):
    from models import repository as repo

    monkeypatch.setattr(repo, "SIGN_IN_TICKET_LIFETIME", timedelta(seconds=-1))
    assert not repo.redeem_sign_in_ticket(session=session, ticket=repo.issue_sign_in_ticket(session=session))


def test_concurrent_redemptions_of_one_ticket_let_one_through(engine, session):
    import threading

    from models import repository as repo

    ticket = repo.issue_sign_in_ticket(session=session)
    start = threading.Barrier(6)
    outcomes: list[bool] = []

    def redeem() -> None:
        with Session(engine) as own:
            start.wait()
            outcomes.append(repo.redeem_sign_in_ticket(session=own, ticket=ticket))

    threads = [threading.Thread(target=redeem) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == [False] * 5 + [True]
