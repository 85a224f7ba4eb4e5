"""`fireline incidents`: declare, find and read incidents on a running server.

Every command here talks to FIRELINE_URL with FIRELINE_TOKEN; the changes live in
incident_changes.py and register themselves on the same Typer app."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer

from fireline.cli import _choices, _render
from fireline.cli._output import echo_json, note, say
from fireline.cli.remote import call, connect
from fireline.incidents.lifecycle import Status

app = typer.Typer(
    help="Declare and work incidents on a running server (uses FIRELINE_URL and FIRELINE_TOKEN).",
    no_args_is_help=True,
)

Json = Annotated[bool, typer.Option("--json", help="Print the API's JSON instead.")]
PAGE_MAX = 200


def incident_path(ref: str) -> str:
    return f"/api/v1/incidents/{quote(ref.strip(), safe='')}"


@app.command()
def declare(
    *,
    title: Annotated[str, typer.Option(metavar="TEXT", help="What is wrong, in a few words.")],
    severity: Annotated[
        str,
        typer.Option(
            metavar="SEV", help="SEV1 (critical) to SEV4 (low).", callback=_choices.severity
        ),
    ],
    summary: Annotated[str, typer.Option(metavar="TEXT", help="What is known so far.")] = "",
    service: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SLUG",
            help="Slug of an affected service; repeat for several.",
            show_default=False,
        ),
    ] = None,
    commander: Annotated[
        str | None,
        typer.Option(metavar="EMAIL", help="Email of the incident commander.", show_default=False),
    ] = None,
    triage: Annotated[
        bool, typer.Option("--triage", help="Report a suspected incident without declaring it.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Declare an incident, opening its war room (or report it for triage with --triage)."""
    body: dict[str, Any] = {"title": title, "severity": severity, "summary": summary}
    body["services"] = service or []
    if commander:
        body["commander"] = commander
    if triage:
        body["status"] = "triage"
    incident = call("POST", "/api/v1/incidents", json=body)
    if as_json:
        echo_json(incident)
        return
    named = f"{incident['reference']} ({incident['severity']})"
    if incident["war_room"]:
        say(f"Declared {named} — war room {incident['war_room']}")
    else:
        say(f"Reported {named} for triage.")
        note(
            f"Declare it with `fireline incidents status {incident['reference']} investigating`, "
            "or decline it with `… status declined --note REASON`."
        )


@app.command("list")
def list_incidents(
    *,
    status: Annotated[
        list[Status] | None,
        typer.Option(case_sensitive=False, help="Only this status; repeat for several."),
    ] = None,
    severity: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SEV",
            help="Only this severity (SEV1..SEV4); repeat for several.",
            callback=_choices.severities,
        ),
    ] = None,
    service: Annotated[
        str | None, typer.Option(metavar="SLUG", help="Only incidents affecting this service.")
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            metavar="N", min=1, max=PAGE_MAX, help="How many to show (with --all: per request)."
        ),
    ] = 50,
    fetch_all: Annotated[
        bool, typer.Option("--all", help="Every matching incident, page after page.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array of incidents instead.")
    ] = False,
) -> None:
    """List incidents, newest first."""
    params: dict[str, Any] = {"limit": limit}
    if status:
        params["status"] = [value.value for value in status]
    if severity:
        params["severity"] = severity
    if service:
        params["service"] = service
    incidents: list[dict[str, Any]] = []
    with connect() as api:
        while True:
            page = api.call("GET", "/api/v1/incidents", params=params)
            incidents.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor or not fetch_all:
                break
            params["cursor"] = cursor
    if as_json:
        echo_json(incidents)
    elif incidents:
        _render.incident_table(incidents)
    else:
        note("No incidents match.")
    if cursor and not fetch_all:
        shown = len(incidents)
        note(f"Showing the newest {shown}; there may be more: use --all or a larger --limit.")


@app.command()
def show(
    ref: Annotated[
        str, typer.Argument(metavar="REF", help="Incident reference or number, e.g. INC-42 or 42.")
    ],
    as_json: Json = False,
) -> None:
    """Show an incident and its timeline."""
    entries: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 500}
    with connect() as api:
        incident = api.call("GET", incident_path(ref))
        while True:
            page = api.call("GET", incident_path(ref) + "/timeline", params=params)
            entries.extend(page["items"])
            if not page.get("next_cursor"):
                break
            params["cursor"] = page["next_cursor"]
    if as_json:
        echo_json({"incident": incident, "timeline": entries})
    else:
        _render.incident_page(incident, entries)


@app.command()
def macro(
    ref: Annotated[
        str, typer.Argument(metavar="REF", help="Incident reference or number, e.g. INC-42 or 42.")
    ],
    as_json: Json = False,
) -> None:
    """Print the support macro: a ready reply for customers, linking to the public incident."""
    answer = call("GET", incident_path(ref) + "/macro")
    if as_json:
        echo_json(answer)
        return
    say(answer["text"])
    note(f"Link: {answer['url']}")
