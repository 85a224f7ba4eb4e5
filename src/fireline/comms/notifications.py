"""Telling subscribers: what the publishing code calls when something they follow changes.

Each call queues durable deliveries (one `notify.deliver` job per subscriber) in the caller's
transaction; nothing is sent before it commits. Each delivery's dedupe key names the change
and the subscriber, so a publishing job that runs twice sends nothing twice.

Email subscribers get a mail with their own unsubscribe link (and RFC 8058 one-click
List-Unsubscribe headers); webhook subscribers get Atlassian Statuspage's webhook documents,
unsigned as Statuspage's are:

    {"meta": {"unsubscribe": url, "documentation": url},
     "page": {"id", "status_indicator", "status_description"},
     "incident": {..., "incident_updates": [...]}}                    an incident or maintenance
    {"meta", "page",
     "component_update": {"created_at", "new_status", "old_status", "id", "component_id"},
     "component": {"created_at", "id", "name", "status"}}             a component's status
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.clock import as_utc
from fireline.comms import indicator, subscribers
from fireline.comms.public_incidents import components_of, updates_of
from fireline.comms.snapshot import Indicator
from fireline.models import (
    Component,
    PublicIncident,
    PublicKind,
    PublicStatus,
    PublicUpdate,
    StatusPage,
    Subscriber,
    SubscriberKind,
    Transport,
)
from fireline.models.comms import ENDED_STATUSES
from fireline.notify.service import queue_message

DOCUMENTATION_URL = "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/"
INCIDENT_EVENT = "status.incident_updated"
COMPONENT_EVENT = "status.component_changed"
REMINDER_EVENT = "status.maintenance_reminder"

_MAINTENANCE_ACTIVE = frozenset({PublicStatus.IN_PROGRESS.value, PublicStatus.VERIFYING.value})


def incident_updated(
    session: Session,
    *,
    public_incident: PublicIncident,
    update: PublicUpdate,
    now: datetime,
    base_url: str,
) -> None:
    """A public incident or maintenance was created or got an update: subscribers who follow
    any of its components (or everything) hear of it. One that names no components concerns
    the whole page and reaches every confirmed subscriber."""
    page = session.get_one(StatusPage, public_incident.page_id)
    components = components_of(session, public_incident)
    status = _label(update.status)
    facts = [f"{status} — {_when(update.display_at)}"]
    if components:
        facts.append("Affected: " + ", ".join(component.name for component in components))
    _notify_incident(
        session,
        page=page,
        public_incident=public_incident,
        components=components,
        base_url=base_url,
        now=now,
        event=INCIDENT_EVENT,
        email={
            "subject": f"[{page.name}] {public_incident.name} — {status}",
            "heading": public_incident.name,
            "facts": facts,
            "body": update.body,
        },
        reason=f"{page.name}: {public_incident.name} ({update.status}).",
        key=lambda subscriber: f"status-sub:{update.code}:{subscriber.id}",
    )


def component_changed(
    session: Session,
    *,
    component: Component,
    old_status: str,
    now: datetime,
    base_url: str,
) -> None:
    """A component's status changed (on its own, or by an update): subscribers who follow it
    (or everything) hear of it."""
    page = session.get_one(StatusPage, component.page_id)
    # Stable across a retried job: the same change at the same instant gets the same id.
    change_id = hashlib.sha256(
        f"{component.code}:{as_utc(now).isoformat()}:{old_status}:{component.status}".encode()
    ).hexdigest()[:12]
    new, old = _label(component.status), _label(old_status)

    def document(subscriber: Subscriber) -> dict[str, Any]:
        return {
            **_head(session, page, base_url, subscriber),
            "component_update": {
                "created_at": _iso(now),
                "new_status": component.status,
                "old_status": old_status,
                "id": change_id,
                "component_id": component.code,
            },
            "component": _component_json(component),
        }

    _notify(
        session,
        page=page,
        component_codes=[component.code],
        base_url=base_url,
        now=now,
        event=COMPONENT_EVENT,
        webhook=document,
        email={
            "subject": f"[{page.name}] {component.name} — {new}",
            "heading": f"{component.name}: {new}",
            "facts": [f"{old} → {new} — {_when(now)}"],
            "body": "",
            "link": subscribers.page_url(base_url, page),
        },
        reason=f"{page.name}: {component.name} is {new.lower()}.",
        key=lambda subscriber: f"status-sub:component:{change_id}:{subscriber.id}",
    )


def maintenance_reminder(
    session: Session, *, maintenance: PublicIncident, now: datetime, base_url: str
) -> None:
    """A scheduled maintenance starts soon (its remind_minutes before scheduled_for):
    subscribers who follow its components (or everything) are reminded once."""
    page = session.get_one(StatusPage, maintenance.page_id)
    components = components_of(session, maintenance)
    updates = updates_of(session, maintenance)
    starts = maintenance.scheduled_for or now
    facts = [f"Scheduled: {_when(starts)}"]
    if maintenance.scheduled_until is not None:
        facts[0] += f" to {_when(maintenance.scheduled_until)}"
    if components:
        facts.append("Affected: " + ", ".join(component.name for component in components))
    _notify_incident(
        session,
        page=page,
        public_incident=maintenance,
        components=components,
        updates=updates,
        base_url=base_url,
        now=now,
        event=REMINDER_EVENT,
        email={
            "subject": f"[{page.name}] Reminder: {maintenance.name} — starts {_when(starts)}",
            "heading": f"Scheduled maintenance: {maintenance.name}",
            "facts": facts,
            "body": updates[0].body if updates else "",
        },
        reason=f"{page.name}: reminder of {maintenance.name}.",
        key=lambda subscriber: (
            f"status-sub:remind:{maintenance.code}:{_iso(starts)}:{subscriber.id}"
        ),
    )


def _notify_incident(
    session: Session,
    *,
    page: StatusPage,
    public_incident: PublicIncident,
    components: list[Component],
    updates: list[PublicUpdate] | None = None,
    base_url: str,
    now: datetime,
    event: str,
    email: Mapping[str, Any],
    reason: str,
    key: Callable[[Subscriber], str],
) -> None:
    """Tell the subscribers who follow any of `components` (or everything) about the public
    incident or maintenance: webhooks get its document, emails `email` and its permalink."""
    if updates is None:
        updates = updates_of(session, public_incident)
    _notify(
        session,
        page=page,
        component_codes=[component.code for component in components],
        base_url=base_url,
        now=now,
        event=event,
        webhook=lambda subscriber: _incident_document(
            session,
            page=page,
            public_incident=public_incident,
            components=components,
            updates=updates,
            base_url=base_url,
            subscriber=subscriber,
        ),
        email={"link": _permalink(base_url, page, public_incident), **email},
        reason=reason,
        key=key,
    )


def _notify(
    session: Session,
    *,
    page: StatusPage,
    component_codes: list[str],
    base_url: str,
    now: datetime,
    event: str,
    webhook: Callable[[Subscriber], dict[str, Any]],
    email: Mapping[str, Any],
    reason: str,
    key: Callable[[Subscriber], str],
) -> None:
    """Queue a message to each subscriber who follows any of `component_codes` (or
    everything): webhook(subscriber) to a webhook, an email of `email`'s parts otherwise."""
    for subscriber in subscribers.audience(
        session, page_id=page.id, component_codes=component_codes
    ):
        if subscriber.kind == SubscriberKind.WEBHOOK:
            message = webhook(subscriber)
        else:
            message = _email(page, subscriber, base_url=base_url, **email)
        _queue(
            session,
            subscriber=subscriber,
            event=event,
            message=message,
            reason=reason,
            key=key(subscriber),
            now=now,
        )


def _queue(
    session: Session,
    *,
    subscriber: Subscriber,
    event: str,
    message: dict[str, Any],
    reason: str,
    key: str,
    now: datetime,
) -> None:
    webhook = subscriber.kind == SubscriberKind.WEBHOOK
    queue_message(
        session,
        event=event,
        transport=Transport.WEBHOOK if webhook else Transport.EMAIL,
        target=subscriber.target,
        message=message,
        reason=f"{reason} Subscriber {subscriber.code}.",
        key=key,
        now=now,
    )


def _email(
    page: StatusPage,
    subscriber: Subscriber,
    *,
    base_url: str,
    subject: str,
    heading: str,
    facts: Sequence[str],
    body: str,
    link: str,
) -> dict[str, Any]:
    """A subscriber's mail: subject, text, html, and the one-click unsubscribe headers."""
    url = subscribers.links(base_url, subscriber)
    home = subscribers.page_url(base_url, page)
    paragraphs = [part.strip() for part in body.split("\n\n") if part.strip()]
    footer = f"You subscribed to {page.name} status updates ({home})."
    text = "\n\n".join(
        [
            heading,
            "\n".join(facts),
            *paragraphs,
            f"Details: {link}",
            "\n".join(
                [
                    "-- ",
                    footer,
                    f"Choose what you hear about: {url.manage}",
                    f"Unsubscribe: {url.unsubscribe}",
                ]
            ),
        ]
    )
    html_facts = "<br>".join(str(escape(fact)) for fact in facts)
    html_body = "".join(
        "<p>" + "<br>".join(str(escape(line)) for line in part.splitlines()) + "</p>"
        for part in paragraphs
    )
    html = (
        '<div style="font-family:sans-serif;font-size:15px;line-height:1.5">'
        f'<h1 style="font-size:20px">{escape(heading)}</h1>'
        f'<p style="color:#444">{html_facts}</p>{html_body}'
        f'<p><a href="{escape(link)}">See the details on {escape(page.name)}</a></p>'
        f'<hr><p style="color:#666;font-size:13px">{escape(footer)}<br>'
        f'<a href="{escape(url.manage)}">Choose what you hear about</a> · '
        f'<a href="{escape(url.unsubscribe)}">Unsubscribe</a></p></div>'
    )
    return {
        "subject": subject,
        "text": text + "\n",
        "html": html,
        "headers": {
            "List-Unsubscribe": f"<{url.unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }


def _head(
    session: Session, page: StatusPage, base_url: str, subscriber: Subscriber
) -> dict[str, Any]:
    """The `meta` and `page` parts every Statuspage webhook document starts with."""
    overall = _indicator(session, page)
    return {
        "meta": {
            "unsubscribe": subscribers.links(base_url, subscriber).unsubscribe,
            "documentation": DOCUMENTATION_URL,
        },
        "page": {
            "id": page.code,
            "status_indicator": overall.indicator,
            "status_description": overall.description,
        },
    }


def _incident_document(
    session: Session,
    *,
    page: StatusPage,
    public_incident: PublicIncident,
    components: list[Component],
    updates: list[PublicUpdate],
    base_url: str,
    subscriber: Subscriber,
) -> dict[str, Any]:
    maintenance = public_incident.kind == PublicKind.MAINTENANCE
    incident = {
        "backfilled": False,
        "created_at": _iso(public_incident.created_at),
        "impact": public_incident.impact,
        "impact_override": None,
        "monitoring_at": _iso(public_incident.monitoring_at),
        "postmortem_body": None,
        "postmortem_body_last_updated_at": None,
        "postmortem_ignored": True,
        "postmortem_notified_subscribers": False,
        "postmortem_notified_twitter": False,
        "postmortem_published_at": _iso(public_incident.report_published_at),
        "resolved_at": _iso(public_incident.resolved_at),
        "scheduled_auto_transition": maintenance and public_incident.auto_transition,
        "scheduled_for": _iso(public_incident.scheduled_for),
        "scheduled_remind_prior": maintenance and public_incident.remind_minutes is not None,
        "scheduled_reminded_at": _iso(public_incident.reminded_at),
        "scheduled_until": _iso(public_incident.scheduled_until),
        "shortlink": _permalink(base_url, page, public_incident),
        "status": public_incident.status,
        "updated_at": _iso(public_incident.updated_at),
        "id": public_incident.code,
        "organization_id": page.code,
        "page_id": page.code,
        "name": public_incident.name,
        "components": [_component_json(component) for component in components],
        "incident_updates": [
            {
                "body": update.body,
                "created_at": _iso(update.created_at),
                "display_at": _iso(update.display_at),
                "status": update.status,
                "twitter_updated_at": None,
                "updated_at": _iso(update.created_at),
                "wants_twitter_update": False,
                "id": update.code,
                "incident_id": public_incident.code,
                "affected_components": [
                    {
                        "code": change.get("code"),
                        "name": change.get("name"),
                        "old_status": change.get("old_status"),
                        "new_status": change.get("new_status"),
                    }
                    for change in update.affected_components
                ],
            }
            for update in updates
        ],
    }
    return {**_head(session, page, base_url, subscriber), "incident": incident}


def _component_json(component: Component) -> dict[str, Any]:
    return {
        "created_at": _iso(component.created_at),
        "id": component.code,
        "name": component.name,
        "status": component.status,
    }


def _indicator(session: Session, page: StatusPage) -> Indicator:
    """The page's overall indicator now, by the rule the page itself shows (comms/indicator)."""
    statuses = session.scalars(select(Component.status).where(Component.page_id == page.id))
    open_ones = session.execute(
        select(PublicIncident.kind, PublicIncident.status, PublicIncident.impact).where(
            PublicIncident.page_id == page.id,
            PublicIncident.status.not_in([status.value for status in ENDED_STATUSES]),
        )
    ).all()
    return indicator.overall(
        statuses,
        (impact for kind, _, impact in open_ones if kind == PublicKind.INCIDENT),
        maintenance_active=any(
            kind == PublicKind.MAINTENANCE and status in _MAINTENANCE_ACTIVE
            for kind, status, _ in open_ones
        ),
    )


def _permalink(base_url: str, page: StatusPage, public_incident: PublicIncident) -> str:
    return f"{subscribers.page_url(base_url, page)}/incidents/{public_incident.code}"


def _label(status: str) -> str:
    return status.replace("_", " ").capitalize()


def _when(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return as_utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")
