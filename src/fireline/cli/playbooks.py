"""`fireline playbooks list`, and an incident's checklist: `fireline incidents tasks|task-done`.

Like every incident command, these talk to FIRELINE_URL with FIRELINE_TOKEN; the two incident
commands register themselves on the `incidents` Typer app when this module is imported."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from fireline.cli._output import add_row, echo_json, note, out, say, when
from fireline.cli.incidents import Json, incident_path
from fireline.cli.incidents import app as incidents_app
from fireline.cli.remote import call

app = typer.Typer(
    help="The playbooks attached to incidents (uses FIRELINE_URL and FIRELINE_TOKEN).",
    no_args_is_help=True,
)

Ref = Annotated[
    str, typer.Argument(metavar="REF", help="Incident reference or number, e.g. INC-42 or 42.")
]
_STATE = {"open": "open", "overdue": "OVERDUE", "done": "done"}


def _conditions(conditions: dict[str, Any]) -> str:
    """`severity_at_least SEV2; services checkout` — or `every declared incident`."""
    if not conditions:
        return "every declared incident"
    return "; ".join(
        f"{name} {', '.join(map(str, value)) if isinstance(value, list) else value}"
        for name, value in conditions.items()
    )


@app.command("list")
def list_playbooks(as_json: Json = False) -> None:
    """List the playbooks and the incidents they attach to."""
    playbooks = call("GET", "/api/v1/playbooks")
    if as_json:
        echo_json(playbooks)
        return
    if not playbooks:
        note("No playbooks.")
        return
    table = Table(box=box.SIMPLE_HEAD)
    for header in ("Slug", "Name", "Tasks", "Enabled", "Attached to"):
        table.add_column(header)
    for playbook in playbooks:
        add_row(
            table,
            playbook["slug"],
            playbook["name"],
            str(len(playbook["tasks"])),
            "yes" if playbook["enabled"] else "no",
            _conditions(playbook["conditions"]),
        )
    out.print(table)


@incidents_app.command()
def tasks(ref: Ref, as_json: Json = False) -> None:
    """Show an incident's checklist: each task's owner, due time and state."""
    checklist = call("GET", incident_path(ref) + "/tasks")
    if as_json:
        echo_json(checklist)
        return
    if not checklist:
        note("No tasks: attach a playbook, or add one through the API.")
        return
    table = Table(box=box.SIMPLE_HEAD)
    for header in ("ID", "State", "Due (UTC)", "Owner"):
        table.add_column(header, no_wrap=True)
    table.add_column("Task", ratio=1)
    for task in checklist:
        add_row(
            table,
            str(task["id"]),
            _STATE.get(task["state"], task["state"]),
            when(task["due_at"]).removesuffix(" UTC"),
            (task["owner_role"] or "—").replace("_", " "),
            task["title"],
        )
    out.print(table)


@incidents_app.command("task-done")
def task_done(
    ref: Ref,
    task_id: Annotated[int, typer.Argument(metavar="TASK_ID", help="From `incidents tasks`.")],
    note_text: Annotated[
        str, typer.Option("--note", metavar="TEXT", help="Shown on the timeline.")
    ] = "",
    as_json: Json = False,
) -> None:
    """Tick a task off as done by you."""
    task = call("POST", incident_path(ref) + f"/tasks/{task_id}/complete", json={"note": note_text})
    if as_json:
        echo_json(task)
    else:
        say(f"Done: {task['title']}")
