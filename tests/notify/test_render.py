"""What a responder reads: the same notice as an email, a webhook document and a Slack message."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from fireline.models.notify import Transport
from fireline.notify.notice import IncidentRef, Notice
from fireline.notify.render import (
    SLACK_FIELD_LIMIT,
    SLACK_FIELDS_MAX,
    SLACK_HEADER_LIMIT,
    SLACK_SECTION_LIMIT,
    render,
    render_email,
    render_slack,
    render_webhook,
    subject_line,
)

INCIDENT = IncidentRef(
    reference="INC-42",
    title="Checkout is down",
    severity="SEV1",
    status="investigating",
    url="https://fireline.example.com/incidents/42",
)
MISSED_UPDATE = Notice(
    event="obligation.missed",
    headline="Public update overdue",
    body="The status page has not been updated for 15 minutes.\nCustomers are asking.\n\n"
    "Post an update now.",
    incident=INCIDENT,
    facts=(("Due", "10:15 UTC"), ("Commander", "Rita Responder")),
)
ANNOUNCEMENT = Notice(event="system.test", headline="Notifications work")


def blocks_of(payload: dict, kind: str) -> list[dict]:
    return [block for block in payload["blocks"] if block["type"] == kind]


# --- Email -------------------------------------------------------------------------------------


def test_the_subject_leads_with_severity_and_reference():
    assert subject_line(MISSED_UPDATE) == "[SEV1 INC-42] Public update overdue"
    assert render_email(MISSED_UPDATE)["subject"] == "[SEV1 INC-42] Public update overdue"


def test_a_notice_about_no_incident_has_the_headline_as_subject():
    assert render_email(ANNOUNCEMENT)["subject"] == "Notifications work"


def test_a_headline_with_line_breaks_still_makes_a_one_line_subject():
    notice = replace(MISSED_UPDATE, headline="Update overdue\r\nBcc: everyone@example.com")

    subject = render_email(notice)["subject"]

    assert "\r" not in subject
    assert "\n" not in subject
    assert subject == "[SEV1 INC-42] Update overdue Bcc: everyone@example.com"


def test_the_email_carries_body_facts_and_the_incident_link_in_both_parts():
    email = render_email(MISSED_UPDATE)

    for part in (email["text"], email["html"]):
        assert "Public update overdue" in part
        assert "Post an update now." in part
        assert "Commander" in part
        assert "Rita Responder" in part
        assert "Checkout is down" in part
        assert "investigating" in part
        assert "https://fireline.example.com/incidents/42" in part
    assert "Due: 10:15 UTC" in email["text"]
    assert '<a href="https://fireline.example.com/incidents/42"' in email["html"]


def test_paragraphs_and_line_breaks_survive_in_the_html():
    html = render_email(MISSED_UPDATE)["html"]

    paragraphs = re.findall(r"<p[^>]*>(.*?)</p>", html)
    assert "not been updated for 15 minutes.<br>Customers are asking." in paragraphs[0]
    assert "Post an update now." in paragraphs[1]


def test_everything_a_user_typed_is_escaped_in_the_html():
    notice = Notice(
        event="incident.declared",
        headline="<img src=x onerror=alert(1)>",
        body="R&D says <script>steal()</script>",
        incident=replace(INCIDENT, title='"><b>bold</b>', severity="<i>SEV1</i>"),
        facts=(("<u>Label</u>", "<a href='https://evil.example'>value</a>"),),
    )

    html = render_email(notice)["html"]

    for raw in ("<img", "<script>", "<b>bold", "<i>SEV1", "<u>Label", "<a href='https://evil"):
        assert raw not in html
    assert "&lt;script&gt;steal()&lt;/script&gt;" in html
    assert "R&amp;D" in html
    # The plain-text part is not HTML: escaping it would show entities to the reader.
    assert "R&D says <script>steal()</script>" in render_email(notice)["text"]


def test_an_incident_url_that_is_not_a_web_address_is_not_made_a_link():
    notice = replace(MISSED_UPDATE, incident=replace(INCIDENT, url="javascript:alert(1)"))

    email = render_email(notice)

    assert "javascript:" not in email["html"]
    assert "javascript:" not in email["text"]
    assert "javascript:" not in json.dumps(render_slack(notice))


# --- Webhook -----------------------------------------------------------------------------------


def test_the_webhook_document_has_the_documented_shape():
    assert render_webhook(MISSED_UPDATE) == {
        "event": "obligation.missed",
        "headline": "Public update overdue",
        "body": MISSED_UPDATE.body,
        "incident": {
            "reference": "INC-42",
            "title": "Checkout is down",
            "severity": "SEV1",
            "status": "investigating",
            "url": "https://fireline.example.com/incidents/42",
        },
        "facts": [
            {"label": "Due", "value": "10:15 UTC"},
            {"label": "Commander", "value": "Rita Responder"},
        ],
        "actions": [],
    }


PAGE = Notice(
    event="alert.page",
    headline="[critical] Checkout error rate above 5 %",
    body="Payments time out at the card processor.",
    facts=(("Service", "Checkout"),),
    actions=(
        ("Acknowledge", "https://fireline.example.com/alerts/7/act?sig=abc|def&x=1"),
        ("Resolve", "https://fireline.example.com/alerts/7/act?action=resolve"),
        ("Sneaky", "javascript:alert(1)"),
    ),
)


def test_a_page_offers_its_actions_in_every_transport_but_never_a_non_web_link():
    email = render_email(PAGE)
    slack = render_slack(PAGE)
    webhook = render_webhook(PAGE)

    assert (
        "Acknowledge: https://fireline.example.com/alerts/7/act?sig=abc|def&amp;x=1"
        not in (email["text"])
    )
    assert "Acknowledge: https://fireline.example.com/alerts/7/act?sig=abc|def&x=1" in email["text"]
    assert 'href="https://fireline.example.com/alerts/7/act?action=resolve"' in email["html"]
    assert "javascript:" not in email["text"] + email["html"]
    [actions] = [block for block in slack["blocks"] if block["type"] == "actions"]
    assert [button["text"]["text"] for button in actions["elements"]] == [
        "Acknowledge",
        "Resolve",
    ]
    assert (
        "<https://fireline.example.com/alerts/7/act?sig=abc%7Cdef&amp;x=1|Acknowledge>"
        in (slack["text"])
    )
    assert "javascript:" not in slack["text"]
    assert [action["label"] for action in webhook["actions"]] == ["Acknowledge", "Resolve"]


def test_a_webhook_about_no_incident_says_so_with_null():
    document = render_webhook(ANNOUNCEMENT)

    assert document["incident"] is None
    assert document["facts"] == []


@pytest.mark.parametrize("transport", list(Transport))
def test_every_rendering_survives_the_trip_through_the_delivery_log(transport):
    rendered = render(transport, MISSED_UPDATE)

    assert json.loads(json.dumps(rendered)) == rendered


def test_render_picks_the_format_of_the_transport():
    assert render(Transport.EMAIL, MISSED_UPDATE) == render_email(MISSED_UPDATE)
    assert render(Transport.WEBHOOK, MISSED_UPDATE) == render_webhook(MISSED_UPDATE)
    assert render(Transport.SLACK, MISSED_UPDATE) == render_slack(MISSED_UPDATE)


# --- Slack -------------------------------------------------------------------------------------


def test_a_slack_message_has_header_body_facts_and_incident_link():
    payload = render_slack(MISSED_UPDATE)

    [header] = blocks_of(payload, "header")
    assert header["text"] == {
        "type": "plain_text",
        "text": "[SEV1 INC-42] Public update overdue",
        "emoji": True,
    }
    body, facts = blocks_of(payload, "section")
    assert body["text"]["type"] == "mrkdwn"
    assert body["text"]["text"].startswith("The status page has not been updated")
    assert facts["fields"] == [
        {"type": "mrkdwn", "text": "*Due*\n10:15 UTC"},
        {"type": "mrkdwn", "text": "*Commander*\nRita Responder"},
    ]
    [context] = blocks_of(payload, "context")
    assert context["elements"][0]["text"] == (
        "<https://fireline.example.com/incidents/42|INC-42 · Checkout is down>"
        " · SEV1 · investigating"
    )


def test_mattermost_readers_see_headline_reference_and_link_in_the_text():
    text = render_slack(MISSED_UPDATE)["text"]

    assert text.startswith("[SEV1 INC-42] Public update overdue")
    assert "<https://fireline.example.com/incidents/42|INC-42 · Checkout is down>" in text
    assert "Post an update now." in text
    assert "Commander: Rita Responder" in text


def test_a_chat_notice_about_no_incident_has_no_link():
    payload = render_slack(ANNOUNCEMENT)

    assert payload["text"] == "Notifications work"
    assert [block["type"] for block in payload["blocks"]] == ["header"]


def test_slack_control_characters_from_users_are_escaped_everywhere():
    notice = Notice(
        event="incident.declared",
        headline="R&D <!channel> outage",
        body="Ping <!here> and <@U024BE7LH> & <https://evil.example|click>",
        incident=replace(INCIDENT, title="<b>Payments</b> & more"),
        facts=(("Owner <@U1>", "A & B > C"),),
    )

    payload = render_slack(notice)
    rendered = json.dumps(payload)

    for raw in ("<!channel>", "<!here>", "<@U024BE7LH>", "<https://evil.example", "<@U1>"):
        assert raw not in rendered
    assert "R&amp;D &lt;!channel&gt; outage" in payload["text"]
    [body, facts] = blocks_of(payload, "section")
    assert body["text"]["text"] == (
        "Ping &lt;!here&gt; and &lt;@U024BE7LH&gt; &amp; &lt;https://evil.example|click&gt;"
    )
    assert facts["fields"][0]["text"] == "*Owner &lt;@U1&gt;*\nA &amp; B &gt; C"
    [context] = blocks_of(payload, "context")
    assert "&lt;b&gt;Payments&lt;/b&gt; &amp; more" in context["elements"][0]["text"]


def test_long_notices_are_cut_to_slack_limits_with_an_ellipsis():
    notice = Notice(
        event="incident.updated",
        headline="Very long headline " * 20,
        body="word " * 2000,
        incident=INCIDENT,
        facts=tuple((f"Fact {n}", "x" * 5000) for n in range(14)),
    )

    payload = render_slack(notice)

    [header] = blocks_of(payload, "header")
    assert len(header["text"]["text"]) == SLACK_HEADER_LIMIT
    assert header["text"]["text"].endswith("…")
    body, facts = blocks_of(payload, "section")
    assert len(body["text"]["text"]) == SLACK_SECTION_LIMIT
    assert body["text"]["text"].endswith("…")
    assert len(facts["fields"]) == SLACK_FIELDS_MAX
    assert all(len(field["text"]) <= SLACK_FIELD_LIMIT for field in facts["fields"])
    assert facts["fields"][-1]["text"] == "*More*\n5 more not shown"
    assert len(payload["text"]) <= 4000


def test_cutting_never_leaves_half_an_entity():
    payload = render_slack(replace(ANNOUNCEMENT, headline="&" * 200, body="a<" * 2000))

    header = blocks_of(payload, "header")[0]["text"]["text"]
    body = blocks_of(payload, "section")[0]["text"]["text"]
    assert len(header) <= SLACK_HEADER_LIMIT
    assert re.fullmatch(r"(&amp;)+…", header)
    assert len(body) <= SLACK_SECTION_LIMIT
    assert re.fullmatch(r"(a&lt;)+a?…", body)
