"""The one translator from failures to what a person sees (ui/errors.py)."""

from __future__ import annotations

import logging

import pytest

from metrics.errors import InputError, UsageError
from ui.errors import user_errors


def test_a_domain_error_is_shown_in_its_own_words():
    shown: list[str] = []
    with user_errors("The snapshot could not be saved", show=shown.append) as outcome:
        raise UsageError("The snapshot name is too long: keep it under 200 characters.")
    assert outcome.failed
    assert shown == ["The snapshot name is too long: keep it under 200 characters."]


def test_anything_else_is_logged_and_shown_as_one_plain_sentence(caplog):
    shown: list[str] = []
    with caplog.at_level(logging.ERROR, logger="ui.errors"):
        with user_errors("The link could not be revoked", show=shown.append) as outcome:
            raise ConnectionResetError("server closed the connection unexpectedly")
    assert outcome.failed
    (message,) = shown
    assert message.startswith("The link could not be revoked. Try again in a moment")
    # The person never reads an exception type or its text; the server log keeps the traceback.
    assert "ConnectionResetError" not in message and "server closed" not in message
    assert "ConnectionResetError" in caplog.text


def test_success_shows_nothing():
    shown: list[str] = []
    with user_errors("The snapshot could not be renamed", show=shown.append) as outcome:
        pass
    assert not outcome.failed and shown == []


def test_streamlit_control_flow_passes_through():
    """st.stop() and st.rerun() raise BaseException subclasses: they must reach Streamlit untouched."""
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    shown: list[str] = []
    with pytest.raises(StopException):
        with user_errors("The page could not be shown", show=shown.append):
            raise StopException()
    assert shown == []


def test_unreadable_input_keeps_its_sentence():
    shown: list[str] = []
    with user_errors("The file could not be read", show=shown.append):
        raise InputError("report.xlsx is a password-protected workbook: remove the password and export again.")
    assert shown == ["report.xlsx is a password-protected workbook: remove the password and export again."]
