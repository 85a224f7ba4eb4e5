"""Status pages and their component groups.

Exactly one page is the default, served at /status; making another page the default moves the
flag, and the default page cannot be deleted. Every change a reader of a page can see raises
the page's version (signals.page_changed). Components live in comms.components.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.comms.codes import new_code
from fireline.comms.components import (
    _GROUP,
    _created,
    _deleted,
    _positions,
    _reorder,
    _updated,
)
from fireline.comms.signals import page_changed
from fireline.errors import Conflict, InvalidInput, NotFound
from fireline.models import Component, ComponentGroup, StatusPage

SLUG_MAX_LENGTH = 60
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Path segments the public site uses under /status/: a page with one of these slugs would be
# hidden by (or hide) the default page's own routes.
RESERVED_SLUGS = frozenset(
    {
        "api",
        "confirm",
        "feed",
        "feeds",
        "history",
        "incidents",
        "maintenance",
        "static",
        "subscribe",
        "subscriptions",
        "unsubscribe",
    }
)
URL_MAX_LENGTH = 2000  # the columns' width


# --- Checks ----------------------------------------------------------------------------------


def check_slug(slug: str, *, field: str = "slug") -> str:
    """`slug` when it can name a page in a URL, else InvalidInput naming `field`."""
    if not 1 <= len(slug) <= SLUG_MAX_LENGTH or not _SLUG.fullmatch(slug):
        raise InvalidInput.on(
            field,
            f"must be 1-{SLUG_MAX_LENGTH} lowercase letters, digits and single hyphens, "
            "starting and ending with a letter or digit",
        )
    if slug in RESERVED_SLUGS:
        raise InvalidInput.on(field, f"'{slug}' is reserved for the status site's own pages")
    return slug


def check_url(value: str, *, field: str) -> str:
    """An http(s) URL, or "" for none; else InvalidInput naming `field`."""
    value = value.strip()
    if not value:
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in {"http", "https"}
        or not parts.hostname
        or len(value) > URL_MAX_LENGTH
        or any(character.isspace() or ord(character) < 32 for character in value)
    ):
        raise InvalidInput.on(field, "must be an http or https URL")
    return value


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_time_zone(value: str, *, field: str = "time_zone") -> str:
    """An IANA time zone name such as Europe/Paris, else InvalidInput naming `field`."""
    if value not in _time_zones():
        raise InvalidInput.on(field, f"'{value}' is not an IANA time zone such as Europe/Paris")
    return value


# --- Pages -----------------------------------------------------------------------------------


def _page_view(page: StatusPage) -> dict[str, Any]:
    return {
        "slug": page.slug,
        "name": page.name,
        "description": page.description,
        "homepage_url": page.homepage_url,
        "support_url": page.support_url,
        "time_zone": page.time_zone,
        "is_default": page.is_default,
    }


def _audit_page(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    verb: str,
    page: StatusPage,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    record(
        session,
        actor=actor,
        action=f"status_page.{verb}",
        entity_type="status_page",
        entity_id=page.code,
        at=now,
        before=before,
        after=after,
    )


def list_pages(session: Session) -> list[StatusPage]:
    """Every status page, the default first, then by name."""
    query = select(StatusPage).order_by(StatusPage.is_default.desc(), StatusPage.name)
    return list(session.scalars(query))


def get_page(session: Session, ref: str) -> StatusPage:
    """The page with slug `ref`, or else with code `ref`; NotFound otherwise."""
    page = session.scalar(select(StatusPage).where(StatusPage.slug == ref))
    if page is None:
        page = session.scalar(select(StatusPage).where(StatusPage.code == ref))
    if page is None:
        raise NotFound(detail=f"No status page '{ref}'.")
    return page


def default_page(session: Session) -> StatusPage | None:
    return session.scalar(select(StatusPage).where(StatusPage.is_default))


def _make_default(session: Session, *, actor: Actor, now: datetime, page: StatusPage) -> None:
    """Move the default flag to `page`: the old default stops being served at /status."""
    current = default_page(session)
    if current is not None and current.id != page.id:
        current.is_default = False
        current.updated_at = now
        # Flushed on its own: the unique index allows one default at any moment.
        session.flush()
        page_changed(session, current.id)
        _audit_page(
            session,
            actor=actor,
            now=now,
            verb="update",
            page=current,
            before={"is_default": True},
            after={"is_default": False},
        )
    page.is_default = True


def create_page(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    slug: str,
    name: str,
    description: str = "",
    homepage_url: str = "",
    support_url: str = "",
    time_zone: str = "Etc/UTC",
    is_default: bool = False,
) -> StatusPage:
    """A new page at /status/{slug}; with `is_default` it also becomes the one at /status."""
    check_slug(slug)
    if session.scalar(select(StatusPage.id).where(StatusPage.slug == slug)) is not None:
        raise Conflict(detail=f"A status page with slug '{slug}' already exists.")
    page = StatusPage(
        code=new_code(),
        slug=slug,
        name=name,
        description=description,
        homepage_url=check_url(homepage_url, field="homepage_url"),
        support_url=check_url(support_url, field="support_url"),
        time_zone=check_time_zone(time_zone),
        is_default=False,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(page)
    session.flush()
    if is_default:
        _make_default(session, actor=actor, now=now, page=page)
        session.flush()
    page_changed(session, page.id)
    _audit_page(session, actor=actor, now=now, verb="create", page=page, after=_page_view(page))
    return page


def update_page(
    session: Session, *, actor: Actor, now: datetime, page: StatusPage, changes: dict[str, Any]
) -> StatusPage:
    """Change name, description, homepage_url, support_url, time_zone; `is_default` true
    makes the page the default (false is refused: make another page the default instead)."""
    before = _page_view(page)
    for name in ("name", "description"):
        if name in changes:
            setattr(page, name, changes[name])
    for name in ("homepage_url", "support_url"):
        if name in changes:
            setattr(page, name, check_url(changes[name], field=name))
    if "time_zone" in changes:
        page.time_zone = check_time_zone(changes["time_zone"])
    if "is_default" in changes:
        if changes["is_default"]:
            _make_default(session, actor=actor, now=now, page=page)
        elif page.is_default:
            raise InvalidInput.on(
                "is_default", "a page stops being the default only when another page becomes it"
            )
    after = _page_view(page)
    if after != before:
        page.updated_at = now
        session.flush()
        page_changed(session, page.id)
        _audit_page(
            session, actor=actor, now=now, verb="update", page=page, before=before, after=after
        )
    return page


def delete_page(session: Session, *, actor: Actor, now: datetime, page: StatusPage) -> None:
    """Delete a page with its groups, components, public incidents and subscribers."""
    if page.is_default:
        raise Conflict(
            detail=f"'{page.slug}' is the default status page, served at /status; "
            "make another page the default before deleting it."
        )
    page_changed(session, page.id)
    _audit_page(session, actor=actor, now=now, verb="delete", page=page, before=_page_view(page))
    session.delete(page)
    session.flush()


# --- Component groups ------------------------------------------------------------------------


def _group_view(group: ComponentGroup) -> dict[str, Any]:
    return {"name": group.name, "description": group.description, "position": group.position}


def list_groups(session: Session, page: StatusPage) -> list[ComponentGroup]:
    """The page's component groups in the order the page shows them."""
    query = (
        select(ComponentGroup)
        .where(ComponentGroup.page_id == page.id)
        .order_by(ComponentGroup.position, ComponentGroup.id)
    )
    return list(session.scalars(query))


def get_group(session: Session, page: StatusPage, code: str) -> ComponentGroup:
    group = session.scalar(
        select(ComponentGroup).where(ComponentGroup.page_id == page.id, ComponentGroup.code == code)
    )
    if group is None:
        raise NotFound(detail=f"No component group '{code}' on page '{page.slug}'.")
    return group


def find_group(
    session: Session, page: StatusPage, code: str | None, *, field: str = "group"
) -> ComponentGroup | None:
    """The page's group named by `code` in a request body (None for none), or InvalidInput."""
    if code is None:
        return None
    try:
        return get_group(session, page, code)
    except NotFound:
        raise InvalidInput.on(field, f"no group '{code}' on page '{page.slug}'") from None


def create_group(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    page: StatusPage,
    name: str,
    description: str = "",
    position: int | None = None,
) -> ComponentGroup:
    """A new group on `page`, last unless `position` is given."""
    group = ComponentGroup(
        code=new_code(),
        page_id=page.id,
        name=name,
        description=description,
        position=position if position is not None else _positions(session, ComponentGroup, page),
        created_at=now,
        updated_at=now,
    )
    session.add(group)
    session.flush()
    _created(session, _GROUP, actor=actor, now=now, item=group, after=_group_view(group))
    return group


def update_group(
    session: Session, *, actor: Actor, now: datetime, group: ComponentGroup, changes: dict[str, Any]
) -> ComponentGroup:
    """Change the name, description or position."""
    before = _group_view(group)
    for name in ("name", "description", "position"):
        if name in changes:
            setattr(group, name, changes[name])
    _updated(
        session, _GROUP, actor=actor, now=now, item=group, before=before, after=_group_view(group)
    )
    return group


def delete_group(session: Session, *, actor: Actor, now: datetime, group: ComponentGroup) -> None:
    """Delete the group; its components stay on the page, ungrouped."""
    members = session.scalars(select(Component).where(Component.group_id == group.id))
    for component in members:
        component.group = None
        component.updated_at = now
    _deleted(session, _GROUP, actor=actor, now=now, item=group, before=_group_view(group))


def reorder_groups(
    session: Session, *, actor: Actor, now: datetime, page: StatusPage, codes: Sequence[str]
) -> list[ComponentGroup]:
    """Show the page's groups in the order of `codes`, which names each group once."""
    groups = list_groups(session, page)
    return _reorder(session, _GROUP, actor=actor, now=now, page=page, items=groups, codes=codes)
