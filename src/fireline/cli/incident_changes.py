"""`fireline incidents status|severity|assign|note|resolve`: change an incident on the server."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fireline.cli import _choices
from fireline.cli._output import echo_json, say
from fireline.cli._render import person
from fireline.cli.incidents import Json, app, incident_path
from fireline.cli.remote import call
from fireline.incidents.lifecycle import Status

Ref = Annotated[
    str, typer.Argument(metavar="REF", help="Incident reference or number, e.g. INC-42 or 42.")
]

# Which option supplies each field the resolution gate can ask for.
RESOLVE_HINTS = {
    "resolution_criteria": "--criteria TEXT",
    "criteria_met": "--criteria-met",
    "customer_impact_ended": "--impact-ended",
    "postmortem_owner": "--postmortem-owner EMAIL",
    "postmortem_due_at": "--postmortem-due DATE",
    "monitoring_period": "wait, or --waive-monitoring REASON",
}


def _done(incident: dict[str, Any], as_json: bool, message: str) -> None:
    if as_json:
        echo_json(incident)
    else:
        say(message)


@app.command()
def status(
    ref: Ref,
    new_status: Annotated[
        Status,
        typer.Argument(metavar="STATUS", case_sensitive=False, help="Where the incident is now."),
    ],
    note: Annotated[
        str,
        typer.Option(metavar="TEXT", help="Why; required when declining, shown on the timeline."),
    ] = "",
    as_json: Json = False,
) -> None:
    """Move an incident to another status.

    The lifecycle is triage → investigating → identified → monitoring → resolved → closed, or
    triage → declined. Resolving applies the resolution gate; `resolve` can record what it needs.
    """
    hints = RESOLVE_HINTS if new_status == Status.RESOLVED else None
    incident = call(
        "POST",
        incident_path(ref) + "/status",
        json={"status": new_status.value, "note": note},
        hints=hints,
    )
    _done(incident, as_json, f"{incident['reference']} is now {incident['status']}.")


@app.command()
def severity(
    ref: Ref,
    level: Annotated[
        str,
        typer.Argument(
            metavar="SEV", help="SEV1 (critical) to SEV4 (low).", callback=_choices.severity
        ),
    ],
    reason: Annotated[str, typer.Option(metavar="TEXT", help="Why the severity changed.")] = "",
    as_json: Json = False,
) -> None:
    """Raise or lower an incident's severity."""
    incident = call(
        "POST", incident_path(ref) + "/severity", json={"severity": level, "reason": reason}
    )
    _done(incident, as_json, f"{incident['reference']} is now {incident['severity']}.")


@app.command()
def assign(
    ref: Ref,
    role: Annotated[
        _choices.IncidentRoleChoice,
        typer.Argument(
            metavar="ROLE",
            case_sensitive=False,
            help="The role to give; sme may be held by several people.",
        ),
    ],
    user: Annotated[str, typer.Argument(metavar="USER", help="Their email or user id.")],
    as_json: Json = False,
) -> None:
    """Give someone a role on an incident; the previous holder of the role hands it over."""
    incident = call("POST", incident_path(ref) + "/roles", json={"role": role.value, "user": user})
    holders = incident["roles"].get(role.value)
    if isinstance(holders, list):  # SMEs: the one just added
        wanted = user.strip().lower()
        holder = next((h for h in holders if wanted in (h["email"].lower(), str(h["id"]))), None)
    else:
        holder = holders
    _done(incident, as_json, f"{person(holder)} is now {role.value} on {incident['reference']}.")


@app.command()
def note(
    *,
    ref: Ref,
    text: Annotated[
        str, typer.Argument(metavar="TEXT", help="What happened, was found or was decided.")
    ],
    decision: Annotated[bool, typer.Option("--decision", help="Record it as a decision.")] = False,
    thread: Annotated[
        str | None, typer.Option(metavar="NAME", help="Thread name [default: the command thread]")
    ] = None,
    pin: Annotated[bool, typer.Option("--pin", help="Pin it to the top of the timeline.")] = False,
    as_json: Json = False,
) -> None:
    """Add a note (or a decision) to an incident's timeline."""
    body: dict[str, Any] = {"kind": "decision" if decision else "note", "body": text, "pinned": pin}
    if thread:
        body["thread"] = thread
    entry = call("POST", incident_path(ref) + "/timeline", json=body)
    if as_json:
        echo_json(entry)
    else:
        where = "" if entry["thread"] == "command" else f" in thread {entry['thread']}"
        say(f"Added {entry['kind']} #{entry['id']}{where}{' (pinned)' if pin else ''}.")


@app.command()
def resolve(
    *,
    ref: Ref,
    criteria: Annotated[
        str | None, typer.Option(metavar="TEXT", help="What stable means for this incident.")
    ] = None,
    criteria_met: Annotated[
        bool, typer.Option("--criteria-met", help="Confirm the systems meet the criteria.")
    ] = False,
    impact_ended: Annotated[
        bool, typer.Option("--impact-ended", help="Confirm customer impact has ended.")
    ] = False,
    postmortem_owner: Annotated[
        str | None,
        typer.Option(
            metavar="EMAIL", help="Who writes the postmortem (email); needed for SEV1 and SEV2."
        ),
    ] = None,
    postmortem_due: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="When it is due (ISO 8601, UTC if no zone).",
            callback=_choices.instant,
        ),
    ] = None,
    waive_monitoring: Annotated[
        str | None,
        typer.Option(metavar="REASON", help="Skip the rest of the monitoring period, saying why."),
    ] = None,
    note: Annotated[
        str, typer.Option(metavar="TEXT", help="A closing note for the timeline.")
    ] = "",
    as_json: Json = False,
) -> None:
    """Resolve an incident, recording what the resolution gate asks for.

    If anything is still missing nothing is changed, and every unmet condition is listed with
    the option that supplies it.
    """
    body: dict[str, Any] = {
        "resolution_criteria": criteria,
        "criteria_met": True if criteria_met else None,
        "customer_impact_ended": True if impact_ended else None,
        "postmortem_owner": postmortem_owner,
        "postmortem_due_at": postmortem_due,
        "monitoring_waiver_reason": waive_monitoring,
        "note": note,
    }
    payload = {key: value for key, value in body.items() if value is not None}
    incident = call("POST", incident_path(ref) + "/resolve", json=payload, hints=RESOLVE_HINTS)
    _done(incident, as_json, f"Resolved {incident['reference']} ({incident['severity']}).")
