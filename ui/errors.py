"""One translator from failures to what a person sees (like datasette's `handle_exception`).

    with user_errors("The snapshot could not be saved", show=notify_error) as outcome:
        repository.save_snapshot(...)
    if outcome.failed:
        return

- A domain error (`metrics.errors.CampaignLensError`: a usage error, unreadable input, a record that
  no longer exists) already is one plain sentence: it is shown as it is.
- Anything else is a bug or an outage: the traceback goes to the server log, the person reads the
  `failure` sentence and what to do next — never an exception type or a traceback.
Streamlit's own control flow (`st.stop`, `st.rerun`) derives from BaseException and passes through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import streamlit as st

from metrics.errors import CampaignLensError

_LOGGER = logging.getLogger(__name__)
RETRY_HINT = "Try again in a moment; if it keeps failing, the server log has the details."


@dataclass
class Outcome:
    """What happened inside a `user_errors` block: `failed` and the sentence that was shown."""

    failed: bool = False
    message: str | None = None


def failure_sentence(failure: str) -> str:
    """`failure` ("The link could not be revoked") completed with what to do next."""
    return f"{failure.rstrip('.')}. {RETRY_HINT}"


@contextmanager
def user_errors(failure: str, *, show: Callable[[str], object] = st.error) -> Iterator[Outcome]:
    """Run a block; on failure show one plain sentence with `show` and mark the outcome failed.

    `failure` says what did not happen, as a sentence start without a cause ("The snapshot could
    not be saved"). `show` defaults to `st.error`; callbacks pass a function that keeps the message
    for the next run.
    """
    outcome = Outcome()
    try:
        yield outcome
    except CampaignLensError as error:
        outcome.failed, outcome.message = True, str(error)
        show(outcome.message)
    except Exception:
        _LOGGER.exception(failure)
        outcome.failed, outcome.message = True, failure_sentence(failure)
        show(outcome.message)
