"""notifications, playbooks, automation rules, holidays; seeds the defaults of the seeds

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 16:30:40.202398
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# The defaults, as shipped: editable afterwards through the API. Kept literal here (not imported
# from the application) so this migration means the same thing whatever the code becomes.
_PHASES = (
    "0-5 min: declare and mobilise",
    "5-15 min: stabilise signal and ownership",
    "15-30 min: mitigate",
    "30-45 min: confirm recovery",
    "45-60 min: monitoring and closure plan",
)
_MAJOR_INCIDENT_TASKS = [
    (0, "Confirm the severity against customer, revenue and security impact", "commander", 5),
    (0, "Open the war room and post its name in the incident channel", "commander", 5),
    (0, "Assign the technical lead, communications lead and scribe", "commander", 5),
    (0, "Post the public acknowledgement on the status page", "comms_lead", 5),
    (1, "Establish the blast radius: regions, services, customers", "tech_lead", 15),
    (1, "Suppress duplicate alerts so the signal stays readable", "tech_lead", 15),
    (1, "Name an owner for each affected subsystem", "commander", 15),
    (1, "Send the first internal stakeholder update", "comms_lead", 15),
    (2, "Mitigate: roll back, reroute or turn off the feature flag", "tech_lead", 30),
    (2, "Give customers a safe workaround, if there is one", "comms_lead", 30),
    (2, "Post an external update with the next checkpoint", "comms_lead", 30),
    (3, "Check recovery in every region and on the key endpoints", "tech_lead", 45),
    (3, "Compare error rates and latency with the baseline", "tech_lead", 45),
    (3, "Check the support ticket trend", "comms_lead", 45),
    (3, "Post the second external update", "comms_lead", 45),
    (4, "Agree the resolution criteria and the monitoring period", "commander", 60),
    (4, "Name the postmortem owner and deadline", "commander", 60),
    (4, "Set the time of the final update", "comms_lead", 60),
]
_PUBLIC_UPDATES = ["first_public_update", "public_update"]
_DEFAULT_RULES = [
    {
        "name": "SEV1: notify executives",
        "description": "The exec notice a SEV1 owes, sent to the `executives` channel at "
        "declaration or when an incident is raised to SEV1. Create that channel to receive it.",
        "triggers": ["incident.declared", "incident.severity_changed"],
        "conditions": {"severity_at_least": "SEV1"},
        "actions": [{"type": "notify", "to": {"channel": "executives"}, "exec_notice": True}],
        "once_per_incident": True,
    },
    {
        "name": "SEV1: escalate to the owning teams",
        "description": "Pages the teams that own the affected services when a SEV1 starts.",
        "triggers": ["incident.declared", "incident.severity_changed"],
        "conditions": {"severity_at_least": "SEV1"},
        "actions": [{"type": "notify", "to": {"service_owners": True}}],
        "once_per_incident": True,
    },
    {
        "name": "Major incidents: remind the comms lead of public updates",
        "description": "Before each public update of a SEV1 or SEV2 falls due.",
        "triggers": ["obligation.due_soon"],
        "conditions": {"severity_at_least": "SEV2", "obligation_kinds": _PUBLIC_UPDATES},
        "actions": [{"type": "notify", "to": {"role": "comms_lead"}}],
        "once_per_incident": False,
    },
    {
        "name": "Major incidents: tell the commander of a missed public update",
        "description": "When a SEV1 or SEV2 public update is overdue.",
        "triggers": ["obligation.missed"],
        "conditions": {"severity_at_least": "SEV2", "obligation_kinds": _PUBLIC_UPDATES},
        "actions": [{"type": "notify", "to": {"role": "commander"}}],
        "once_per_incident": False,
    },
]


def _seed() -> None:
    now = datetime.now(UTC)
    playbooks = sa.table(
        "playbooks",
        sa.column("slug", sa.String()),
        sa.column("name", sa.String()),
        sa.column("description", sa.Text()),
        sa.column("conditions", _JSON),
        sa.column("tasks", _JSON),
        sa.column("enabled", sa.Boolean()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    tasks = [
        {"title": title, "phase": _PHASES[phase], "owner_role": role, "due_minutes": minutes}
        for phase, title, role, minutes in _MAJOR_INCIDENT_TASKS
    ]
    op.bulk_insert(
        playbooks,
        [
            {
                "slug": "major-incident",
                "name": "Major incident: the first 60 minutes",
                "description": "Declare and mobilise, stabilise, mitigate, confirm recovery, "
                "plan the closure: the framework every SEV1 and SEV2 follows.",
                "conditions": {"severity_at_least": "SEV2"},
                "tasks": tasks,
                "enabled": True,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )
    rules = sa.table(
        "automation_rules",
        sa.column("name", sa.String()),
        sa.column("description", sa.Text()),
        sa.column("triggers", _JSON),
        sa.column("conditions", _JSON),
        sa.column("actions", _JSON),
        sa.column("delay_seconds", sa.Integer()),
        sa.column("once_per_incident", sa.Boolean()),
        sa.column("enabled", sa.Boolean()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        rules,
        [
            {**rule, "delay_seconds": 0, "enabled": True, "created_at": now, "updated_at": now}
            for rule in _DEFAULT_RULES
        ],
    )


def upgrade() -> None:
    op.create_table(
        "automation_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "triggers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "conditions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "actions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("delay_seconds", sa.Integer(), nullable=False),
        sa.Column("once_per_incident", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_automation_rules_name")),
    )
    op.create_table(
        "channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("transport", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "transport IN ('email', 'webhook', 'slack')", name=op.f("ck_channels_transport_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint("name", name=op.f("uq_channels_name")),
    )
    op.create_table(
        "holidays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holidays")),
        sa.UniqueConstraint("day", name=op.f("uq_holidays_day")),
    )
    op.create_table(
        "playbooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "conditions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "tasks",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbooks")),
        sa.UniqueConstraint("slug", name=op.f("uq_playbooks_slug")),
    )
    op.create_table(
        "contact_methods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("transport", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=2000), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column(
            "events",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("min_severity_level", sa.Integer(), nullable=True),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "transport IN ('email', 'webhook', 'slack')",
            name=op.f("ck_contact_methods_transport_known"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_contact_methods_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_methods")),
    )
    with op.batch_alter_table("contact_methods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_methods_user_id"), ["user_id"], unique=False)

    op.create_table(
        "automation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("run_key", sa.String(length=300), nullable=False),
        sa.Column("trigger", sa.String(length=40), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "outcome",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_automation_runs_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["automation_rules.id"],
            name=op.f("fk_automation_runs_rule_id_automation_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_runs")),
    )
    with op.batch_alter_table("automation_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_automation_runs_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index("uq_automation_runs_key", ["rule_id", "run_key"], unique=True)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=60), nullable=False),
        sa.Column("transport", sa.String(length=20), nullable=True),
        sa.Column("target", sa.String(length=2000), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("contact_method_id", sa.Integer(), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column(
            "message",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'retrying', 'delivered', 'failed', 'skipped')",
            name=op.f("ck_deliveries_state_known"),
        ),
        sa.CheckConstraint(
            "transport IN ('email', 'webhook', 'slack')", name=op.f("ck_deliveries_transport_known")
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_deliveries_channel_id_channels"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contact_method_id"],
            ["contact_methods.id"],
            name=op.f("fk_deliveries_contact_method_id_contact_methods"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_deliveries_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_deliveries_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_deliveries_dedupe_key")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_incident_id", ["incident_id", "id"], unique=False)
        batch_op.create_index("ix_deliveries_state_id", ["state", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_user_id"), ["user_id"], unique=False)

    op.create_table(
        "incident_playbooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("playbook_id", sa.Integer(), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_playbooks_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["playbook_id"],
            ["playbooks.id"],
            name=op.f("fk_incident_playbooks_playbook_id_playbooks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_playbooks")),
    )
    with op.batch_alter_table("incident_playbooks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_playbooks_playbook_id"), ["playbook_id"], unique=False
        )
        batch_op.create_index(
            "uq_incident_playbooks_pair", ["incident_id", "playbook_id"], unique=True
        )

    op.create_table(
        "incident_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("playbook_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("phase", sa.String(length=100), nullable=False),
        sa.Column("owner_role", sa.String(length=20), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["done_by_id"], ["users.id"], name=op.f("fk_incident_tasks_done_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_tasks_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["playbook_id"], ["playbooks.id"], name=op.f("fk_incident_tasks_playbook_id_playbooks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_tasks")),
    )
    with op.batch_alter_table("incident_tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incident_tasks_incident_id", ["incident_id", "position"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_incident_tasks_playbook_id"), ["playbook_id"], unique=False
        )

    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_attempts_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.create_index("uq_delivery_attempts_number", ["delivery_id", "number"], unique=True)

    _seed()


def downgrade() -> None:
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index("uq_delivery_attempts_number")

    op.drop_table("delivery_attempts")
    with op.batch_alter_table("incident_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_tasks_playbook_id"))
        batch_op.drop_index("ix_incident_tasks_incident_id")

    op.drop_table("incident_tasks")
    with op.batch_alter_table("incident_playbooks", schema=None) as batch_op:
        batch_op.drop_index("uq_incident_playbooks_pair")
        batch_op.drop_index(batch_op.f("ix_incident_playbooks_playbook_id"))

    op.drop_table("incident_playbooks")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_user_id"))
        batch_op.drop_index("ix_deliveries_state_id")
        batch_op.drop_index("ix_deliveries_incident_id")

    op.drop_table("deliveries")
    with op.batch_alter_table("automation_runs", schema=None) as batch_op:
        batch_op.drop_index("uq_automation_runs_key")
        batch_op.drop_index(batch_op.f("ix_automation_runs_incident_id"))

    op.drop_table("automation_runs")
    with op.batch_alter_table("contact_methods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_methods_user_id"))

    op.drop_table("contact_methods")
    op.drop_table("playbooks")
    op.drop_table("holidays")
    op.drop_table("channels")
    op.drop_table("automation_rules")
