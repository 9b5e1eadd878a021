"""Scheduled delivery on the Snapshots page: the workspace's schedules with their last and next
delivery, status and last error; a form to create or edit one; pause, resume, delete and "Send now".

What people type is checked by `reports.deliveries` (one sentence for a bad address, time zone or
cadence); this module only collects the form's values and shows the outcome.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timezone
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from models import repository
from models.settings import load_settings
from reports import deliveries
from reports.deliver import send_now
from reports.mail import smtp_settings
from reports.schedule import LAST_DAY, LIVE_PERIODS, WEEKDAYS, Cadence
from ui import widgets
from ui.errors import user_errors
from ui.persistence import engine, session_scope
from ui.state import (
    SCHED_CONFIRM_DELETE,
    SCHED_DAY,
    SCHED_DELIVER,
    SCHED_KIND,
    SCHED_LINK_DAYS,
    SCHED_NOTICE,
    SCHED_PERIOD,
    SCHED_RECIPIENTS,
    SCHED_SELECTED,
    SCHED_TIME,
    SCHED_TITLE,
    SCHED_WEEKDAY,
    SCHED_WHAT,
    SCHED_ZONE,
    ask_to_confirm,
    keyed,
)

NEW = "new"
KINDS = {"weekly": "Weekly", "monthly": "Monthly"}
DAYS: list[Any] = [*range(1, 32), LAST_DAY]
WHAT = {"snapshot": "This snapshot", "live": "The workspace's latest data"}


def _notify(message: str, kind: str = "success") -> None:
    st.session_state[SCHED_NOTICE] = (kind, message)


def _notify_error(message: str) -> None:
    _notify(message, "error")


def _when(moment: datetime | None, zone: str) -> str:
    """'Mon 5 Jan 2026, 09:00 (Europe/Berlin)': the client's local time."""
    if moment is None:
        return "—"
    try:
        local = moment.astimezone(ZoneInfo(zone))
    except Exception:  # a zone that vanished from tzdata: UTC rather than nothing
        local, zone = moment.astimezone(timezone.utc), "UTC"
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({zone})"


# --- the form -------------------------------------------------------------------------------------------


def _values(item: object) -> dict[str, Any]:
    """The form's fields as `reports.deliveries` takes them."""
    state = st.session_state
    kind = state.get(keyed(SCHED_KIND, item), "weekly")
    at = state.get(keyed(SCHED_TIME, item))
    cadence = {"cadence": kind, "time": at.strftime("%H:%M") if isinstance(at, time) else at,
               "timezone": state.get(keyed(SCHED_ZONE, item), "")}
    cadence["weekday" if kind == "weekly" else "day"] = state.get(
        keyed(SCHED_WEEKDAY if kind == "weekly" else SCHED_DAY, item))
    deliver = state.get(keyed(SCHED_DELIVER, item), "pdf")
    return dict(
        title=state.get(keyed(SCHED_TITLE, item), ""), cadence=cadence,
        recipients=[a for a in re.split(r"[,;\s]+", state.get(keyed(SCHED_RECIPIENTS, item), "")) if a],
        deliver=deliver, period=state.get(keyed(SCHED_PERIOD, item)),
        link_days=int(state.get(keyed(SCHED_LINK_DAYS, item)) or 0) if deliver == "link" else None,
    )


def _create(workspace_id: int, snapshot_id: int | None) -> None:
    values = _values(NEW)
    live = st.session_state.get(keyed(SCHED_WHAT, NEW)) == "live"
    with user_errors("The schedule could not be saved", show=_notify_error) as outcome:
        with session_scope() as db:
            created = deliveries.create_schedule(session=db, workspace_id=workspace_id,
                                                 snapshot_id=None if live else snapshot_id,
                                                 **{**values, "period": values["period"] if live else None})
            created_id, due = created.id, _when(created.next_due_at, created.cadence["timezone"])
    if outcome.failed:
        return
    for prefix in (SCHED_TITLE, SCHED_RECIPIENTS):
        st.session_state.pop(keyed(prefix, NEW), None)
    st.session_state[SCHED_SELECTED] = created_id
    _notify(f"Schedule saved. The first delivery is due {due}.")


def _update(workspace_id: int, schedule_id: int) -> None:
    with user_errors("The schedule could not be saved", show=_notify_error) as outcome:
        with session_scope() as db:
            updated = deliveries.update_schedule(session=db, schedule_id=schedule_id, workspace_id=workspace_id,
                                                 **_values(schedule_id))
            due = _when(updated.next_due_at, updated.cadence["timezone"])
    if not outcome.failed:
        _notify(f"Schedule saved. The next delivery is due {due}.")


def _set_enabled(workspace_id: int, schedule_id: int, enabled: bool) -> None:
    with user_errors("The schedule could not be changed", show=_notify_error) as outcome:
        with session_scope() as db:
            deliveries.set_schedule_enabled(session=db, schedule_id=schedule_id, workspace_id=workspace_id,
                                            enabled=enabled)
    if not outcome.failed:
        _notify("Schedule resumed: it sends from its next moment on." if enabled else
                "Schedule paused: nothing is sent until you resume it.")


def _delete(workspace_id: int, schedule_id: int) -> None:
    with user_errors("The schedule could not be deleted", show=_notify_error) as outcome:
        with session_scope() as db:
            deliveries.delete_schedule(session=db, schedule_id=schedule_id, workspace_id=workspace_id)
    if outcome.failed:
        return
    st.session_state.pop(SCHED_CONFIRM_DELETE, None)
    st.session_state.pop(SCHED_SELECTED, None)
    _notify("Schedule deleted, with its delivery log.")


def _send_now(workspace_id: int, schedule_id: int) -> None:
    with user_errors("The report could not be sent", show=_notify_error) as outcome:
        result = send_now(engine(), schedule_id=schedule_id, workspace_id=workspace_id, smtp=smtp_settings())
    if outcome.failed:
        return
    if result.outcome == "sent":
        _notify(f"Sent to {result.recipients} recipient{'s' if result.recipients != 1 else ''}."
                + (f" {result.error}" if result.error else ""))
    else:
        _notify_error(f"Not sent: {result.error}")


def _form(item: object, *, workspace_zone: str, schedule=None, snapshot_name: str | None = None) -> None:
    """The fields of a new schedule (`item` NEW) or of an existing one (prefilled from `schedule`)."""

    def default(prefix: str, value: Any) -> dict[str, Any]:
        # A widget takes its starting value once; afterwards session state holds what was typed.
        return {} if keyed(prefix, item) in st.session_state else {"value": value}

    cadence = Cadence.from_dict(schedule.cadence) if schedule is not None else None
    if schedule is None:
        st.radio("Report", list(WHAT), key=keyed(SCHED_WHAT, item), horizontal=True,
                 format_func=lambda w: f"{WHAT[w]}: {snapshot_name}" if w == "snapshot" else WHAT[w])
    if schedule is None or schedule.snapshot_id is None:
        periods = list(LIVE_PERIODS)
        st.selectbox("Period of the latest data (for the workspace's latest data)", periods,
                     format_func=LIVE_PERIODS.get, key=keyed(SCHED_PERIOD, item),
                     index=periods.index(schedule.period) if schedule is not None and schedule.period else 4)
    st.text_input("Title (the email's subject and the report's title)", max_chars=deliveries.TITLE_MAX_LENGTH,
                  key=keyed(SCHED_TITLE, item), **default(SCHED_TITLE, schedule.title if schedule else ""),
                  placeholder="e.g. Weekly performance report")
    left, middle, right = st.columns(3)
    left.radio("Cadence", list(KINDS), format_func=KINDS.get, key=keyed(SCHED_KIND, item), horizontal=True,
               index=0 if cadence is None or cadence.kind == "weekly" else 1)
    middle.selectbox("Weekday (weekly)", range(7), format_func=lambda d: WEEKDAYS[d].capitalize(),
                     key=keyed(SCHED_WEEKDAY, item),
                     index=cadence.weekday if cadence is not None and cadence.weekday is not None else 0)
    right.selectbox("Day of the month (monthly)", DAYS, key=keyed(SCHED_DAY, item),
                    format_func=lambda d: "Last day" if d == LAST_DAY else str(d),
                    index=DAYS.index(cadence.day) if cadence is not None and cadence.day is not None else 0,
                    help="A day the month does not have (the 31st in April) means its last day.")
    left, right = st.columns(2)
    left.time_input("Time", step=300, key=keyed(SCHED_TIME, item), **default(SCHED_TIME, cadence.at if cadence
                                                                               else time(9, 0)))
    right.text_input("Time zone (the client's)", key=keyed(SCHED_ZONE, item),
                     **default(SCHED_ZONE, cadence.timezone if cadence else workspace_zone),
                     help="An IANA name such as Europe/Berlin or America/New_York; the workspace's by default.")
    st.text_area("Recipients (one address per line, or separated by commas)", height=80,
                 key=keyed(SCHED_RECIPIENTS, item),
                 **default(SCHED_RECIPIENTS, "\n".join(schedule.recipients) if schedule else ""),
                 placeholder="client@example.com")
    left, right = st.columns(2)
    options = list(deliveries.DELIVER_CHOICES)
    left.radio("Send", options, format_func=deliveries.DELIVER_CHOICES.get, key=keyed(SCHED_DELIVER, item),
               index=options.index(schedule.deliver) if schedule else 0, horizontal=True,
               help="A client link is new for every email and opens the snapshot read-only.")
    right.number_input("A link stays valid for (days)", min_value=1, max_value=3650, step=1,
                       key=keyed(SCHED_LINK_DAYS, item),
                       **default(SCHED_LINK_DAYS, (schedule.link_days if schedule else None)
                                 or load_settings().share_days))


# --- the section ----------------------------------------------------------------------------------------


def section(workspace_id: int, snapshot_id: int, snapshot_name: str, snapshot_names: dict[int, str]) -> None:
    """The "Delivery" tab: every schedule of the workspace; new schedules start from the selected snapshot."""
    if notice := st.session_state.pop(SCHED_NOTICE, None):
        kind, message = notice
        (st.error if kind == "error" else st.success)(widgets.md_escape(message))
    if not load_settings().smtp_url:
        st.info("Email is not set up yet: schedules are kept, and go out once CAMPAIGN_LENS_SMTP_URL is set and "
                "`python -m reports deliver` runs (see docs/operations.md).")
    with user_errors("The schedules could not be read") as listing:
        with session_scope() as db:
            schedules = deliveries.list_schedules(session=db, workspace_id=workspace_id)
            zone = repository.workspace_branding(session=db, workspace_id=workspace_id).time_zone
    if listing.failed:
        return
    now = datetime.now(timezone.utc)

    def report_of(s) -> str:
        if s.snapshot_id is None:
            return f"Latest data · {LIVE_PERIODS.get(s.period, s.period)}"
        return f"Snapshot · {snapshot_names.get(s.snapshot_id, s.snapshot_id)}"

    if schedules:
        st.dataframe(pl.DataFrame({
            "Title": [s.title for s in schedules],
            "Report": [report_of(s) for s in schedules],
            "When": [Cadence.from_dict(s.cadence).describe() for s in schedules],
            "Sends": [deliveries.DELIVER_CHOICES[s.deliver] for s in schedules],
            "Recipients": [", ".join(s.recipients) for s in schedules],
            "Status": [deliveries.STATUS_LABELS[deliveries.status_of(s, now)] for s in schedules],
            "Last delivery": [_when(s.last_sent_at, s.cadence["timezone"]) for s in schedules],
            "Next delivery": ["—" if not s.enabled else _when(deliveries.next_attempt_at(s), s.cadence["timezone"])
                              for s in schedules],
            "Last error": [s.last_error or "" for s in schedules],
        }, schema={name: pl.String for name in ("Title", "Report", "When", "Sends", "Recipients", "Status",
                                                 "Last delivery", "Next delivery", "Last error")}),
            hide_index=True, width="stretch", key="schedule_table")
        _manage(workspace_id, {s.id: s for s in schedules}, zone, report_of)
    else:
        st.caption("No schedules yet. Create one below: the report goes out by email on a cadence, in the "
                   "client's time zone.")

    with st.expander("New schedule", icon=":material/schedule_send:", expanded=not schedules):
        with st.form(keyed("schedule_form", NEW), border=False):
            _form(NEW, workspace_zone=zone, snapshot_name=snapshot_name)
            st.form_submit_button("Create schedule", type="primary", on_click=_create,
                                  args=(workspace_id, snapshot_id))


def _manage(workspace_id: int, by_id: dict, zone: str, report_of) -> None:
    if st.session_state.get(SCHED_SELECTED) not in by_id:
        st.session_state[SCHED_SELECTED] = next(iter(by_id))
    chosen = st.selectbox("Work with schedule", list(by_id), key=SCHED_SELECTED,
                          format_func=lambda i: f"{by_id[i].title} · {report_of(by_id[i])}")
    schedule = by_id[chosen]
    if schedule.last_error:
        (st.warning if deliveries.status_of(schedule) == "retrying" else st.error)(
            f"Last error: {widgets.md_escape(schedule.last_error)}")
    actions = st.container(horizontal=True)
    actions.button("Send now", icon=":material/send:", key="schedule_send_now", on_click=_send_now,
                   args=(workspace_id, chosen), help="Send this report to its recipients now, as a test. The "
                   "schedule's next delivery does not change.")
    if schedule.enabled:
        actions.button("Pause", icon=":material/pause:", key="schedule_pause", on_click=_set_enabled,
                       args=(workspace_id, chosen, False))
    else:
        actions.button("Resume", icon=":material/play_arrow:", key="schedule_resume", on_click=_set_enabled,
                       args=(workspace_id, chosen, True))
    if st.session_state.get(SCHED_CONFIRM_DELETE) == chosen:
        st.warning("Delete this schedule and its delivery log? This cannot be undone.")
        confirm = st.container(horizontal=True)
        confirm.button("Delete for good", type="primary", key="schedule_delete_confirm", on_click=_delete,
                       args=(workspace_id, chosen))
        confirm.button("Cancel", key="schedule_delete_cancel",
                       on_click=ask_to_confirm, args=(SCHED_CONFIRM_DELETE, None))
    else:
        actions.button("Delete…", icon=":material/delete:", key="schedule_delete", on_click=ask_to_confirm,
                       args=(SCHED_CONFIRM_DELETE, chosen))
    with st.expander("Edit"):
        with st.form(keyed("schedule_form", chosen), border=False):
            _form(chosen, workspace_zone=zone, schedule=schedule)
            st.form_submit_button("Save schedule", type="primary", on_click=_update, args=(workspace_id, chosen))
    with user_errors("The delivery log could not be read") as reading:
        with session_scope() as db:
            log = deliveries.list_attempts(session=db, schedule_id=chosen)
    if reading.failed or not log:
        st.caption("Nothing sent yet.")
        return
    zone_of = schedule.cadence["timezone"]
    st.caption("Delivery log (newest first)")
    st.dataframe(pl.DataFrame({
        "When": [_when(a.started_at, zone_of) for a in log],
        "For": ["Send now (test)" if a.manual else _when(a.slot_at, zone_of) for a in log],
        "Outcome": [a.outcome.capitalize() for a in log],
        "Attempt": [a.attempt for a in log],
        "Recipients": [a.recipients for a in log],
        "Error": [a.error or "" for a in log],
    }, schema={"When": pl.String, "For": pl.String, "Outcome": pl.String, "Attempt": pl.Int64,
               "Recipients": pl.Int64, "Error": pl.String}), hide_index=True, width="stretch",
        key=keyed("schedule_log", chosen))
