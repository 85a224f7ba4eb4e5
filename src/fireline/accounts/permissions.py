"""What each role may do. Token scopes narrow a user's permissions, never widen them."""

from __future__ import annotations

from enum import StrEnum

from fireline.models import Role


class Permission(StrEnum):
    """One thing a caller may do; the value is also the token scope that grants it."""

    INCIDENTS_READ = "incidents:read"
    INCIDENTS_WRITE = "incidents:write"
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    SEVERITIES_WRITE = "severities:write"
    USERS_READ = "users:read"
    USERS_ADMIN = "users:admin"
    AUDIT_READ = "audit:read"
    JOBS_ADMIN = "jobs:admin"
    PLAYBOOKS_ADMIN = "playbooks:admin"
    NOTIFICATIONS_ADMIN = "notifications:admin"
    AUTOMATION_ADMIN = "automation:admin"
    ALERTS_READ = "alerts:read"
    ALERTS_WRITE = "alerts:write"  # acknowledge, resolve, maintenance windows, silences
    INTEGRATIONS_ADMIN = "integrations:admin"  # integrations, routing and declare rules, heartbeats
    ONCALL_READ = "oncall:read"
    ONCALL_WRITE = "oncall:write"  # overrides: responders swap shifts among themselves
    ONCALL_ADMIN = "oncall:admin"  # schedules, layers, escalation policies
    STATUSPAGE_WRITE = "statuspage:write"  # publish incidents, post updates, stakeholder updates
    STATUSPAGE_ADMIN = "statuspage:admin"  # pages, components, templates, subscribers, audiences


_READ = frozenset(
    {
        Permission.INCIDENTS_READ,
        Permission.CATALOG_READ,
        Permission.USERS_READ,
        Permission.ALERTS_READ,
        Permission.ONCALL_READ,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _READ,
    Role.RESPONDER: _READ
    | {
        Permission.INCIDENTS_WRITE,
        Permission.CATALOG_WRITE,
        Permission.ALERTS_WRITE,
        Permission.ONCALL_WRITE,
        Permission.STATUSPAGE_WRITE,
    },
    Role.ADMIN: frozenset(Permission),
}


def permissions_for(role: str, scopes: list[str] | None = None) -> frozenset[Permission]:
    """The permissions a user of `role` has, narrowed to `scopes` when acting through a token."""
    granted = ROLE_PERMISSIONS[Role(role)]
    if scopes is None:
        return granted
    known = {permission.value for permission in Permission}
    return granted & {Permission(scope) for scope in scopes if scope in known}
