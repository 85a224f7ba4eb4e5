"""An admin connects monitoring tools on the settings pages: integrations with their URLs and
keys, test alerts, new keys; then routing rules and declare rules, in order."""

from __future__ import annotations

import html
import re

import pytest

INTEGRATIONS = "/settings/integrations"


@pytest.fixture
def services(as_admin) -> None:
    for slug in ("checkout", "payments"):
        made = as_admin.post("/api/v1/services", json={"name": slug.title(), "slug": slug})
        assert made.status_code == 201, made.text


def integration_named(as_admin, name: str) -> dict:
    items = as_admin.get("/api/v1/integrations").json()["items"]
    return next(item for item in items if item["name"] == name)


def create(browser, **fields) -> object:
    form = {"service": "checkout", "type": "pagerduty", "name": "Prometheus", "enabled": "on"}
    return browser.post(INTEGRATIONS, {**form, **fields})


def test_an_admin_adds_an_integration_and_sees_its_urls_and_key_ready_to_copy(
    browser_admin, as_admin, services
):
    created = create(browser_admin)

    assert created.status_code == 303
    made = integration_named(as_admin, "Prometheus")
    assert created.headers["location"] == f"{INTEGRATIONS}?done=created#integration-{made['id']}"
    page = browser_admin.get(created.headers["location"])
    assert page.status_code == 200
    assert "Created." in page.text
    key_input = f'id="integration-{made["id"]}-key" type="text" value="{made["key"]}" readonly'
    assert key_input in page.text
    assert 'value="http://127.0.0.1:8000/v2/enqueue" readonly' in page.text
    assert f'data-copy="integration-{made["id"]}-key" hidden' in page.text  # script shows it
    assert "Routing key" in page.text


def test_the_settings_index_offers_integrations_and_routing_to_admins_only(
    browser_admin, sign_in, responder
):
    index = browser_admin.get("/settings")
    assert 'href="/settings/integrations"' in index.text
    assert 'href="/settings/routing"' in index.text
    responder_index = sign_in(responder).get("/settings")
    assert 'href="/settings/integrations"' not in responder_index.text
    assert sign_in(responder).get(INTEGRATIONS).status_code == 403


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Give the integration a name."),
        ({"type": "nagios"}, "type", "Choose a type from the list."),
        ({"service": "nowhere"}, "service", "no service &#39;nowhere&#39;"),
        ({"type": "webhook", "mapping": "{not json"}, "mapping", "is not valid JSON"),
        ({"type": "webhook", "mapping": "[1]"}, "mapping", "must be a JSON object"),
        ({"type": "webhook", "mapping": '{"title": "$.x"}'}, "mapping", "summary: Field required"),
        ({"type": "webhook", "mapping": '{"summary": "$.["}'}, "mapping", "summary"),
        ({"mapping": '{"summary": "$.title"}'}, "mapping", "only webhook integrations"),
    ],
)
def test_a_refused_integration_says_why_beside_the_field_and_keeps_what_was_typed(
    browser_admin, services, fields, field, message
):
    refused = create(
        browser_admin,
        name=fields.get("name", "Typed name"),
        **{name: value for name, value in fields.items() if name != "name"},
    )

    assert refused.status_code == 422
    assert f'id="f-{field}-error"' in refused.text
    assert message in refused.text
    if "mapping" in fields:
        assert f">{fields['mapping']}</textarea>" in html.unescape(refused.text)


def test_a_generic_webhook_keeps_its_mapping_and_an_edit_can_restore_the_default(
    browser_admin, as_admin, services, client
):
    mapping = '{"summary": "$.message", "severity": "$.level", "dedup_key": "$.key"}'
    created = create(browser_admin, type="webhook", name="Uptime", mapping=mapping)
    assert created.status_code == 303
    made = integration_named(as_admin, "Uptime")
    assert made["mapping"]["summary"] == "$.message"
    sent = client.post(
        f"/integrations/webhook/{made['key']}", json={"message": "Site down", "level": "critical"}
    )
    assert sent.status_code == 200, sent.text

    edit = browser_admin.get(f"{INTEGRATIONS}/{made['id']}")
    assert edit.status_code == 200
    assert "$.message" in edit.text
    refused = browser_admin.post(
        f"{INTEGRATIONS}/{made['id']}",
        {"name": "Uptime", "service": "payments", "mapping": "{", "enabled": "on"},
    )
    assert refused.status_code == 422
    assert "is not valid JSON" in refused.text
    assert integration_named(as_admin, "Uptime")["service"]["slug"] == "checkout"

    saved = browser_admin.post(
        f"{INTEGRATIONS}/{made['id']}",
        {"name": "Uptime robot", "service": "payments", "mapping": "", "enabled": "on"},
    )
    assert saved.status_code == 303
    stored = integration_named(as_admin, "Uptime robot")
    assert (stored["service"]["slug"], stored["mapping"]) == ("payments", {})


def test_editing_a_pagerduty_integration_has_no_mapping_and_refuses_a_blank_name(
    browser_admin, as_admin, services
):
    create(browser_admin)
    made = integration_named(as_admin, "Prometheus")

    edit = browser_admin.get(f"{INTEGRATIONS}/{made['id']}")
    assert 'name="mapping"' not in edit.text
    refused = browser_admin.post(
        f"{INTEGRATIONS}/{made['id']}", {"name": "", "service": "checkout", "enabled": "on"}
    )
    assert refused.status_code == 422
    assert "Give the integration a name." in refused.text


def test_a_test_alert_reports_where_it_landed_and_a_disabled_integration_refuses(
    browser_admin, as_admin, services
):
    create(browser_admin)
    made = integration_named(as_admin, "Prometheus")

    tested = browser_admin.post(f"{INTEGRATIONS}/{made['id']}/test")
    assert tested.status_code == 303
    assert re.fullmatch(
        rf"{INTEGRATIONS}\?tested=\d+#integration-{made['id']}", tested.headers["location"]
    )
    result = browser_admin.get(tested.headers["location"])
    assert "Test alert #" in result.text
    assert "routed to Checkout" in result.text
    alerts = as_admin.get("/api/v1/alerts").json()["items"]
    assert [a["summary"] for a in alerts] == ["Test alert from Fireline"]
    assert "Test alert #" not in browser_admin.get(f"{INTEGRATIONS}?tested=999999").text
    assert "Test alert #" not in browser_admin.get(f"{INTEGRATIONS}?tested=abc").text

    disabled = browser_admin.post(f"{INTEGRATIONS}/{made['id']}/enabled")
    assert disabled.headers["location"].startswith(f"{INTEGRATIONS}?done=disabled")
    assert "(disabled)" in browser_admin.get(INTEGRATIONS).text
    assert integration_named(as_admin, "Prometheus")["enabled"] is False
    refused = browser_admin.post(f"{INTEGRATIONS}/{made['id']}/test")
    assert refused.status_code == 409
    assert "is disabled" in refused.text

    enabled = browser_admin.post(f"{INTEGRATIONS}/{made['id']}/enabled", {"enabled": "on"})
    assert (
        "Enabled: its events are accepted again."
        in browser_admin.get(enabled.headers["location"]).text
    )


def test_a_new_key_and_removal_each_ask_first(browser_admin, as_admin, services):
    create(browser_admin)
    made = integration_named(as_admin, "Prometheus")

    asked = browser_admin.post(f"{INTEGRATIONS}/{made['id']}/rotate")
    assert asked.status_code == 200
    assert "Make a new key for “Prometheus”?" in asked.text
    assert integration_named(as_admin, "Prometheus")["key"] == made["key"]
    rotated = browser_admin.post(f"{INTEGRATIONS}/{made['id']}/rotate", {"confirmed": "yes"})
    assert rotated.status_code == 303
    assert integration_named(as_admin, "Prometheus")["key"] != made["key"]
    assert "the old one has stopped working" in browser_admin.get(rotated.headers["location"]).text

    asked = browser_admin.post(f"{INTEGRATIONS}/{made['id']}/delete")
    assert "Delete the integration “Prometheus”?" in asked.text
    deleted = browser_admin.post(f"{INTEGRATIONS}/{made['id']}/delete", {"confirmed": "yes"})
    assert deleted.headers["location"] == f"{INTEGRATIONS}?done=deleted"
    assert as_admin.get("/api/v1/integrations").json()["items"] == []
    assert "No integrations yet" in browser_admin.get(INTEGRATIONS).text
    assert browser_admin.get(f"{INTEGRATIONS}/{made['id']}").status_code == 404


# --- routing and declare rules -------------------------------------------------------------------

ROUTING = "/settings/routing"
DECLARE = "/settings/declare-rules"


def routing_rules(as_admin) -> list[dict]:
    return as_admin.get("/api/v1/routing-rules").json()["items"]


def rule_form(name: str, **fields) -> dict:
    return {"name": name, "enabled": "on", **fields}


def test_a_routing_rule_is_made_with_conditions_from_the_rows(browser_admin, as_admin, services):
    new = browser_admin.get(f"{ROUTING}/new")
    assert new.status_code == 200
    assert new.text.count('name="conditions.') == 9  # three blank rows of three fields

    created = browser_admin.post(
        ROUTING,
        rule_form(
            "Payments team",
            service="payments",
            severity="critical",
            **{
                "conditions.0.field": "labels.team",
                "conditions.0.op": "in",
                "conditions.0.value": "payments, billing",
                "conditions.1.field": "",
                "conditions.2.field": "service.tier",
                "conditions.2.op": "at_most",
                "conditions.2.value": "1",
                "conditions.3.field": "labels.debug",
                "conditions.3.op": "not_exists",
                "conditions.3.value": "ignored",
            },
        ),
    )

    assert created.status_code == 303, created.text
    assert created.headers["location"] == f"{ROUTING}?done=created"
    [rule] = routing_rules(as_admin)
    assert rule["conditions"] == [
        {"field": "labels.team", "op": "in", "value": ["payments", "billing"]},
        {"field": "service.tier", "op": "at_most", "value": 1},
        {"field": "labels.debug", "op": "not_exists"},
    ]
    assert (rule["service"]["slug"], rule["severity"]) == ("payments", "critical")
    listed = browser_admin.get(ROUTING)
    assert "labels.team is one of (separate with commas) payments, billing" in listed.text
    edit = browser_admin.get(f"{ROUTING}/{rule['id']}")
    assert 'value="payments, billing"' in edit.text
    assert edit.text.count('name="conditions.') == 12  # three rows and a spare


@pytest.mark.parametrize(
    ("fields", "where", "message"),
    [
        ({"conditions.0.field": "colour"}, "f-conditions-0-field-error", "must be one of"),
        (
            {
                "conditions.0.field": "summary",
                "conditions.0.op": "matches",
                "conditions.0.value": "(",
            },
            "f-conditions-0-value-error",
            "not a valid regular expression",
        ),
        (
            {
                "conditions.0.field": "service.tier",
                "conditions.0.op": "at_most",
                "conditions.0.value": "one",
            },
            "f-conditions-0-value-error",
            "needs a whole number",
        ),
        ({"service": ""}, "f-service-error", "must set a service, a severity or an escalation"),
        ({"name": ""}, "f-name-error", "Give the rule a name."),
        ({"integration_id": "999999"}, "f-integration_id-error", "no integration 999999"),
    ],
)
def test_a_refused_routing_rule_says_which_row_and_keeps_the_rows(
    browser_admin, services, fields, where, message
):
    form = rule_form("Typed rule", service="payments") | fields

    refused = browser_admin.post(ROUTING, form)

    assert refused.status_code == 422
    assert f'id="{where}"' in refused.text
    assert message in html.unescape(refused.text)
    for name, value in fields.items():
        if name.startswith("conditions.") and value:
            assert (
                f'value="{html.escape(value)}"' in refused.text
                or f'value="{value}" selected' in refused.text
            )


def test_rules_move_up_and_down_and_are_deleted_after_confirmation(
    browser_admin, as_admin, services
):
    for name in ("First", "Second", "Third"):
        browser_admin.post(ROUTING, rule_form(name, severity="info"))
    first, second, third = routing_rules(as_admin)

    listed = browser_admin.get(ROUTING)
    assert listed.text.count('value="up"') == 2  # not on the first
    assert listed.text.count('value="down"') == 2  # not on the last
    browser_admin.post(f"{ROUTING}/{third['id']}/move", {"direction": "up"})
    assert [r["name"] for r in routing_rules(as_admin)] == ["First", "Third", "Second"]
    browser_admin.post(f"{ROUTING}/{first['id']}/move", {"direction": "down"})
    assert [r["name"] for r in routing_rules(as_admin)] == ["Third", "First", "Second"]
    browser_admin.post(f"{ROUTING}/{third['id']}/move", {"direction": "up"})  # already first
    assert [r["name"] for r in routing_rules(as_admin)] == ["Third", "First", "Second"]

    edited = browser_admin.post(
        f"{ROUTING}/{second['id']}", rule_form("Second, renamed", severity="warning")
    )
    assert edited.headers["location"] == f"{ROUTING}?done=saved"
    assert routing_rules(as_admin)[2]["severity"] == "warning"

    asked = browser_admin.post(f"{ROUTING}/{second['id']}/delete")
    assert "Delete the routing rule “Second, renamed”?" in asked.text
    browser_admin.post(f"{ROUTING}/{second['id']}/delete", {"confirmed": "yes"})
    assert [r["name"] for r in routing_rules(as_admin)] == ["Third", "First"]
    assert browser_admin.get(f"{ROUTING}/{second['id']}").status_code == 404


def test_declare_rules_are_made_edited_moved_and_deleted(browser_admin, as_admin):
    new = browser_admin.get(f"{DECLARE}/new")
    assert "SEV2 — " in new.text
    refused = browser_admin.post(DECLARE, rule_form("Tier 1 critical", severity="SEV9"))
    assert refused.status_code in (404, 422)
    assert 'value="Tier 1 critical"' in refused.text

    for name, severity in (("Tier 1 critical", "SEV2"), ("Security", "SEV1")):
        made = browser_admin.post(
            DECLARE,
            rule_form(
                name,
                severity=severity,
                **{
                    "conditions.0.field": "severity",
                    "conditions.0.op": "severity_at_least",
                    "conditions.0.value": "critical",
                },
            ),
        )
        assert made.status_code == 303, made.text
    rules = as_admin.get("/api/v1/declare-rules").json()["items"]
    assert [(r["name"], r["severity"]) for r in rules] == [
        ("Tier 1 critical", "SEV2"),
        ("Security", "SEV1"),
    ]
    listed = browser_admin.get(ROUTING)
    assert "declare a <strong>SEV2</strong> incident" in listed.text

    browser_admin.post(f"{DECLARE}/{rules[1]['id']}/move", {"direction": "up"})
    assert [r["name"] for r in as_admin.get("/api/v1/declare-rules").json()["items"]] == [
        "Security",
        "Tier 1 critical",
    ]
    edit = browser_admin.get(f"{DECLARE}/{rules[0]['id']}")
    assert 'value="critical"' in edit.text
    saved = browser_admin.post(f"{DECLARE}/{rules[0]['id']}", rule_form("Tier 1", severity="SEV3"))
    assert saved.status_code == 303
    refused = browser_admin.post(
        f"{DECLARE}/{rules[0]['id']}",
        rule_form("Tier 1", severity="SEV3", **{"conditions.0.field": "nope"}),
    )
    assert refused.status_code == 422
    browser_admin.post(f"{DECLARE}/{rules[0]['id']}/delete", {"confirmed": "yes"})
    assert [r["name"] for r in as_admin.get("/api/v1/declare-rules").json()["items"]] == [
        "Security"
    ]
    assert (
        "Delete the declare rule" in browser_admin.post(f"{DECLARE}/{rules[1]['id']}/delete").text
    )
