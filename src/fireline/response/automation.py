"""Automation rules: when a trigger happens to an incident that meets a rule's conditions, the
rule's actions run — notify someone, attach a playbook, call a webhook, add a note.

fire() runs in the transaction of the change and only queues an `automation.run` job per
matching rule (after the rule's delay), so a slow mail server never slows a responder down and
a crash loses nothing. The job checks the conditions again when it runs (a delayed rule acts
only if the incident still qualifies), then records an AutomationRun whose unique key makes the
actions happen once per event — or once per incident for a run-once rule — however many times
the job runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.accounts.service import find_user
from fireline.audit.service import record
from fireline.config import Settings
from fireline.errors import AppError, NotFound
from fireline.incidents.queries import get_incident
from fireline.incidents.recording import add_entry
from fireline.incidents.roles import holder
from fireline.jobs.handlers import Handler, JobContext
from fireline.jobs.queue import enqueue
from fireline.models import (
    AutomationRule,
    AutomationRun,
    Delivery,
    DeliveryState,
    Incident,
    Service,
    Team,
    Transport,
    User,
)
from fireline.notify import destinations
from fireline.notify.notice import Notice
from fireline.notify.service import Occasion, notify_channel, notify_users, skip, team_members
from fireline.response.conditions import matches, severity_levels, subject_of
from fireline.response.notices import describe, role_name
from fireline.response.playbooks.service import attach
from fireline.response.rules_schemas import (
    ACTIONS,
    AttachPlaybookAction,
    NoteAction,
    NotifyAction,
    Recipient,
    WebhookAction,
)
from fireline.response.triggers import Event, Trigger

log = structlog.get_logger()

AUTOMATION_JOB = "automation.run"
EXEC_NOTICE_ENTRY = "exec_notice"


def _listening(session: Session, trigger: Trigger) -> list[AutomationRule]:
    rules = session.scalars(
        select(AutomationRule).where(AutomationRule.enabled).order_by(AutomationRule.id)
    )
    return [rule for rule in rules if trigger.value in rule.triggers]


def _run_key(rule: AutomationRule, incident: Incident, event: Event) -> str:
    return f"incident:{incident.id}" if rule.once_per_incident else f"event:{event.key}"[:300]


def _already_ran(session: Session, rule: AutomationRule, run_key: str) -> bool:
    query = select(AutomationRun.id).where(
        AutomationRun.rule_id == rule.id, AutomationRun.run_key == run_key
    )
    return session.scalars(query).first() is not None


def fire(session: Session, *, incident: Incident, event: Event, now: datetime) -> list[int]:
    """Queue the enabled rules listening for `event` whose conditions the incident meets (its
    severity, services and roles loaded); returns the ids of the rules queued."""
    rules = _listening(session, event.trigger)
    if not rules:
        return []
    levels = severity_levels(session)
    subject = subject_of(incident, event.details.get("kind"))
    queued = []
    for rule in rules:
        run_key = _run_key(rule, incident, event)
        if not matches(rule.conditions, subject, levels) or _already_ran(session, rule, run_key):
            continue
        enqueue(
            session,
            kind=AUTOMATION_JOB,
            payload={
                "rule_id": rule.id,
                "incident_id": incident.id,
                "trigger": event.trigger.value,
                "key": event.key,
                "details": event.details,
                "run_key": run_key,
            },
            now=now,
            run_at=now + timedelta(seconds=rule.delay_seconds),
            dedupe_key=f"automation:{rule.id}:{run_key}"[:200],
        )
        queued.append(rule.id)
    return queued


def make_run_rule(settings: Settings) -> Handler:
    """The `automation.run` handler, bound to the settings its notices link with."""

    def run_rule(session: Session, payload: dict[str, Any], context: JobContext) -> None:
        rule = session.get(AutomationRule, int(payload["rule_id"]))
        if rule is None or not rule.enabled:
            return  # deleted or switched off since it was queued
        try:
            incident = get_incident(session, int(payload["incident_id"]), for_update=True)
        except NotFound:
            return
        event = Event(
            trigger=Trigger(payload["trigger"]),
            key=str(payload["key"]),
            details=dict(payload.get("details") or {}),
        )
        subject = subject_of(incident, event.details.get("kind"))
        if not matches(rule.conditions, subject, severity_levels(session)):
            log.info("automation_rule_no_longer_applies", rule=rule.name, incident=incident.id)
            return
        run = AutomationRun(
            rule_id=rule.id,
            incident_id=incident.id,
            run_key=str(payload["run_key"]),
            trigger=event.trigger.value,
            ran_at=context.now,
            outcome={},
        )
        try:
            with session.begin_nested():
                session.add(run)
        except IntegrityError:
            return  # this event (or, for a run-once rule, this incident) was handled already
        runner = _Runner(
            session, settings=settings, rule=rule, incident=incident, event=event, now=context.now
        )
        run.outcome = {
            "actions": [runner.perform(action) for action in ACTIONS.validate_python(rule.actions)]
        }
        record(
            session,
            actor=runner.actor,
            action="automation.run",
            entity_type="incident",
            entity_id=incident.reference,
            at=context.now,
            after={"rule": rule.name, "trigger": event.trigger.value, **run.outcome},
        )

    return run_rule


class _Runner:
    """Carries out one rule's actions for one event."""

    def __init__(
        self,
        session: Session,
        *,
        settings: Settings,
        rule: AutomationRule,
        incident: Incident,
        event: Event,
        now: datetime,
    ) -> None:
        self.session, self.rule, self.incident, self.event, self.now = (
            session,
            rule,
            incident,
            event,
            now,
        )
        self.actor = Actor(user_id=None, label=f"Fireline rule: {rule.name}", via="automation")
        self.notice: Notice = describe(incident, event, base_url=settings.base_url)
        self.occasion = Occasion(
            reason=f"Rule \u201c{rule.name}\u201d on {event.trigger.value}.",
            key=f"rule:{rule.id}:{event.key}",
            incident=incident,
        )

    def perform(self, action: Any) -> dict[str, Any]:
        try:
            return self._perform(action)
        except AppError as error:  # a playbook since deleted, say: log it, go on with the rest
            return {"type": action.type, "error": error.detail}

    def _perform(self, action: Any) -> dict[str, Any]:
        if isinstance(action, NotifyAction):
            return self._notify(action)
        if isinstance(action, AttachPlaybookAction):
            attach(
                self.session,
                incident=self.incident,
                playbook_slug=action.playbook,
                now=self.now,
                actor=self.actor,
                reason=f"rule \u201c{self.rule.name}\u201d",
            )
            return {"type": action.type, "playbook": action.playbook}
        if isinstance(action, WebhookAction):
            return self._webhook(action)
        assert isinstance(action, NoteAction)  # noqa: S101 - the union is closed
        add_entry(
            self.session,
            incident=self.incident,
            actor=self.actor,
            now=self.now,
            kind="note",
            body=action.body,
            details={"rule": self.rule.name},
        )
        return {"type": action.type}

    def _notify(self, action: NotifyAction) -> dict[str, Any]:
        deliveries = self._deliver_to(action.to)
        sent = [d for d in deliveries if d.state != DeliveryState.SKIPPED.value]
        if action.exec_notice and sent:
            self._record_exec_notice(action.to)
        return {
            "type": action.type,
            "deliveries": [d.id for d in deliveries],
            "skipped": [d.reason for d in deliveries if d not in sent],
        }

    def _deliver_to(self, to: Recipient) -> list[Delivery]:
        session, notice, occasion, now = self.session, self.notice, self.occasion, self.now
        if to.channel is not None:
            channel = destinations.find_channel(session, to.channel)
            if channel is None:
                why = f"there is no channel named {to.channel}; create it to receive these"
                return [skip(session, notice=notice, occasion=occasion, now=now, why=why)]
            return [
                notify_channel(session, channel=channel, notice=notice, occasion=occasion, now=now)
            ]
        users, why = self._people(to)
        if not users:
            return [skip(session, notice=notice, occasion=occasion, now=now, why=why)]
        return notify_users(session, users=users, notice=notice, occasion=occasion, now=now)

    def _people(self, to: Recipient) -> tuple[list[User], str]:
        session, incident = self.session, self.incident
        if to.user is not None:
            user = _user(session, to.user)
            return ([user] if user else []), f"there is no user {to.user}"
        if to.team is not None:
            team = session.scalars(select(Team).where(Team.slug == to.team)).first()
            if team is None:
                return [], f"there is no team {to.team}"
            return team_members(session, team), f"team {to.team} has no members"
        if to.service_owners:
            service_ids = [service.id for service in incident.services]
            teams = session.scalars(
                select(Team)
                .join(Service, Service.owner_team_id == Team.id)
                .where(Service.id.in_(service_ids))
                .order_by(Team.id)
                .distinct()
            ).all()
            users = [user for team in teams for user in team_members(session, team)]
            return users, "none of the incident's services has an owning team with members"
        return self._role_holders(str(to.role))

    def _role_holders(self, role: str) -> tuple[list[User], str]:
        if role in ("owner", "escalate_to"):
            role = str(self.event.details.get("owner_role" if role == "owner" else "escalate_to"))
        if role == "postmortem_owner":
            owner = self.incident.postmortem_owner
            return ([owner] if owner else []), "no postmortem owner is named"
        assignment = holder(self.incident, role)
        if assignment is not None:
            return [assignment.user], ""
        commander = holder(self.incident, "commander")
        if commander is not None:  # a vacant role falls to the commander, who fills it
            return [commander.user], ""
        return [], f"nobody is the {role_name(role)} or the incident commander"

    def _webhook(self, action: WebhookAction) -> dict[str, Any]:
        channel = destinations.find_channel(self.session, action.channel)
        if channel is None or channel.transport != Transport.WEBHOOK.value:
            why = f"there is no webhook channel named {action.channel}"
            delivery = skip(
                self.session, notice=self.notice, occasion=self.occasion, now=self.now, why=why
            )
        else:
            delivery = notify_channel(
                self.session,
                channel=channel,
                notice=self.notice,
                occasion=self.occasion,
                now=self.now,
            )
        return {"type": action.type, "deliveries": [delivery.id]}

    def _record_exec_notice(self, to: Recipient) -> None:
        where = f"channel {to.channel}" if to.channel else "executives"
        add_entry(
            self.session,
            incident=self.incident,
            actor=self.actor,
            now=self.now,
            kind=EXEC_NOTICE_ENTRY,
            body=f"Exec notice sent to {where}.",
            details={"rule": self.rule.name, "to": to.model_dump(exclude_none=True)},
        )


def _user(session: Session, ref: str) -> User | None:
    try:
        return find_user(session, ref)
    except NotFound:
        return None
