"""The rotation-layer form on a schedule's page: a layer as the form's fields (text, as typed),
the fields read back from a posted form, and the values layers.py takes.

Members are an ordered column of person selects, one per turn; restrictions a column of rows
(every day or a weekday, a start time, a length in minutes). A row left blank is skipped, and
one spare blank row is always offered, so a list grows by saving, like the conditions editor.
The priority decides which layer wins where two overlap (the higher one); a new layer is offered
the next one up. The optional end is typed in the hand-off's time zone, like the start.
Each layer's form has its own prefix (`layer-7.name`; `layer.name` for a new one), so a page
with many of them ties each error to the right field.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from fireline.alerts.maintenance_views import instant
from fireline.errors import InvalidInput
from fireline.models import Schedule, ScheduleLayer
from fireline.oncall.rotation import MAX_SHIFT_LENGTH
from fireline.oncall.views import NAME_LENGTH, checked_zone, no_longer_than, required
from fireline.web.settings_views import text_of

SHIFT_UNITS = [("hours", "hours"), ("days", "days"), ("weeks", "weeks")]
MAX_MEMBERS = 100
MAX_WINDOWS = 28  # four a day is plenty
MIN_MEMBER_ROWS = 3
WEEK_MINUTES = 7 * 24 * 60
LOCAL_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
NEW = "layer"
MIN_PRIORITY, MAX_PRIORITY = 1, 1000
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"  # what a datetime-local input holds


def prefix_of(layer_id: int | None) -> str:
    return NEW if layer_id is None else f"layer-{layer_id}"


def stored(layer: ScheduleLayer) -> dict[str, Any]:
    """The layer as its form shows it: the hand-off in the layer's own zone."""
    zone = ZoneInfo(layer.timezone)
    start = layer.rotation_start.astimezone(zone)
    ends = layer.ends_at.astimezone(zone).strftime(LOCAL_MINUTE) if layer.ends_at else ""
    return {
        "prefix": prefix_of(layer.id),
        "id": layer.id,
        "name": layer.name,
        "members": [str(member) for member in layer.members],
        "shift_length": str(layer.shift_length),
        "shift_unit": layer.shift_unit,
        "rotation_start": start.strftime(LOCAL_MINUTE),
        "timezone": layer.timezone,
        "priority": str(layer.priority),
        "ends_at": ends,
        "restrictions": [
            {
                "weekday": "" if window.get("weekday") is None else str(window["weekday"]),
                "start_time": str(window["start_time"]),
                "minutes": str(window["minutes"]),
            }
            for window in layer.restrictions
        ],
    }


def blank(schedule: Schedule) -> dict[str, Any]:
    """A new layer's form: on top of the others (the next priority up, while there is one)."""
    above = max((layer.priority for layer in schedule.layers), default=0) + 1
    return {
        "prefix": NEW,
        "id": None,
        "name": "",
        "members": [],
        "shift_length": "1",
        "shift_unit": "weeks",
        "rotation_start": "",
        "timezone": schedule.timezone,
        "priority": str(above) if above <= MAX_PRIORITY else "",
        "ends_at": "",
        "restrictions": [],
    }


def posted(form: FormData, layer_id: int | None) -> dict[str, Any]:
    """The form's fields as typed; blank member and restriction rows dropped."""
    prefix = prefix_of(layer_id)

    def field(name: str) -> str:
        return text_of(form, f"{prefix}.{name}")

    windows = []
    for n in range(MAX_WINDOWS):
        row = {part: field(f"restrictions.{n}.{part}") for part in ("start_time", "minutes")}
        if row["start_time"] or row["minutes"]:
            windows.append({"weekday": field(f"restrictions.{n}.weekday"), **row})
    return {
        "prefix": prefix,
        "id": layer_id,
        "name": field("name"),
        "members": [m for m in (field(f"members.{n}") for n in range(MAX_MEMBERS)) if m],
        "shift_length": field("shift_length"),
        "shift_unit": field("shift_unit"),
        "rotation_start": field("rotation_start"),
        "timezone": field("timezone"),
        "priority": field("priority"),
        "ends_at": field("ends_at"),
        "restrictions": windows,
    }


def padded(values: dict[str, Any]) -> dict[str, Any]:
    """The values with blank rows after them: a spare member (at least three rows in all) and
    a spare restriction."""
    members = values["members"] + [""] * max(MIN_MEMBER_ROWS - len(values["members"]), 1)
    spare = {"weekday": "", "start_time": "", "minutes": ""}
    return {**values, "members": members, "restrictions": [*values["restrictions"], spare]}


def layer_forms(schedule: Schedule, refused: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Every layer's form and the new layer's, by prefix; a refused one as it was typed."""
    forms = {prefix_of(layer.id): stored(layer) for layer in schedule.layers}
    forms[NEW] = blank(schedule)
    if refused is not None:
        forms[refused["prefix"]] = refused
    return {prefix: padded(values) for prefix, values in forms.items()}


def _whole(text: str, field: str, low: int, high: int, what: str) -> int:
    if not re.fullmatch(r"\d{1,6}", text) or not low <= int(text) <= high:
        raise InvalidInput.on(field, f"{what} from {low} to {high}")
    return int(text)


def layer_values(typed: dict[str, Any]) -> dict[str, Any]:
    """What layers.add_layer and update_layer take, or InvalidInput naming the form's field."""
    prefix = typed["prefix"]
    required(
        (f"{prefix}.name", typed["name"], "give the layer a name"),
        (f"{prefix}.members", typed["members"], "choose at least one member"),
        (f"{prefix}.rotation_start", typed["rotation_start"], "say when the first shift starts"),
    )
    no_longer_than(typed["name"], NAME_LENGTH, f"{prefix}.name")
    unit = typed["shift_unit"]
    if unit not in MAX_SHIFT_LENGTH:
        raise InvalidInput.on(f"{prefix}.shift_unit", "choose hours, days or weeks")
    longest = MAX_SHIFT_LENGTH[unit]
    length = _whole(
        typed["shift_length"], f"{prefix}.shift_length", 1, longest, f"a number of {unit}"
    )
    zone = checked_zone(typed["timezone"], f"{prefix}.timezone")
    priority = None  # left blank: a new layer goes on top, an edited one keeps its own
    if typed["priority"]:
        priority = _whole(
            typed["priority"], f"{prefix}.priority", MIN_PRIORITY, MAX_PRIORITY, "a whole number"
        )
    start = instant(typed["rotation_start"], zone, f"{prefix}.rotation_start")
    ends_at = instant(typed["ends_at"], zone, f"{prefix}.ends_at")
    if start is not None and ends_at is not None and ends_at <= start:
        raise InvalidInput.on(f"{prefix}.ends_at", "must be after the first hand-off")
    windows = []
    for n, window in enumerate(typed["restrictions"]):
        field = f"{prefix}.restrictions.{n}"
        if not LOCAL_TIME.fullmatch(window["start_time"]):
            raise InvalidInput.on(f"{field}.start_time", "a time of day, e.g. 09:00")
        weekday = window["weekday"]
        if weekday not in ("", *map(str, range(7))):
            raise InvalidInput.on(f"{field}.weekday", "choose every day or a weekday")
        minutes = _whole(window["minutes"], f"{field}.minutes", 1, WEEK_MINUTES, "minutes")
        windows.append(
            {
                "weekday": int(weekday) if weekday else None,
                "start_time": window["start_time"],
                "minutes": minutes,
            }
        )
    return {
        "name": typed["name"],
        "members": typed["members"],
        "shift_length": length,
        "shift_unit": unit,
        "rotation_start": start,
        "timezone": zone,
        "restrictions": windows,
        "priority": priority,
        "ends_at": ends_at,
    }
