"""Atom and RSS feeds of a status page's history, made from a PageSnapshot: one entry per
public update of an incident or a maintenance, newest first.

An entry's id is the incident's permalink with "#update-{code}", so it stays the same however
often the feed is rebuilt; the feed's own dates come from the entries, not from the time it
was built, so an unchanged page gives byte-identical feeds.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from feedgen.feed import FeedGenerator

from fireline.comms.snapshot import IncidentView, PageSnapshot, UpdateView

# Feed readers show the recent past; the full history is on the page.
ENTRY_LIMIT = 100


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    link: str
    body: str
    at: datetime


def entries(snapshot: PageSnapshot) -> list[FeedEntry]:
    """The ENTRY_LIMIT newest public updates of the page's incidents and maintenances, newest
    first (by display time, then by incident and update code so equal times keep one order)."""
    found = [
        _entry(incident, update)
        for incident in (*snapshot.incidents, *snapshot.maintenances)
        for update in incident.updates
    ]
    found.sort(key=lambda entry: entry.id)
    found.sort(key=lambda entry: entry.at, reverse=True)
    return found[:ENTRY_LIMIT]


def atom(snapshot: PageSnapshot) -> bytes:
    """The Atom 1.0 feed, UTF-8; entry content is the update's text as published."""
    listed = entries(snapshot)
    feed = _feed(snapshot, listed)
    for entry in listed:
        item = feed.add_entry(order="append")
        item.id(entry.id)
        item.title(entry.title)
        item.link(href=entry.link, rel="alternate")
        item.content(entry.body, type="text")
        item.published(entry.at)
        item.updated(entry.at)
    result: bytes = feed.atom_str(pretty=False)
    return result


def rss(snapshot: PageSnapshot) -> bytes:
    """The RSS 2.0 feed, UTF-8; an item's description is the update's text (HTML-escaped, as
    RSS descriptions are HTML) and its guid the entry id (not a permalink)."""
    listed = entries(snapshot)
    feed = _feed(snapshot, listed)
    for entry in listed:
        item = feed.add_entry(order="append")
        item.guid(entry.id, permalink=False)
        item.title(entry.title)
        item.link(href=entry.link)
        item.description(html.escape(entry.body))
        item.pubDate(entry.at)
    result: bytes = feed.rss_str(pretty=False)
    return result


def status_label(status: str) -> str:
    """A public status as a title shows it: "in_progress" reads "In progress"."""
    return status.replace("_", " ").capitalize()


def _entry(incident: IncidentView, update: UpdateView) -> FeedEntry:
    return FeedEntry(
        id=f"{incident.shortlink}#update-{update.code}",
        title=f"{incident.name} — {status_label(update.status)}",
        link=incident.shortlink,
        body=update.body,
        at=update.display_at,
    )


def _feed(snapshot: PageSnapshot, listed: list[FeedEntry]) -> FeedGenerator:
    page = snapshot.page
    updated = listed[0].at if listed else page.updated_at
    feed = FeedGenerator()
    feed.id(page.url)
    feed.title(f"{page.name} status history")
    feed.link(href=page.url, rel="alternate")
    feed.description(page.description or f"Incidents and maintenance on {page.name}")
    feed.updated(updated)
    feed.lastBuildDate(updated)
    return feed
