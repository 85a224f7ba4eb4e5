"""Status page subscribers: who asked to hear about a page, and what they hear about.

Email subscribers confirm first (double opt-in): subscribing sends a mail with a confirm link,
and until it is followed the address gets nothing else. Asking again for an address never says
whether it is already subscribed (the answer is the same either way) and sends at most one
mail to it per CONFIRMATION_INTERVAL, so the form cannot be used to flood someone's inbox.
Webhook subscribers are added by admins and confirmed at once.

A subscriber's `token` is the secret in their links: confirm, manage and unsubscribe. Their
`component_codes` narrow what they hear about; empty means everything on the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.comms.codes import new_code, new_token
from fireline.errors import Conflict, InvalidInput, NotFound
from fireline.models import Component, Delivery, StatusPage, Subscriber, SubscriberKind, Transport
from fireline.notify.service import queue_message
from fireline.notify.targets import check_email, check_url

CONFIRMATION_INTERVAL = timedelta(hours=1)
CONFIRM_EVENT = "status.subscription_confirm"
_CONFIRM_KEY = "status-sub-confirm"


@dataclass(frozen=True)
class Links:
    """Where a subscriber's links lead; each needs a POST to act (mail scanners fetch GETs)."""

    confirm: str
    manage: str
    unsubscribe: str


def page_url(base_url: str, page: StatusPage) -> str:
    """Where the page lives: {base_url}/status for the default page, else /status/{slug}."""
    root = f"{base_url.rstrip('/')}/status"
    return root if page.is_default else f"{root}/{page.slug}"


def links(base_url: str, subscriber: Subscriber) -> Links:
    manage = f"{base_url.rstrip('/')}/status/subscriptions/{subscriber.token}"
    return Links(confirm=f"{manage}/confirm", manage=manage, unsubscribe=f"{manage}/unsubscribe")


def default_page(session: Session) -> StatusPage:
    page = session.scalars(select(StatusPage).where(StatusPage.is_default)).first()
    if page is None:
        raise NotFound(detail="There is no status page yet.")
    return page


def page_by_slug(session: Session, slug: str) -> StatusPage:
    page = session.scalars(select(StatusPage).where(StatusPage.slug == slug)).first()
    if page is None:
        raise NotFound(detail=f"There is no status page '{slug}'.")
    return page


def page_components(session: Session, page: StatusPage) -> list[Component]:
    """The page's components in page order: what a subscriber may choose from."""
    return list(
        session.scalars(
            select(Component)
            .where(Component.page_id == page.id)
            .order_by(Component.position, Component.id)
        )
    )


def check_components(session: Session, page: StatusPage, codes: Iterable[str]) -> list[str]:
    """The codes, each once and in page order, if all are the page's components; otherwise
    InvalidInput on `components` naming the unknown ones."""
    wanted = {code.strip() for code in codes if code.strip()}
    known = [component.code for component in page_components(session, page)]
    unknown = sorted(wanted.difference(known))
    if unknown:
        raise InvalidInput.on("components", f"not components of this page: {', '.join(unknown)}")
    return [code for code in known if code in wanted]


def subscribe_email(
    session: Session,
    *,
    actor: Actor,
    page: StatusPage,
    email: str,
    component_codes: Sequence[str],
    now: datetime,
    base_url: str,
    field: str = "email",
) -> Subscriber:
    """Subscribe an address to the page, pending its confirmation, and mail it the confirm link.

    A new address gets an unconfirmed subscriber; an unconfirmed one gets its selection
    replaced; a confirmed one is left as it is (the form is public: a stranger must not change
    what someone hears) and is mailed its manage link instead. Either way at most one mail per
    CONFIRMATION_INTERVAL goes to the address. InvalidInput names `field` (the address) or
    `components`."""
    try:
        address = check_email(email)
    except ValueError as bad:
        raise InvalidInput.on(field, str(bad)) from None
    codes = check_components(session, page, component_codes)
    subscriber = _find(session, page, SubscriberKind.EMAIL, address)
    if subscriber is None:
        subscriber = _add(
            session, page=page, kind=SubscriberKind.EMAIL, target=address, codes=codes, now=now
        )
        record(
            session,
            actor=actor,
            action="status_subscriber.subscribed",
            entity_type="status_subscriber",
            entity_id=subscriber.code,
            at=now,
            after=_audited(subscriber),
        )
    elif subscriber.confirmed_at is None and subscriber.component_codes != codes:
        before = _audited(subscriber)
        subscriber.component_codes = codes
        subscriber.updated_at = now
        record(
            session,
            actor=actor,
            action="status_subscriber.subscribed",
            entity_type="status_subscriber",
            entity_id=subscriber.code,
            at=now,
            before=before,
            after=_audited(subscriber),
        )
    if not _mailed_recently(session, subscriber, now):
        _mail_confirmation(session, page=page, subscriber=subscriber, now=now, base_url=base_url)
    session.flush()
    return subscriber


def add_webhook(
    session: Session,
    *,
    actor: Actor,
    page: StatusPage,
    url: str,
    component_codes: Sequence[str],
    now: datetime,
    allow_private: bool,
) -> Subscriber:
    """A webhook subscriber, confirmed at once (an admin adds it). InvalidInput names `target`
    for a URL Fireline may not call; Conflict when the page already posts to it."""
    try:
        target = check_url(url, allow_private=allow_private)
    except ValueError as bad:
        raise InvalidInput.on("target", str(bad)) from None
    codes = check_components(session, page, component_codes)
    if _find(session, page, SubscriberKind.WEBHOOK, target) is not None:
        raise Conflict(detail="This page already has a webhook subscriber with that URL.")
    subscriber = _add(
        session, page=page, kind=SubscriberKind.WEBHOOK, target=target, codes=codes, now=now
    )
    subscriber.confirmed_at = now
    session.flush()
    record(
        session,
        actor=actor,
        action="status_subscriber.added",
        entity_type="status_subscriber",
        entity_id=subscriber.code,
        at=now,
        after=_audited(subscriber),
    )
    return subscriber


def by_token(session: Session, token: str, *, for_update: bool = False) -> Subscriber | None:
    """The subscriber whose links carry `token`, or None (unsubscribed, or never was)."""
    if not token or len(token) > 64:
        return None
    query = select(Subscriber).where(Subscriber.token == token)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def by_code(session: Session, page: StatusPage, code: str) -> Subscriber:
    subscriber = session.scalars(
        select(Subscriber).where(Subscriber.page_id == page.id, Subscriber.code == code)
    ).first()
    if subscriber is None:
        raise NotFound(detail=f"This page has no subscriber '{code}'.")
    return subscriber


def confirm(session: Session, *, subscriber: Subscriber, now: datetime) -> bool:
    """Confirm the subscription; False when it already was (nothing changes)."""
    if subscriber.confirmed_at is not None:
        return False
    subscriber.confirmed_at = now
    subscriber.updated_at = now
    session.flush()
    record(
        session,
        actor=_subscriber_actor(subscriber),
        action="status_subscriber.confirmed",
        entity_type="status_subscriber",
        entity_id=subscriber.code,
        at=now,
        after=_audited(subscriber),
    )
    return True


def set_components(
    session: Session, *, subscriber: Subscriber, component_codes: Sequence[str], now: datetime
) -> Subscriber:
    """Narrow what the subscriber hears about to these components (none: everything)."""
    page = session.get_one(StatusPage, subscriber.page_id)
    codes = check_components(session, page, component_codes)
    if codes != subscriber.component_codes:
        before = _audited(subscriber)
        subscriber.component_codes = codes
        subscriber.updated_at = now
        session.flush()
        record(
            session,
            actor=_subscriber_actor(subscriber),
            action="status_subscriber.components_changed",
            entity_type="status_subscriber",
            entity_id=subscriber.code,
            at=now,
            before=before,
            after=_audited(subscriber),
        )
    return subscriber


def remove(
    session: Session, *, subscriber: Subscriber, now: datetime, actor: Actor | None = None
) -> None:
    """Delete the subscriber: nothing more is sent to it. `actor` is the admin who removed
    it; without one, the subscriber unsubscribed themselves."""
    record(
        session,
        actor=actor or _subscriber_actor(subscriber),
        action="status_subscriber.removed" if actor else "status_subscriber.unsubscribed",
        entity_type="status_subscriber",
        entity_id=subscriber.code,
        at=now,
        before=_audited(subscriber),
    )
    session.delete(subscriber)
    session.flush()


def list_subscribers(
    session: Session, *, page: StatusPage, after_id: int | None = None, limit: int | None = None
) -> list[Subscriber]:
    """The page's subscribers, oldest first, after the row id `after_id`."""
    query = select(Subscriber).where(Subscriber.page_id == page.id).order_by(Subscriber.id)
    if after_id is not None:
        query = query.where(Subscriber.id > after_id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def audience(
    session: Session, *, page_id: int, component_codes: Iterable[str] | None
) -> list[Subscriber]:
    """Confirmed subscribers of the page who follow any of `component_codes`, or everything.

    `None` (or no codes: news about the whole page) reaches every confirmed subscriber."""
    codes = set(component_codes or ())
    confirmed = session.scalars(
        select(Subscriber)
        .where(Subscriber.page_id == page_id, Subscriber.confirmed_at.is_not(None))
        .order_by(Subscriber.id)
    )
    return [
        subscriber
        for subscriber in confirmed
        if not codes or not subscriber.component_codes or codes & set(subscriber.component_codes)
    ]


def _find(
    session: Session, page: StatusPage, kind: SubscriberKind, target: str
) -> Subscriber | None:
    return session.scalars(
        select(Subscriber).where(
            Subscriber.page_id == page.id,
            Subscriber.kind == kind.value,
            Subscriber.target == target,
        )
    ).first()


def _add(
    session: Session,
    *,
    page: StatusPage,
    kind: SubscriberKind,
    target: str,
    codes: list[str],
    now: datetime,
) -> Subscriber:
    subscriber = Subscriber(
        code=new_code(),
        page_id=page.id,
        kind=kind.value,
        target=target,
        token=new_token(),
        component_codes=codes,
        confirmed_at=None,
        created_at=now,
        updated_at=now,
    )
    # Two requests for the same new address at once: the unique index refuses the second,
    # which then finds the first's row.
    try:
        with session.begin_nested():
            session.add(subscriber)
    except IntegrityError:
        existing = _find(session, page, kind, target)
        if existing is None:  # pragma: no cover - refused for another reason: let it show
            raise
        return existing
    return subscriber


def _mailed_recently(session: Session, subscriber: Subscriber, now: datetime) -> bool:
    since = now - CONFIRMATION_INTERVAL
    latest = session.scalar(
        select(Delivery.id)
        .where(
            Delivery.dedupe_key.startswith(f"{_CONFIRM_KEY}:{subscriber.id}:", autoescape=True),
            Delivery.created_at > since,
        )
        .limit(1)
    )
    return latest is not None


def _mail_confirmation(
    session: Session, *, page: StatusPage, subscriber: Subscriber, now: datetime, base_url: str
) -> Delivery:
    url = links(base_url, subscriber)
    home = page_url(base_url, page)
    if subscriber.confirmed_at is None:
        subject = f"[{page.name}] Confirm your subscription"
        lines = [
            f"Someone, hopefully you, asked to receive {page.name} status updates at this address.",
            f"To confirm, open this link and press the button: {url.confirm}",
            "If it was not you, ignore this email: nothing more will be sent.",
        ]
        action = ("Confirm subscription", url.confirm)
    else:
        subject = f"[{page.name}] Your subscription"
        lines = [
            f"This address is subscribed to {page.name} status updates.",
            f"To choose what you hear about, or to unsubscribe: {url.manage}",
        ]
        action = ("Manage subscription", url.manage)
    text = "\n\n".join([*lines, f"{page.name}: {home}"]) + "\n"
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in lines)
    html = (
        f'<div style="font-family:sans-serif;font-size:15px;line-height:1.5">{paragraphs}'
        f'<p><a href="{escape(action[1])}" style="display:inline-block;padding:8px 14px;'
        f'background:#1d4ed8;color:#fff;border-radius:4px;text-decoration:none">'
        f"{escape(action[0])}</a></p>"
        f'<p style="color:#555"><a href="{escape(home)}">{escape(page.name)}</a></p></div>'
    )
    return queue_message(
        session,
        event=CONFIRM_EVENT,
        transport=Transport.EMAIL,
        target=subscriber.target,
        message={"subject": subject, "text": text, "html": html},
        reason=f"Subscription to {page.name} asked for.",
        key=f"{_CONFIRM_KEY}:{subscriber.id}:{now.isoformat()}",
        now=now,
    )


def _subscriber_actor(subscriber: Subscriber) -> Actor:
    return Actor(user_id=None, label=f"subscriber {subscriber.code}", via="subscription link")


def _audited(subscriber: Subscriber) -> dict[str, object]:
    # The address or URL itself stays out of the audit log: it is personal data, and a webhook
    # URL's path is often a secret.
    return {
        "kind": subscriber.kind,
        "page_id": subscriber.page_id,
        "components": list(subscriber.component_codes),
        "confirmed": subscriber.confirmed_at is not None,
    }
