"""Rendering a notice for each transport: an email, a JSON webhook document, a Slack message.

Rendering happens when a delivery is enqueued; the result is stored in the delivery log as JSON
and handed unchanged to the transport, so every renderer returns plain JSON values. That also
means a retry sends exactly what the log shows, even if the templates change in between.

Everything in a notice may come from a user (an incident title, a commander's name), so each
format escapes it the way its reader needs: HTML for email, `&`, `<` and `>` for Slack (which
would otherwise turn `<!channel>` into a mention of everyone).
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from fireline.models.notify import Transport
from fireline.notify.notice import IncidentRef, Notice

# Slack's documented Block Kit limits; a message that breaks one is refused whole.
SLACK_HEADER_LIMIT = 150
SLACK_SECTION_LIMIT = 3000
SLACK_FIELD_LIMIT = 2000
SLACK_FIELDS_MAX = 10
# Slack asks that the top-level text stay under 4,000 characters; past that it truncates.
SLACK_TEXT_LIMIT = 4000
# Block Kit: at most 25 elements in an actions block, 75 characters of button text, 3,000 of URL.
SLACK_BUTTONS_MAX = 25
SLACK_BUTTON_LIMIT = 75
SLACK_URL_LIMIT = 3000
_SLACK_LABEL_LIMIT = 100
_ELLIPSIS = "…"

_templates = Environment(
    loader=PackageLoader("fireline.notify", "templates"),
    # Only the .html template escapes: escaping the plain-text part would show `&amp;` to readers.
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render(transport: Transport, notice: Notice) -> dict[str, Any]:
    """The message for `transport`, ready to store as JSON and hand to its sender."""
    match transport:
        case Transport.EMAIL:
            return dict(render_email(notice))
        case Transport.WEBHOOK:
            return render_webhook(notice)
        case Transport.SLACK:
            return render_slack(notice)


def render_email(notice: Notice) -> dict[str, str]:
    """`subject` (one line), `text` (the plain-text part) and `html` (inline-styled, for mail
    clients that ignore style sheets) of a notification email."""
    context = {
        "headline": _one_line(notice.headline) or notice.event,
        "paragraphs": _paragraphs(notice.body),
        "facts": notice.facts,
        "actions": [(label, url) for label, url in notice.actions if _is_web(url)],
        "incident": notice.incident,
        "incident_link": _web_link(notice.incident),
    }
    return {
        "subject": subject_line(notice),
        "text": _templates.get_template("notice.txt").render(context),
        "html": _templates.get_template("notice.html").render(context),
    }


def subject_line(notice: Notice) -> str:
    """`[SEV1 INC-42] Headline` for a notice about an incident, else the headline; always one
    line, since a line break in a header would let the text start new headers."""
    headline = _one_line(notice.headline) or notice.event
    incident = notice.incident
    if incident is None:
        return headline
    tag = _one_line(f"{incident.severity} {incident.reference}")
    return f"[{tag}] {headline}" if tag else headline


def render_webhook(notice: Notice) -> dict[str, Any]:
    """The JSON document a webhook receives. Its shape is part of Fireline's public interface:

        {
          "event": "obligation.missed",
          "headline": "Public update overdue",
          "body": "Plain text, paragraphs separated by blank lines.",
          "incident": {"reference": "INC-42", "title": "…", "severity": "SEV1",
                       "status": "investigating", "url": "https://…/incidents/42"} or null,
          "facts": [{"label": "Due", "value": "10:15 UTC"}, …],
          "actions": [{"label": "Acknowledge", "url": "https://…"}, …]
        }

    Fields may be added in later versions; none will be removed or change meaning."""
    incident = notice.incident
    return {
        "event": notice.event,
        "headline": notice.headline,
        "body": notice.body,
        "incident": None
        if incident is None
        else {
            "reference": incident.reference,
            "title": incident.title,
            "severity": incident.severity,
            "status": incident.status,
            "url": incident.url,
        },
        "facts": [{"label": label, "value": value} for label, value in notice.facts],
        "actions": [{"label": label, "url": url} for label, url in notice.actions if _is_web(url)],
    }


def render_slack(notice: Notice) -> dict[str, Any]:
    """A Slack incoming-webhook payload: Block Kit `blocks` for Slack, and a `text` that carries
    the same message in markdown for notifications and for Mattermost, which ignores blocks.

    Every piece is cut to Slack's limits (header 150 characters, section 3,000, at most ten
    fields of 2,000 each) with an ellipsis, because one oversized block makes Slack refuse the
    whole message, and a shortened notice is better than none."""
    header = {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": _clip(subject_line(notice), SLACK_HEADER_LIMIT),
            "emoji": True,
        },
    }
    blocks: list[dict[str, Any]] = [header]
    if notice.body.strip():
        section = {"type": "mrkdwn", "text": _clip(notice.body.strip(), SLACK_SECTION_LIMIT)}
        blocks.append({"type": "section", "text": section})
    if notice.facts:
        blocks.append({"type": "section", "fields": _slack_fields(notice.facts)})
    buttons = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": _clip(label, SLACK_BUTTON_LIMIT)},
            "url": url,
        }
        for label, url in notice.actions
        if _is_web(url) and len(url) <= SLACK_URL_LIMIT
    ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons[:SLACK_BUTTONS_MAX]})
    incident_line = _slack_incident_line(notice.incident)
    if incident_line:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": incident_line}]})
    return {"text": _slack_text(notice, incident_line), "blocks": blocks}


def _is_web(url: str) -> bool:
    return url.startswith(("https://", "http://"))


def _escape(text: str) -> str:
    """Text with Slack's three control characters replaced by the entities Slack asks for;
    nothing else is entity-encoded, since Slack would show any other entity literally."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    """`text` escaped for Slack and cut to at most `limit` characters (counted after escaping,
    as Slack counts them), ending in … when cut."""
    return _clip_escaped(_escape(text), limit)


def _clip_escaped(escaped: str, limit: int) -> str:
    """Escaped text cut to at most `limit` characters, never in the middle of an entity."""
    if len(escaped) <= limit:
        return escaped
    clipped = escaped[: limit - len(_ELLIPSIS)]
    # The longest entity, `&amp;`, is five characters: a cut one starts in the last four.
    start = clipped.rfind("&", max(0, len(clipped) - 4))
    if start != -1 and ";" not in clipped[start:]:
        clipped = clipped[:start]
    return clipped + _ELLIPSIS


def _slack_fields(facts: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    """One field per fact, at most ten: past ten the last field says how many were left out."""
    shown = facts
    hidden = 0
    if len(facts) > SLACK_FIELDS_MAX:
        shown, hidden = facts[: SLACK_FIELDS_MAX - 1], len(facts) - (SLACK_FIELDS_MAX - 1)
    fields = []
    for label, value in shown:
        title = f"*{_clip(_one_line(label), _SLACK_LABEL_LIMIT)}*\n"
        fields.append(
            {"type": "mrkdwn", "text": title + _clip(value, SLACK_FIELD_LIMIT - len(title))}
        )
    if hidden:
        fields.append({"type": "mrkdwn", "text": f"*More*\n{hidden} more not shown"})
    return fields


def _slack_incident_line(incident: IncidentRef | None) -> str:
    """`<url|INC-42 · Title> · SEV1 · investigating`, the link Slack and Mattermost both show."""
    if incident is None:
        return ""
    name = _clip(_one_line(f"{incident.reference} · {incident.title}"), 300)
    link = _web_link(incident)
    reference = f"<{_slack_url(link)}|{name}>" if link else name
    details = [_clip(_one_line(part), 100) for part in (incident.severity, incident.status)]
    return " · ".join([reference, *(part for part in details if part)])


def _slack_text(notice: Notice, incident_line: str) -> str:
    """The notification text: what Slack shows in a push notification and Mattermost shows as
    the whole message. Plain markdown both understand (no bold: they spell it differently)."""
    parts = [_clip(subject_line(notice), SLACK_HEADER_LIMIT)]
    if incident_line:
        parts.append(incident_line)
    if notice.body.strip():
        parts.append(_escape(notice.body.strip()))
    if notice.facts:
        parts.append(
            "\n".join(
                f"{_escape(_one_line(label))}: {_escape(value)}" for label, value in notice.facts
            )
        )
    # Mattermost shows no buttons: the actions as links (they are ours, so the URL is safe).
    links = [
        f"<{_slack_url(url)}|{_escape(_one_line(label))}>"
        for label, url in notice.actions
        if _is_web(url)
    ]
    if links:
        parts.append(" · ".join(links))
    # Cut at the end, so the headline and the link at the top survive.
    return _clip_escaped("\n\n".join(parts), SLACK_TEXT_LIMIT)


def _slack_url(url: str) -> str:
    # Inside <url|label> a `|` would end the URL early; & < > become entities like all text.
    return _escape(url.replace("|", "%7C"))


def _web_link(incident: IncidentRef | None) -> str | None:
    """The incident's URL when it is a web address; Fireline builds it, but a link in an email
    or chat message is checked anyway, so a stray `javascript:` URL is never clickable."""
    if incident is None:
        return None
    url = incident.url.strip()
    return url if url.lower().startswith(("https://", "http://")) else None


def _one_line(text: str) -> str:
    """`text` with every run of whitespace, line breaks included, turned into one space."""
    return " ".join(text.split())


def _paragraphs(body: str) -> list[list[str]]:
    """The body's paragraphs (separated by blank lines), each a list of its lines."""
    blocks = re.split(r"\n\s*\n", body.replace("\r\n", "\n").replace("\r", "\n").strip())
    return [block.strip().split("\n") for block in blocks if block.strip()]
