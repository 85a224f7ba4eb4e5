"""Who is on call when: the time maths of rotation layers and overrides.

A schedule is a stack of layers with overrides on top. Everything here is pure: callers pass the
layers, the overrides and a range or an instant, and get shifts back. Inputs may be in any time
zone (naive datetimes are refused); every datetime that comes out is aware and in UTC. Ranges are
half-open, `[start, end)`: a shift ending at 09:00 does not cover 09:00.

How a layer rotates:

- Shift n (counting from 0) starts at hand-off n and belongs to `members[n % len(members)]`. The
  index is always found by counting hand-offs, never by dividing elapsed seconds, which would drift
  across daylight-saving changes. Hand-off 0 is `rotation_start` itself; before it, and from
  `ends_at` on, the layer covers nothing.
- "hours" shifts last exactly `shift_length` real hours: a 12-hour shift across a clock change is
  still 12 elapsed hours, so its local hand-off time moves by the hour the clocks moved.
- "days" and "weeks" shifts hand off at the same local wall-clock time in the layer's `timezone`,
  the local time of `rotation_start`. A 09:00 Europe/Berlin hand-off stays 09:00 local through both
  clock changes, so the shift spanning a change is an hour shorter or longer (a daily shift lasts
  23 or 25 real hours that day). A hand-off time that does not exist on some day (the clocks jump
  over it) happens at the first instant after the jump; one that occurs twice (the clocks go back
  over it) happens at its first occurrence.
- Restrictions narrow a layer to windows of local time (every day, or on one weekday each week);
  the window's opening and closing are both local wall-clock times, resolved like hand-offs, so a
  09:00-17:00 window stays 09:00-17:00 local all year. A shift is cut into the pieces that fall
  inside a window; every piece still belongs to the shift's member. Overlapping windows of one
  layer add up.

How the final schedule is made, for every instant:

1. An override covering it wins over every layer. Among overlapping overrides the newer one wins,
   by the higher `id`; an override without an id (not saved yet, as in a preview) counts as newer
   than every saved one, and a later one in the sequence wins a remaining tie.
2. Otherwise the covering layer with the highest `priority` wins. Between layers of equal
   priority the higher layer `id` (the layer added later) wins, then the later one in the
   sequence.
3. Otherwise nobody is on call: the schedule has a gap there, which `coverage_gaps` reports.

The final schedule is sorted and never overlaps; adjacent pieces of the same member from the same
source (the same layer, or the same override) are merged into one shift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from math import ceil
from operator import itemgetter
from types import MappingProxyType
from typing import Literal, Protocol, TypeAlias, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fireline.errors import FieldProblem, InvalidInput

ShiftUnit = Literal["hours", "days", "weeks"]
SHIFT_UNITS: tuple[str, ...] = get_args(ShiftUnit)

# The longest shift a layer may have, per unit: a year. Longer is not a rotation, and the cap keeps
# the arithmetic far from datetime's limits.
MAX_SHIFT_LENGTH: Mapping[str, int] = MappingProxyType(
    {"hours": 366 * 24, "days": 366, "weeks": 52}
)

_ONE_DAY = timedelta(days=1)
_ONE_WEEK = timedelta(days=7)
_ZERO = timedelta(0)


class InvalidRotation(InvalidInput, ValueError):
    """A layer or override that cannot be scheduled; `field` names the culprit.

    It is a ValueError for pure callers and an InvalidInput (422 with the field problem) for the
    API, so an invalid rotation reaching a request needs no translation.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(detail=f"{field}: {message}", errors=[FieldProblem(field, message)])
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Restriction:
    """A window during which a restricted layer is on call, in the layer's time zone."""

    start_time: time  # local wall time the window opens
    duration: timedelta  # > 0 and <= 7 days (daily windows <= 1 day)
    weekday: int | None = None  # 0=Monday..6; None = the window repeats every day


@dataclass(frozen=True)
class Layer:
    """One rotation: members take turns, one shift each, handing off at `rotation_start`'s time."""

    id: int
    priority: int  # higher priority wins where layers overlap
    members: tuple[int, ...]  # user ids, in rotation order (a user may appear twice)
    shift_length: int  # >= 1
    shift_unit: ShiftUnit
    rotation_start: datetime  # aware; the first hand-off; its local wall time is the hand-off time
    timezone: str  # IANA name, e.g. "Europe/Berlin"
    restrictions: tuple[Restriction, ...] = ()
    ends_at: datetime | None = None  # the layer stops covering at this instant


@dataclass(frozen=True)
class Override:
    """`user_id` is on call from `start` to `end`, whatever the layers say."""

    user_id: int
    start: datetime
    end: datetime
    id: int | None = None


@dataclass(frozen=True)
class Shift:
    """A stretch of time one user is on call, from a layer or from an override."""

    user_id: int
    start: datetime  # UTC
    end: datetime  # UTC, > start
    layer_id: int | None  # None when it comes from an override
    override_id: int | None = None


# --- validation -------------------------------------------------------------------------------


def validate_layer(layer: Layer) -> None:
    """Return quietly when `layer` can be scheduled; raise InvalidRotation naming the bad field."""
    if not layer.members:
        raise InvalidRotation("members", "a layer needs at least one member")
    if layer.shift_unit not in SHIFT_UNITS:
        raise InvalidRotation(
            "shift_unit", f"must be one of {', '.join(SHIFT_UNITS)}, got {layer.shift_unit!r}"
        )
    longest = MAX_SHIFT_LENGTH[layer.shift_unit]
    if not 1 <= layer.shift_length <= longest:
        raise InvalidRotation(
            "shift_length",
            f"must be from 1 to {longest} {layer.shift_unit}, got {layer.shift_length}",
        )
    _require_aware_field(layer.rotation_start, "rotation_start")
    _zone(layer.timezone)
    if layer.ends_at is not None:
        _require_aware_field(layer.ends_at, "ends_at")
        if layer.ends_at <= layer.rotation_start:
            raise InvalidRotation("ends_at", "must be after rotation_start")
    for position, restriction in enumerate(layer.restrictions):
        _validate_restriction(restriction, f"restrictions[{position}]")


def validate_override(override: Override) -> None:
    """Return quietly when `override` can be scheduled; raise InvalidRotation naming the field."""
    _require_aware_field(override.start, "start")
    _require_aware_field(override.end, "end")
    if override.end <= override.start:
        raise InvalidRotation("end", "an override must end after it starts")


def _validate_restriction(restriction: Restriction, name: str) -> None:
    if restriction.start_time.tzinfo is not None:
        raise InvalidRotation(
            f"{name}.start_time", "is a local wall-clock time; give it without a time zone"
        )
    if restriction.weekday is not None and not 0 <= restriction.weekday <= 6:
        raise InvalidRotation(
            f"{name}.weekday", f"must be 0 (Monday) to 6 (Sunday), got {restriction.weekday}"
        )
    longest, every = (_ONE_DAY, "day") if restriction.weekday is None else (_ONE_WEEK, "week")
    if not _ZERO < restriction.duration <= longest:
        raise InvalidRotation(
            f"{name}.duration",
            f"a window repeating every {every} must last more than 0 and at most one {every}",
        )


def _require_aware_field(instant: datetime, name: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidRotation(name, "must be a timezone-aware datetime")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidRotation("timezone", f"unknown time zone {name!r}") from error


def _utc(instant: datetime, name: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return instant.astimezone(UTC)


# --- local wall-clock time -------------------------------------------------------------------


def local_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant at which the naive local wall-clock time `wall` happens in `zone`.

    A wall time the clocks jump over happens at the first instant after the jump (02:30 on the
    morning New York springs forward is 03:00 EDT); one the clocks pass twice happens the first
    time (fold=0).
    """
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    return _end_of_gap(wall, zone)


def _end_of_gap(wall: datetime, zone: ZoneInfo) -> datetime:
    # Inside a gap fold=1 reads `wall` with the offset after the jump, which lands before the
    # jump, and fold=0 with the offset before it, which lands after; the jump lies in between.
    # zoneinfo does not expose its transitions, so search them out to the second (tzdata
    # transitions fall on whole seconds): the jump is the first instant whose local time is
    # past `wall`.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC).replace(microsecond=0)
    high = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    first, last = 0, ceil((high - low).total_seconds())
    while first < last:
        middle = (first + last) // 2
        probe = low + timedelta(seconds=middle)
        if probe.astimezone(zone).replace(tzinfo=None) >= wall:
            last = middle
        else:
            first = middle + 1
    return low + timedelta(seconds=first)


# --- sources: a layer's rotation, an override -------------------------------------------------

# (start, end, user id, layer id, override id), all instants in UTC.
_Piece: TypeAlias = tuple[datetime, datetime, int, int | None, int | None]


class _Source(Protocol):
    rank: int

    def pieces(self, start: datetime, end: datetime) -> list[_Piece]: ...

    def piece_at(self, instant: datetime) -> _Piece | None: ...


class _Rotation:
    """A validated layer, ready to answer where its hand-offs fall."""

    def __init__(self, layer: Layer, rank: int = 0) -> None:
        self.layer = layer
        self.rank = rank
        self.zone = ZoneInfo(layer.timezone)
        self.start = layer.rotation_start.astimezone(UTC)
        self.ends = None if layer.ends_at is None else layer.ends_at.astimezone(UTC)
        local_start = self.start.astimezone(self.zone)
        self.first_date = local_start.date()
        self.handoff_time = local_start.time()
        self.step = timedelta(hours=layer.shift_length)
        days_per_unit = 7 if layer.shift_unit == "weeks" else 1
        self.period_days = layer.shift_length * days_per_unit

    def handoff(self, index: int) -> datetime:
        """The instant shift `index` starts (shift 0 is held to rotation_start by `covered`)."""
        if self.layer.shift_unit == "hours":
            return self.start + index * self.step
        day = self.first_date + timedelta(days=index * self.period_days)
        return local_instant(datetime.combine(day, self.handoff_time), self.zone)

    def index_at(self, instant: datetime) -> int:
        """The index of the shift covering `instant`, which is at or after rotation_start."""
        if self.layer.shift_unit == "hours":
            return (instant - self.start) // self.step
        elapsed_days = (instant.astimezone(self.zone).date() - self.first_date).days
        # Counting local dates lands on the right shift or the next one (when `instant` is on a
        # hand-off day but before the hand-off), so start one earlier and walk forward.
        index = max(0, elapsed_days // self.period_days - 1)
        while self.handoff(index + 1) <= instant:
            index += 1
        return index

    def covered(self, start: datetime, end: datetime) -> tuple[datetime, datetime]:
        """`[start, end)` narrowed to the part the layer is running (may come out empty).

        Every shift goes through here, which also keeps shift 0 from starting before
        `rotation_start` when that is the second occurrence of a repeated wall time.
        """
        return max(start, self.start), end if self.ends is None else min(end, self.ends)

    def pieces(self, start: datetime, end: datetime) -> list[_Piece]:
        start, end = self.covered(start, end)
        if start >= end:
            return []
        members = self.layer.members
        index = self.index_at(start)
        shift_start = self.handoff(index)
        shifts: list[tuple[datetime, datetime, int]] = []
        while shift_start < end:
            shift_end = self.handoff(index + 1)
            shifts.append((shift_start, shift_end, members[index % len(members)]))
            index += 1
            shift_start = shift_end
        # Only the first and the last shift can stick out of the range.
        shifts[0] = (max(shifts[0][0], start), *shifts[0][1:])
        shifts[-1] = (shifts[-1][0], min(shifts[-1][1], end), shifts[-1][2])
        if self.layer.restrictions:
            shifts = _inside(shifts, self.windows(start, end))
        layer_id = self.layer.id
        return [(begin, finish, member, layer_id, None) for begin, finish, member in shifts]

    def piece_at(self, instant: datetime) -> _Piece | None:
        if instant < self.start or (self.ends is not None and instant >= self.ends):
            return None
        index = self.index_at(instant)
        shift_start, shift_end = self.covered(self.handoff(index), self.handoff(index + 1))
        if self.layer.restrictions:
            for window_start, window_end in self.windows(shift_start, shift_end):
                if window_start <= instant < window_end:
                    shift_start, shift_end = window_start, window_end
                    break
            else:
                return None
        member = self.layer.members[index % len(self.layer.members)]
        return (shift_start, shift_end, member, self.layer.id, None)

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The restriction windows within `[start, end)`: sorted, disjoint, clipped to the range."""
        first_date = start.astimezone(self.zone).date()
        last_date = end.astimezone(self.zone).date()
        found: list[tuple[datetime, datetime]] = []
        for restriction in self.layer.restrictions:
            repeat = _ONE_DAY if restriction.weekday is None else _ONE_WEEK
            # The earliest local date whose window may still be open at `start`.
            day = first_date - timedelta(days=restriction.duration.days + 1)
            if restriction.weekday is not None:
                day += timedelta(days=(restriction.weekday - day.weekday()) % 7)
            while day <= last_date:
                opens = datetime.combine(day, restriction.start_time)
                window_start = max(local_instant(opens, self.zone), start)
                window_end = min(local_instant(opens + restriction.duration, self.zone), end)
                if window_start < window_end:
                    found.append((window_start, window_end))
                day += repeat
        return _union(found)


class _Overriding:
    """An override, clipped to whatever range is asked about."""

    def __init__(self, override: Override, rank: int = 0) -> None:
        self.rank = rank
        self.piece: _Piece = (
            override.start.astimezone(UTC),
            override.end.astimezone(UTC),
            override.user_id,
            None,
            override.id,
        )

    def pieces(self, start: datetime, end: datetime) -> list[_Piece]:
        piece_start, piece_end, user_id, _, override_id = self.piece
        start, end = max(start, piece_start), min(end, piece_end)
        return [(start, end, user_id, None, override_id)] if start < end else []

    def piece_at(self, instant: datetime) -> _Piece | None:
        return self.piece if self.piece[0] <= instant < self.piece[1] else None


def _union(windows: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    windows.sort()
    merged: list[tuple[datetime, datetime]] = []
    for start, end in windows:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _inside(
    shifts: list[tuple[datetime, datetime, int]], windows: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime, int]]:
    """The parts of sorted, disjoint `shifts` inside sorted, disjoint `windows`."""
    parts: list[tuple[datetime, datetime, int]] = []
    first = 0
    for start, end, member in shifts:
        while first < len(windows) and windows[first][1] <= start:
            first += 1
        window = first
        # Every window from `first` on ends after `start`, so each one opening before `end`
        # overlaps the shift.
        while window < len(windows) and windows[window][0] < end:
            window_start, window_end = windows[window]
            parts.append((max(start, window_start), min(end, window_end), member))
            window += 1
    return parts


def _shift(piece: _Piece) -> Shift:
    start, end, user_id, layer_id, override_id = piece
    return Shift(user_id, start, end, layer_id, override_id)


def _sources(layers: Sequence[Layer], overrides: Sequence[Override]) -> list[_Source]:
    """Layers and overrides as sources, ranked so that a higher rank wins (see the module doc)."""
    for layer in layers:
        validate_layer(layer)
    for override in overrides:
        validate_override(override)
    keyed: list[tuple[tuple[int, ...], Layer | Override]] = [
        ((0, layer.priority, layer.id, position), layer) for position, layer in enumerate(layers)
    ]
    keyed += [
        ((1, override.id is None, override.id or 0, position), override)
        for position, override in enumerate(overrides)
    ]
    keyed.sort(key=itemgetter(0))
    return [
        _Rotation(item, rank) if isinstance(item, Layer) else _Overriding(item, rank)
        for rank, (_, item) in enumerate(keyed)
    ]


def _flatten(sources: Iterable[_Source], start: datetime, end: datetime) -> list[Shift]:
    """The final schedule over `[start, end)`: at each instant the highest-ranked piece wins."""
    # Sweep over every piece boundary. Each source's own pieces never overlap, so `active` holds
    # at most one piece per source. `order` puts a source's end before its next start at the same
    # instant and is unique per instant, so the sort never has to compare pieces.
    events: list[tuple[datetime, int, _Piece]] = []
    for source in sources:
        for piece in source.pieces(start, end):
            events.append((piece[0], 2 * source.rank + 1, piece))
            events.append((piece[1], 2 * source.rank, piece))
    events.sort()
    active: dict[int, _Piece] = {}
    merged: list[_Piece] = []
    previous = start
    for instant, order, piece in events:
        if active and instant > previous:
            _, _, user_id, layer_id, override_id = active[max(active)]
            owner = (user_id, layer_id, override_id)
            if merged and merged[-1][1] == previous and merged[-1][2:] == owner:
                merged[-1] = (merged[-1][0], instant, user_id, layer_id, override_id)
            else:
                merged.append((previous, instant, user_id, layer_id, override_id))
        previous = instant
        if order % 2:
            active[order // 2] = piece
        else:
            del active[order // 2]
    return [_shift(piece) for piece in merged]


# --- the public answers -------------------------------------------------------------------------


def layer_shifts(layer: Layer, start: datetime, end: datetime) -> list[Shift]:
    """The shifts of `layer` alone within `[start, end)`, sorted, in UTC.

    Each rotation shift is clipped to the range, to the layer's running time (from
    `rotation_start` until `ends_at`) and, on a restricted layer, cut into the pieces inside its
    windows. Consecutive shifts of the same member stay separate here; `final_shifts` merges them.
    Raises InvalidRotation for an invalid layer and ValueError for a naive `start` or `end`.
    """
    validate_layer(layer)
    pieces = _Rotation(layer).pieces(_utc(start, "start"), _utc(end, "end"))
    return [_shift(piece) for piece in pieces]


def final_shifts(
    layers: Sequence[Layer], overrides: Sequence[Override], start: datetime, end: datetime
) -> list[Shift]:
    """The final schedule within `[start, end)`: who is actually on call, sorted, never overlapping.

    Overrides beat layers, newer overrides beat older ones, and higher-priority layers beat lower
    ones (the module doc has the tie rules). Times nobody covers are simply missing; adjacent
    pieces of the same member from the same layer or override are merged into one shift.
    Raises InvalidRotation for an invalid layer or override and ValueError for naive bounds.
    """
    sources = _sources(layers, overrides)
    start, end = _utc(start, "start"), _utc(end, "end")
    if start >= end:
        return []
    return _flatten(sources, start, end)


def on_call_at(
    layers: Sequence[Layer], overrides: Sequence[Override], at: datetime
) -> Shift | None:
    """The final shift covering `at` (its end is exclusive), or None when nobody is on call.

    The shift returned is the stretch around `at` that `final_shifts` would show, bounded by the
    winning rotation shift, restriction window or override: it ends where that shift ends or where
    something that outranks it takes over. Works without walking the rotation from its start, so
    it costs the same a day or ten years after `rotation_start`.
    """
    sources = _sources(layers, overrides)
    instant = _utc(at, "at")
    winner: _Source | None = None
    winning_piece: _Piece | None = None
    for source in sources:
        piece = source.piece_at(instant)
        if piece is not None:  # sources come in rank order, so the last one covering wins
            winner, winning_piece = source, piece
    if winner is None or winning_piece is None:
        return None
    # Only sources that outrank the winner can cut its stretch short.
    contenders = [source for source in sources if source.rank >= winner.rank]
    stretch = _flatten(contenders, winning_piece[0], winning_piece[1])
    return next(shift for shift in stretch if shift.start <= instant < shift.end)


def coverage_gaps(
    shifts: Sequence[Shift], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The stretches of `[start, end)` no shift covers, as sorted `(start, end)` pairs in UTC.

    `shifts` may come in any order and may overlap (the shifts of several layers, say).
    """
    start, end = _utc(start, "start"), _utc(end, "end")
    gaps: list[tuple[datetime, datetime]] = []
    covered_until = start
    for shift in sorted(shifts, key=lambda shift: shift.start):
        if covered_until >= end:
            break
        if shift.start > covered_until:
            gaps.append((covered_until, min(shift.start.astimezone(UTC), end)))
        covered_until = max(covered_until, shift.end.astimezone(UTC))
    if covered_until < end:
        gaps.append((covered_until, end))
    return gaps
