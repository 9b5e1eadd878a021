"""Report schedules: the next due moment in UTC for cadences in the client's time zone, across daylight saving
changes and month ends. Expected moments are worked out by hand from the zones' published offsets
(Berlin: CET = UTC+1, CEST = UTC+2, changes on 29 Mar and 25 Oct 2026; New York: EST = UTC−5, EDT = UTC−4,
changes on 8 Mar and 1 Nov 2026)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from reports.schedule import Cadence, ScheduleError, next_due, validate_address, validate_recipients


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.mark.parametrize(("cadence", "after", "due"), [
    # Berlin, clocks forward at 02:00 on Sun 29 Mar: 02:30 does not exist; read at CET it is 01:30 UTC.
    (Cadence.weekly("sunday", "02:30", "Europe/Berlin"), utc(2026, 3, 28), utc(2026, 3, 29, 1, 30)),
    # The Sunday before and after at CET and CEST.
    (Cadence.weekly("sunday", "02:30", "Europe/Berlin"), utc(2026, 3, 21), utc(2026, 3, 22, 1, 30)),
    (Cadence.weekly("sunday", "02:30", "Europe/Berlin"), utc(2026, 3, 29, 1, 30), utc(2026, 4, 5, 0, 30)),
    # Berlin, clocks back at 03:00 on Sun 25 Oct: 02:30 happens twice; the first (CEST) is 00:30 UTC ...
    (Cadence.weekly("sunday", "02:30", "Europe/Berlin"), utc(2026, 10, 24), utc(2026, 10, 25, 0, 30)),
    # ... and the second occurrence an hour later is not due again: the next is a week on, at CET.
    (Cadence.weekly("sunday", "02:30", "Europe/Berlin"), utc(2026, 10, 25, 0, 30), utc(2026, 11, 1, 1, 30)),
    # New York, forward on Sun 8 Mar: 02:30 read at EST (−5) is 07:30 UTC; back on Sun 1 Nov: 01:30 at EDT.
    (Cadence.weekly("sunday", "02:30", "America/New_York"), utc(2026, 3, 7), utc(2026, 3, 8, 7, 30)),
    (Cadence.weekly("sunday", "01:30", "America/New_York"), utc(2026, 10, 31), utc(2026, 11, 1, 5, 30)),
    (Cadence.weekly("sunday", "01:30", "America/New_York"), utc(2026, 11, 1, 5, 30), utc(2026, 11, 8, 6, 30)),
    # The local day decides: Monday 21:00 in New York (EDT) is Tuesday 01:00 UTC.
    (Cadence.weekly("monday", "21:00", "America/New_York"), utc(2026, 6, 1, 23), utc(2026, 6, 2, 1)),
    # Monday 08:00 in Auckland (NZST, UTC+12) is Sunday 20:00 UTC.
    (Cadence.weekly("mon", "08:00", "Pacific/Auckland"), utc(2026, 6, 7, 19), utc(2026, 6, 7, 20)),
    # The 31st in a 30-day month is its last day: 30 April 09:00 CEST.
    (Cadence.monthly(31, "09:00", "Europe/Berlin"), utc(2026, 4, 1), utc(2026, 4, 30, 7)),
    # After 31 January's delivery comes 28 February (2026 is not a leap year), at CET.
    (Cadence.monthly(31, "09:00", "Europe/Berlin"), utc(2026, 1, 31, 8), utc(2026, 2, 28, 8)),
    # "last": 29 February in a leap year, 28 February otherwise.
    (Cadence.monthly("last", "09:00", "Europe/Berlin"), utc(2028, 2, 1), utc(2028, 2, 29, 8)),
    (Cadence.monthly("last", "09:00", "Europe/Berlin"), utc(2027, 2, 1), utc(2027, 2, 28, 8)),
    (Cadence.monthly(29, "09:00", "UTC"), utc(2027, 2, 1), utc(2027, 2, 28, 9)),
    (Cadence.monthly(29, "09:00", "UTC"), utc(2028, 2, 1), utc(2028, 2, 29, 9)),
    # Year end, and a moment exactly at the due time is not due again.
    (Cadence.monthly(1, "00:00", "UTC"), utc(2026, 12, 1), utc(2027, 1, 1)),
    (Cadence.monthly(15, "12:00", "UTC"), utc(2026, 5, 15, 11, 59), utc(2026, 5, 15, 12)),
])
def test_next_due(cadence, after, due):
    assert next_due(cadence, after) == due


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney"])
def test_a_year_of_weekly_deliveries_is_one_per_week_at_the_local_time(zone):
    cadence = Cadence.weekly("sunday", "02:30", zone)
    moments = [utc(2026, 1, 1)]
    while moments[-1] < utc(2027, 1, 1):
        moments.append(next_due(cadence, moments[-1]))
    dues = moments[1:-1]
    assert len(dues) == 52  # every Sunday of 2026 once
    for due in dues:
        local = due.astimezone(ZoneInfo(zone))
        assert local.weekday() == 6
        assert (local.hour, local.minute) in ((2, 30), (3, 30))  # 03:30 only where 02:30 does not exist
    assert all(timedelta(hours=167) <= b - a <= timedelta(hours=169) for a, b in zip(dues, dues[1:]))


def test_cadences_round_trip_through_their_stored_form():
    for cadence in (Cadence.weekly(0, "07:05", "Asia/Tokyo"), Cadence.monthly("last", "18:00", "UTC"),
                    Cadence.monthly(31, "09:00", "Europe/Berlin")):
        assert Cadence.from_dict(cadence.to_dict()) == cadence
    assert Cadence.weekly("Friday", "9:00", "UTC").describe() == "Every Friday at 09:00 (UTC)"


@pytest.mark.parametrize(("raw", "phrase"), [
    ({"cadence": "daily", "time": "09:00", "timezone": "UTC"}, "not weekly or monthly"),
    ({"cadence": "weekly", "weekday": "funday", "time": "09:00", "timezone": "UTC"}, "not a weekday"),
    ({"cadence": "weekly", "weekday": 7, "time": "09:00", "timezone": "UTC"}, "not a weekday"),
    ({"cadence": "monthly", "day": 0, "time": "09:00", "timezone": "UTC"}, "not a day of the month"),
    ({"cadence": "monthly", "day": 32, "time": "09:00", "timezone": "UTC"}, "not a day of the month"),
    ({"cadence": "monthly", "day": 1, "time": "25:00", "timezone": "UTC"}, "not a time of day"),
    ({"cadence": "monthly", "day": 1, "time": "9am", "timezone": "UTC"}, "not a time of day"),
    ({"cadence": "monthly", "day": 1, "time": "09:00", "timezone": "Mars/Olympus_Mons"}, "not a time zone"),
    ({"cadence": "monthly", "day": 1, "time": "09:00", "timezone": "../../etc/passwd"}, "not a time zone"),
    ({"cadence": "monthly", "day": 1, "time": "09:00", "timezone": ""}, "not a time zone"),
    ("weekly", "not a set of fields"),
])
def test_an_unusable_schedule_is_refused_with_one_sentence(raw, phrase):
    with pytest.raises(ScheduleError, match=phrase) as caught:
        Cadence.from_dict(raw)
    assert str(caught.value).endswith(".") and "\n" not in str(caught.value)


@pytest.mark.parametrize("address", [
    "", "client", "client@", "@example.com", "client@example", "Client <client@example.com>",
    "client@example.com, other@example.com", "client@example.com\r\nBcc: everyone@example.com",
    "cli ent@example.com", "client@exa..mple.com", "client..x@example.com",
])
def test_addresses_that_are_not_one_plain_address_are_refused(address):
    with pytest.raises(ScheduleError, match="is not an email address"):
        validate_address(address)


def test_recipients_are_deduplicated_and_bounded():
    assert validate_recipients([" a@example.com", "b@example.co.uk", "a@example.com"]) == (
        "a@example.com", "b@example.co.uk")
    with pytest.raises(ScheduleError, match="at least one"):
        validate_recipients([])
    with pytest.raises(ScheduleError, match="at most 50"):
        validate_recipients([f"user{i}@example.com" for i in range(51)])
