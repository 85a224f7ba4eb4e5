"""Incidents as people read them: a one-line summary, a table, a full page with the timeline."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table

from fireline.cli._output import add_row, out, say, when

ROLE_LABELS = {
    "commander": "Commander",
    "tech_lead": "Tech lead",
    "comms_lead": "Comms lead",
    "scribe": "Scribe",
    "sme": "SMEs",
}
MILESTONES = (
    "impact_started_at",
    "detected_at",
    "reported_at",
    "declared_at",
    "acknowledged_at",
    "identified_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
)


def person(user: dict[str, Any] | None) -> str:
    return "—" if not user else f"{user['name']} <{user['email']}>"


def incident_table(incidents: list[dict[str, Any]]) -> None:
    table = Table(box=box.SIMPLE_HEAD)
    for header in ("Reference", "Severity", "Status"):
        table.add_column(header, no_wrap=True)
    table.add_column("Title", ratio=3)
    table.add_column("Commander", ratio=1)
    table.add_column("Declared (UTC)", no_wrap=True)
    for incident in incidents:
        commander = incident["roles"].get("commander")
        add_row(
            table,
            incident["reference"],
            incident["severity"],
            incident["status"],
            incident["title"],
            commander["name"] if commander else "—",
            when(incident["declared_at"] or incident["reported_at"]).removesuffix(" UTC"),
        )
    out.print(table)


def _field(label: str, value: str) -> None:
    say(f"{label + ':':<22}{value}")


def incident_page(incident: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """Everything about one incident, then its timeline oldest first."""
    major = " · major" if incident["is_major"] else ""
    say(f"{incident['reference']} · {incident['severity']}{major} · {incident['status']}")
    say(incident["title"])
    say("")
    _field("War room", incident["war_room"] or "— (opens when declared)")
    services = ", ".join(item["slug"] for item in incident["services"])
    _field("Services", services or "—")
    for role, label in ROLE_LABELS.items():
        holder = incident["roles"].get(role)
        if role == "sme":
            if holder:
                _field(label, ", ".join(person(user) for user in holder))
        else:
            _field(label, person(holder))
    for key, label in (
        ("summary", "Summary"),
        ("customer_impact", "Customer impact"),
        ("resolution_criteria", "Resolution criteria"),
        ("decline_reason", "Declined because"),
        ("monitoring_waiver_reason", "Monitoring waived"),
    ):
        if incident.get(key):
            _field(label, str(incident[key]))
    if incident["postmortem_owner"] or incident["postmortem_due_at"]:
        due = when(incident["postmortem_due_at"])
        _field("Postmortem", f"{person(incident['postmortem_owner'])}, due {due}")
    for key in MILESTONES:
        if incident.get(key):
            _field(key.removesuffix("_at").replace("_", " ").capitalize(), when(incident[key]))
    say("")
    say(f"Timeline ({len(entries)} {'entry' if len(entries) == 1 else 'entries'})")
    for entry in entries:
        marks = (" (pinned)" if entry["pinned"] else "") + (
            f" [{entry['thread']}]" if entry["thread"] != "command" else ""
        )
        author = entry["author"]
        by = f" by {author['name']}" if author and entry["kind"] in {"note", "decision"} else ""
        say(f"  {when(entry['occurred_at'])}  {entry['kind']}{by}{marks}: {entry['body']}")
