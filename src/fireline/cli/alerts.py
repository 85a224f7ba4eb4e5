"""`fireline alerts list|show|ack|resolve`: work the alert queue from a terminal.

Like the incident commands, these talk to FIRELINE_URL with FIRELINE_TOKEN."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.table import Table

from fireline.cli._output import add_row, echo_json, note, out, say, when
from fireline.cli.remote import call

app = typer.Typer(
    help="Alerts from monitoring: list, acknowledge, resolve (uses FIRELINE_URL and "
    "FIRELINE_TOKEN).",
    no_args_is_help=True,
)

AlertId = Annotated[int, typer.Argument(metavar="ID", help="The alert's number (`alerts list`).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command("list")
def list_alerts(
    show_all: Annotated[
        bool, typer.Option("--all", help="Resolved alerts too (default: open ones only).")
    ] = False,
    service: Annotated[
        str | None, typer.Option("--service", metavar="SLUG", help="Only this service's.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 50,
    as_json: Json = False,
) -> None:
    """The newest alerts, open ones only unless --all."""
    params: dict[str, str | int | bool] = {"limit": limit}
    if not show_all:
        params["open"] = True
    if service is not None:
        params["service"] = service
    alerts = call("GET", "/api/v1/alerts", params=params)["items"]
    if as_json:
        echo_json(alerts)
        return
    if not alerts:
        note("No open alerts." if not show_all else "No alerts.")
        return
    table = Table(box=box.SIMPLE_HEAD)
    for header in ("ID", "Status", "Severity", "Seen", "Since (UTC)"):
        table.add_column(header, no_wrap=True)
    table.add_column("Summary", ratio=1)
    for alert in alerts:
        add_row(
            table,
            str(alert["id"]),
            alert["status"],
            alert["severity"],
            str(alert["occurrences"]),
            when(alert["started_at"]).removesuffix(" UTC"),
            alert["summary"],
        )
    out.print(table)


@app.command()
def show(alert_id: AlertId, as_json: Json = False) -> None:
    """One alert and its log: triggered, paged, escalated, acknowledged, resolved."""
    alert = call("GET", f"/api/v1/alerts/{alert_id}")
    if as_json:
        echo_json(alert)
        return
    say(f"Alert #{alert['id']} · {alert['severity']} · {alert['status']}")
    say(alert["summary"])
    seen = alert["occurrences"]
    say(f"Started {when(alert['started_at'])}, seen {seen} times, key {alert['dedup_key']}")
    for entry in alert["log"]:
        say(f"  {when(entry['occurred_at'])}  {entry['message']}")


@app.command("ack")
def acknowledge(alert_id: AlertId, as_json: Json = False) -> None:
    """Acknowledge the alert: paging stops, the team sees you are on it."""
    alert = call("POST", f"/api/v1/alerts/{alert_id}/acknowledge")
    if as_json:
        echo_json(alert)
    else:
        say(f"Acknowledged alert #{alert['id']}: {alert['summary']}")


@app.command()
def resolve(alert_id: AlertId, as_json: Json = False) -> None:
    """Resolve the alert; the next trigger with its key opens a new one."""
    alert = call("POST", f"/api/v1/alerts/{alert_id}/resolve")
    if as_json:
        echo_json(alert)
    else:
        say(f"Resolved alert #{alert['id']}: {alert['summary']}")
