"""Annotations as plain values and public holidays from the holidays package (offline)."""

from __future__ import annotations

from datetime import date

import pytest

from metrics.errors import UsageError
from metrics.insights.annotations import Annotation, on_day, public_holidays, within


def test_public_holidays_of_a_country_and_a_state_in_a_range():
    us = public_holidays("us", date(2024, 7, 1), date(2024, 9, 30))
    # Published US federal holidays of 2024 in that quarter.
    assert [(a.date, a.text, a.kind) for a in us] == [
        (date(2024, 7, 4), "Independence Day", "holiday"), (date(2024, 9, 2), "Labor Day", "holiday")]
    bavaria = {a.date for a in public_holidays("DE", date(2024, 1, 1), date(2024, 1, 31), subdivision="by")}
    berlin = {a.date for a in public_holidays("DE", date(2024, 1, 1), date(2024, 1, 31), subdivision="BE")}
    assert date(2024, 1, 6) in bavaria and date(2024, 1, 6) not in berlin  # Epiphany is a Bavarian holiday


@pytest.mark.parametrize(("country", "subdivision", "phrase"), [
    ("XX", None, "'XX' is not a country code"), ("DE", "ZZ", "'ZZ' is not a subdivision of DE"),
])
def test_unknown_codes_are_one_sentence_usage_errors(country, subdivision, phrase):
    with pytest.raises(UsageError, match=phrase):
        public_holidays(country, date(2024, 1, 1), date(2024, 12, 31), subdivision=subdivision)


def test_ranges_and_lookups():
    outage = Annotation(date(2024, 3, 5), "  Pixel\nbroken  ", end=date(2024, 3, 7), kind="outage")
    launch = Annotation(date(2024, 3, 10), "Spring launch", kind="launch")
    assert outage.text == "Pixel broken"
    assert on_day([launch, outage], date(2024, 3, 6)) == (outage,)
    assert within([launch, outage], date(2024, 3, 7), date(2024, 3, 9)) == (outage,)
    assert within([launch, outage], date(2024, 3, 1), date(2024, 3, 31)) == (outage, launch)
    with pytest.raises(ValueError):
        Annotation(date(2024, 3, 5), "x", end=date(2024, 3, 4))
