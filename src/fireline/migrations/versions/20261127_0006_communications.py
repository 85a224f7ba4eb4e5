"""communications: status pages, components, public incidents and updates, subscribers, audiences

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 23:15:21.639513
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "stakeholder_audiences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("recipients", _JSON, nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('executives', 'support', 'sales', 'custom')",
            name=op.f("ck_stakeholder_audiences_kind_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stakeholder_audiences")),
        sa.UniqueConstraint("name", name=op.f("uq_stakeholder_audiences_name")),
    )
    op.create_table(
        "status_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("homepage_url", sa.String(length=2000), nullable=False),
        sa.Column("support_url", sa.String(length=2000), nullable=False),
        sa.Column("time_zone", sa.String(length=60), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_pages")),
        sa.UniqueConstraint("code", name=op.f("uq_status_pages_code")),
        sa.UniqueConstraint("slug", name=op.f("uq_status_pages_slug")),
    )
    with op.batch_alter_table("status_pages", schema=None) as batch_op:
        batch_op.create_index(
            "uq_status_pages_one_default",
            ["is_default"],
            unique=True,
            sqlite_where=sa.text("is_default"),
            postgresql_where=sa.text("is_default"),
        )

    op.create_table(
        "update_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("current_impact", sa.Text(), nullable=False),
        sa.Column("doing_now", sa.Text(), nullable=False),
        sa.Column("users_should", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "audience IN ('public', 'internal')", name=op.f("ck_update_templates_audience_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_update_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_update_templates_name")),
    )
    op.create_table(
        "status_component_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["status_pages.id"],
            name=op.f("fk_status_component_groups_page_id_status_pages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_component_groups")),
        sa.UniqueConstraint("code", name=op.f("uq_status_component_groups_code")),
    )
    with op.batch_alter_table("status_component_groups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_status_component_groups_page", ["page_id", "position"], unique=False
        )

    op.create_table(
        "status_subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=2000), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("component_codes", _JSON, nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('email', 'webhook')", name=op.f("ck_status_subscribers_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["status_pages.id"],
            name=op.f("fk_status_subscribers_page_id_status_pages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_subscribers")),
        sa.UniqueConstraint("code", name=op.f("uq_status_subscribers_code")),
        sa.UniqueConstraint("token", name=op.f("uq_status_subscribers_token")),
    )
    with op.batch_alter_table("status_subscribers", schema=None) as batch_op:
        batch_op.create_index(
            "uq_status_subscribers_target", ["page_id", "kind", "target"], unique=True
        )

    op.create_table(
        "public_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("impact", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("monitoring_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("auto_transition", sa.Boolean(), nullable=False),
        sa.Column("remind_minutes", sa.Integer(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", _JSON, nullable=False),
        sa.Column("report_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "impact IN ('none', 'minor', 'major', 'critical', 'maintenance')",
            name=op.f("ck_public_incidents_impact_known"),
        ),
        sa.CheckConstraint(
            "kind IN ('incident', 'maintenance')", name=op.f("ck_public_incidents_kind_known")
        ),
        sa.CheckConstraint(
            "status IN ('investigating', 'identified', 'monitoring', 'resolved', 'postmortem', "
            "'scheduled', 'in_progress', 'verifying', 'completed')",
            name=op.f("ck_public_incidents_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_public_incidents_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_public_incidents_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["status_pages.id"],
            name=op.f("fk_public_incidents_page_id_status_pages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_incidents")),
        sa.UniqueConstraint("code", name=op.f("uq_public_incidents_code")),
    )
    with op.batch_alter_table("public_incidents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_public_incidents_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            "ix_public_incidents_page_created", ["page_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_public_incidents_page_status", ["page_id", "status"], unique=False
        )

    op.create_table(
        "status_components",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("showcase", sa.Boolean(), nullable=False),
        sa.Column("only_show_if_degraded", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('operational', 'degraded_performance', 'partial_outage', 'major_outage', "
            "'under_maintenance')",
            name=op.f("ck_status_components_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["status_component_groups.id"],
            name=op.f("fk_status_components_group_id_status_component_groups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["status_pages.id"],
            name=op.f("fk_status_components_page_id_status_pages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_status_components_service_id_services"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_components")),
        sa.UniqueConstraint("code", name=op.f("uq_status_components_code")),
    )
    with op.batch_alter_table("status_components", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_components_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index("ix_status_components_page", ["page_id", "position"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_status_components_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "public_incident_components",
        sa.Column("public_incident_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["status_components.id"],
            name=op.f("fk_public_incident_components_component_id_status_components"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["public_incident_id"],
            ["public_incidents.id"],
            name=op.f("fk_public_incident_components_public_incident_id_public_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "public_incident_id", "component_id", name=op.f("pk_public_incident_components")
        ),
    )
    with op.batch_alter_table("public_incident_components", schema=None) as batch_op:
        batch_op.create_index(
            "ix_public_incident_components_component_id", ["component_id"], unique=False
        )

    op.create_table(
        "public_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("public_incident_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("parts", _JSON, nullable=False),
        sa.Column("closing", sa.Boolean(), nullable=False),
        sa.Column("affected_components", _JSON, nullable=False),
        sa.Column("display_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timeline_entry_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('investigating', 'identified', 'monitoring', 'resolved', 'postmortem', "
            "'scheduled', 'in_progress', 'verifying', 'completed')",
            name=op.f("ck_public_updates_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_public_updates_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["public_incident_id"],
            ["public_incidents.id"],
            name=op.f("fk_public_updates_public_incident_id_public_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["timeline_entry_id"],
            ["timeline_entries.id"],
            name=op.f("fk_public_updates_timeline_entry_id_timeline_entries"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_updates")),
        sa.UniqueConstraint("code", name=op.f("uq_public_updates_code")),
    )
    with op.batch_alter_table("public_updates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_public_updates_incident", ["public_incident_id", "display_at"], unique=False
        )

    op.create_table(
        "status_component_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_incident_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('operational', 'degraded_performance', 'partial_outage', 'major_outage', "
            "'under_maintenance')",
            name=op.f("ck_status_component_changes_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["status_components.id"],
            name=op.f("fk_status_component_changes_component_id_status_components"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["public_incident_id"],
            ["public_incidents.id"],
            name=op.f("fk_status_component_changes_public_incident_id_public_incidents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_component_changes")),
    )
    with op.batch_alter_table("status_component_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_status_component_changes_component", ["component_id", "at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_status_component_changes_public_incident_id"),
            ["public_incident_id"],
            unique=False,
        )

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audience_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_audience_id_stakeholder_audiences"),
            "stakeholder_audiences",
            ["audience_id"],
            ["id"],
            ondelete="SET NULL",
        )
    _seed()


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_deliveries_audience_id_stakeholder_audiences"), type_="foreignkey"
        )
        batch_op.drop_column("audience_id")
    with op.batch_alter_table("status_component_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_component_changes_public_incident_id"))
        batch_op.drop_index("ix_status_component_changes_component")

    op.drop_table("status_component_changes")
    with op.batch_alter_table("public_updates", schema=None) as batch_op:
        batch_op.drop_index("ix_public_updates_incident")

    op.drop_table("public_updates")
    with op.batch_alter_table("public_incident_components", schema=None) as batch_op:
        batch_op.drop_index("ix_public_incident_components_component_id")

    op.drop_table("public_incident_components")
    with op.batch_alter_table("status_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_components_service_id"))
        batch_op.drop_index("ix_status_components_page")
        batch_op.drop_index(batch_op.f("ix_status_components_group_id"))

    op.drop_table("status_components")
    with op.batch_alter_table("public_incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_public_incidents_page_status")
        batch_op.drop_index("ix_public_incidents_page_created")
        batch_op.drop_index(batch_op.f("ix_public_incidents_incident_id"))

    op.drop_table("public_incidents")
    with op.batch_alter_table("status_subscribers", schema=None) as batch_op:
        batch_op.drop_index("uq_status_subscribers_target")

    op.drop_table("status_subscribers")
    with op.batch_alter_table("status_component_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_status_component_groups_page")

    op.drop_table("status_component_groups")
    op.drop_table("update_templates")
    with op.batch_alter_table("status_pages", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_status_pages_one_default",
            sqlite_where=sa.text("is_default"),
            postgresql_where=sa.text("is_default"),
        )

    op.drop_table("status_pages")
    op.drop_table("stakeholder_audiences")


# The starting texts of updates; admins edit them. {components} is the affected components,
# {next_update} the time of the next update.
_TEMPLATES: list[dict[str, str | None]] = [
    {
        "name": "Investigating",
        "audience": "public",
        "status": "investigating",
        "current_impact": "Some customers may be unable to use {components}.",
        "doing_now": "We are investigating the cause and working to restore service.",
        "users_should": "No action is needed. If you are affected, retry shortly.",
    },
    {
        "name": "Identified",
        "audience": "public",
        "status": "identified",
        "current_impact": "Some customers may be unable to use {components}.",
        "doing_now": "We have found the problem and are putting a fix in place.",
        "users_should": "No action is needed.",
    },
    {
        "name": "Monitoring",
        "audience": "public",
        "status": "monitoring",
        "current_impact": "{components} should be working normally again.",
        "doing_now": "A fix is in place and we are watching the results.",
        "users_should": "If you still see problems, please contact support.",
    },
    {
        "name": "Resolved",
        "audience": "public",
        "status": "resolved",
        "current_impact": "{components} is working normally.",
        "doing_now": "This incident is resolved. We will publish a report on what happened.",
        "users_should": "No action is needed.",
    },
    {
        "name": "Scheduled maintenance",
        "audience": "public",
        "status": "scheduled",
        "current_impact": "{components} may be unavailable during the maintenance window.",
        "doing_now": "We will carry out planned maintenance.",
        "users_should": "Plan around the window; no other action is needed.",
    },
    {
        "name": "Stakeholder update",
        "audience": "internal",
        "status": None,
        "current_impact": "Customers of {components} are affected.",
        "doing_now": "The response team is working on it.",
        "users_should": "",
    },
]


def _seed() -> None:
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    stamps = {"created_at": now, "updated_at": now}
    pages = sa.table(
        "status_pages",
        *(
            sa.column(name)
            for name in (
                "code",
                "slug",
                "name",
                "description",
                "homepage_url",
                "support_url",
                "time_zone",
                "is_default",
                "version",
                "created_at",
                "updated_at",
            )
        ),
    )
    op.bulk_insert(
        pages,
        [
            {
                "code": secrets.token_hex(6),
                "slug": "status",
                "name": "Service status",
                "description": "",
                "homepage_url": "",
                "support_url": "",
                "time_zone": "Etc/UTC",
                "is_default": True,
                "version": 1,
                **stamps,
            }
        ],
    )
    templates = sa.table(
        "update_templates", *(sa.column(name) for name in (*_TEMPLATES[0], *stamps))
    )
    op.bulk_insert(templates, [{**row, **stamps} for row in _TEMPLATES])
