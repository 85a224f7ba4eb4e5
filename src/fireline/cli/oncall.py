"""`fireline oncall`: who is on call, the schedules, and overrides, on a running server.

Like the incident commands, these talk to FIRELINE_URL with FIRELINE_TOKEN: arranging cover is
something responders do from their own machines, not on the server."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich import box
from rich.table import Table

from fireline.cli import _choices
from fireline.cli._output import add_row, echo_json, note, out, say, when
from fireline.cli.remote import connect

app = typer.Typer(
    help="Who is on call, schedules and overrides (uses FIRELINE_URL and FIRELINE_TOKEN).",
    no_args_is_help=True,
)

Json = Annotated[bool, typer.Option("--json", help="Print the API's JSON instead.")]
PAGE_MAX = 200


def _person(shift: dict[str, Any] | None) -> str:
    if not shift:
        return "nobody"
    return f"{shift['user']['name']} <{shift['user']['email']}>"


def _until(shift: dict[str, Any] | None) -> str:
    return when(shift["end"]) if shift else "—"


def _source(shift: dict[str, Any] | None) -> str:
    if not shift:
        return "gap"
    return "override" if shift["source"] == "override" else "rotation"


@app.command()
def now(
    *,
    at: Annotated[
        str | None,
        typer.Option(
            metavar="ISO",
            help="Ask about another instant, e.g. 2026-02-01T09:00Z (no zone: UTC).",
            callback=_choices.instant,
            show_default=False,
        ),
    ] = None,
    schedule: Annotated[
        list[str] | None,
        typer.Option(metavar="SLUG", help="Only this schedule; repeat for several."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Who is on call now (or --at an instant), schedule by schedule."""
    params: dict[str, Any] = {}
    if at:
        params["at"] = at
    if schedule:
        params["schedule"] = schedule
    with connect() as api:
        answer = api.call("GET", "/api/v1/oncall", params=params, hints={"at": "--at"})
    if as_json:
        echo_json(answer)
        return
    if not answer["schedules"]:
        note("No schedules yet: an admin makes them in the web UI or the API.")
        return
    table = Table(box=box.SIMPLE_HEAD)
    for header in ("Schedule", "On call", "Until", "Via"):
        table.add_column(header, no_wrap=header != "On call")
    for item in answer["schedules"]:
        shift = item["on_call"]
        add_row(table, item["slug"], _person(shift), _until(shift), _source(shift))
    out.print(table)


@app.command("schedules")
def list_schedules(as_json: Json = False) -> None:
    """List the schedules, their layers, and who each has on call now."""
    schedules: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": PAGE_MAX}
    with connect() as api:
        while True:
            page = api.call("GET", "/api/v1/schedules", params=params)
            schedules.extend(page["items"])
            if not page.get("next_cursor"):
                break
            params["cursor"] = page["next_cursor"]
    if as_json:
        echo_json(schedules)
        return
    if not schedules:
        note("No schedules yet.")
        return
    table = Table(box=box.SIMPLE_HEAD)
    for header in ("Slug", "Name", "Layers", "On call now", "Until"):
        table.add_column(header, no_wrap=header in ("Slug", "Until"))
    for schedule in schedules:
        shift = schedule["on_call_now"]
        add_row(
            table,
            schedule["slug"],
            schedule["name"],
            str(len(schedule["layers"])),
            shift["user"]["name"] if shift else "nobody",
            _until(shift),
        )
    out.print(table)


@app.command()
def override(
    *,
    schedule: Annotated[str, typer.Option(metavar="SLUG", help="The schedule to cover.")],
    user: Annotated[str, typer.Option(metavar="EMAIL", help="Who covers it (email or id).")],
    start: Annotated[
        str,
        typer.Option(
            "--from",
            metavar="ISO",
            help="From, e.g. 2026-02-01T18:00+01:00 (no zone: UTC).",
            callback=_choices.instant,
        ),
    ],
    end: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="ISO",
            help="Until, e.g. 2026-02-02T09:00+01:00.",
            callback=_choices.instant,
        ),
    ],
    reason: Annotated[str, typer.Option(metavar="TEXT", help="Why, for the others.")] = "",
    as_json: Json = False,
) -> None:
    """Have someone cover a schedule for a while, in place of its rotation."""
    body = {"user": user, "start": start, "end": end, "reason": reason}
    with connect() as api:
        created = api.call(
            "POST",
            f"/api/v1/schedules/{quote(schedule.strip(), safe='')}/overrides",
            json=body,
            hints={"user": "--user", "start": "--from", "end": "--to"},
        )
    if as_json:
        echo_json(created)
        return
    say(
        f"{created['user']['name']} covers {schedule} from {when(created['start'])} "
        f"to {when(created['end'])} (override {created['id']})."
    )
