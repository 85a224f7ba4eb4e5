"""PagerDuty's own Python client (PyPI `pagerduty`) pointed at Fireline instead of PagerDuty:
a checkout service's health check pages, is acknowledged and resolved, and a deploy is recorded,
with nothing changed in the client but its base URL and its routing key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pagerduty
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fireline.models import Alert, ChangeEvent, Integration

from .conftest import LiveFireline, alerts_of, new_integration


@pytest.fixture
def integration(fireline_db: sessionmaker[Session]) -> Integration:
    return new_integration(fireline_db, kind="pagerduty")


def events_client(live_fireline: LiveFireline, routing_key: str) -> pagerduty.EventsApiV2Client:
    return pagerduty.EventsApiV2Client(
        routing_key, base_url=live_fireline.url, verify=live_fireline.ssl_context(), trust_env=False
    )


@pytest.fixture
def events(
    live_fireline: LiveFireline, integration: Integration
) -> Iterator[pagerduty.EventsApiV2Client]:
    """The Events API v2 client with the integration's key as its routing key."""
    with events_client(live_fireline, integration.key) as client:
        yield client


def the_alert(fireline_db: sessionmaker[Session], integration: Integration) -> Alert:
    [alert] = alerts_of(fireline_db, integration)
    return alert


def answer(error: pagerduty.HttpError) -> tuple[int, Any]:
    """The status and body Fireline answered with, as the client's error carries them."""
    assert error.response is not None
    return error.response.status_code, error.response.json()


def test_a_triggered_alert_is_acknowledged_then_resolved(events, fireline_db, integration):
    dedup_key = events.trigger("Checkout returns 502 for 12 % of requests", "lb-eu-1")

    alert = the_alert(fireline_db, integration)
    assert alert.dedup_key == dedup_key
    assert alert.status == "triggered"

    assert events.acknowledge(dedup_key) == dedup_key
    alert = the_alert(fireline_db, integration)
    assert alert.status == "acknowledged"
    assert alert.acknowledged_at is not None

    assert events.resolve(dedup_key) == dedup_key
    alert = the_alert(fireline_db, integration)
    assert alert.status == "resolved"
    assert alert.resolved_at is not None


def test_everything_the_client_sends_with_a_trigger_is_kept(events, fireline_db, integration):
    failing_since = datetime.now(UTC) - timedelta(minutes=3)
    events.trigger(
        "Checkout returns 502 for 12 % of requests",
        "lb-eu-1",
        severity="error",
        payload={
            "timestamp": failing_since.isoformat(),
            "component": "checkout-api",
            "group": "eu-west",
            "class": "http-5xx",
        },
        custom_details={"error_rate": 0.12},
        links=[{"href": "https://grafana.example.com/d/checkout", "text": "Dashboard"}],
        images=[{"src": "https://grafana.example.com/render/checkout.png", "alt": "5xx rate"}],
    )

    alert = the_alert(fireline_db, integration)
    assert alert.summary == "Checkout returns 502 for 12 % of requests"
    assert (alert.source, alert.severity) == ("lb-eu-1", "error")
    assert (alert.component, alert.group, alert.class_) == ("checkout-api", "eu-west", "http-5xx")
    assert alert.started_at == failing_since
    assert alert.details == {"error_rate": 0.12}
    assert alert.links == [{"href": "https://grafana.example.com/d/checkout", "text": "Dashboard"}]
    assert alert.images == [
        {"src": "https://grafana.example.com/render/checkout.png", "href": None, "alt": "5xx rate"}
    ]


def test_two_triggers_with_one_dedup_key_are_one_alert_seen_twice(events, fireline_db, integration):
    first = events.trigger("Checkout p99 above 2 s", "web-1", dedup_key="checkout/latency")
    again = events.trigger("Checkout p99 above 3 s", "web-1", dedup_key="checkout/latency")

    alert = the_alert(fireline_db, integration)
    assert first == again == alert.dedup_key == "checkout/latency"
    assert alert.occurrences == 2
    assert alert.summary == "Checkout p99 above 3 s"


def test_a_deploy_is_recorded_as_a_change_on_the_service(events, fireline_db, integration):
    deployed_at = datetime.now(UTC) - timedelta(minutes=10)
    # Given, since the client fails making its own (pagerduty 7.2 calls `datetime.timezone`).
    events.submit(
        "Deployed checkout v2.14.0",
        source="github-actions",
        custom_details={"commit": "9f1c2ab"},
        links=[{"href": "https://github.com/example/checkout/pull/812", "text": "PR #812"}],
        timestamp=deployed_at.isoformat(),
    )

    with fireline_db() as session:
        [change] = session.scalars(
            select(ChangeEvent).where(ChangeEvent.integration_id == integration.id)
        )
    assert change.service_id == integration.service_id
    assert change.summary == "Deployed checkout v2.14.0"
    assert change.source == "github-actions"
    assert change.details == {"commit": "9f1c2ab"}
    assert change.occurred_at == deployed_at
    assert change.links == [
        {"href": "https://github.com/example/checkout/pull/812", "text": "PR #812"}
    ]


def test_an_invalid_event_raises_the_clients_error_with_firelines_answer(
    events, live_fireline, fireline_db, integration
):
    with pytest.raises(pagerduty.HttpError) as invalid:
        events.trigger("Checkout is down", "lb-eu-1", severity="sev1")
    with (
        events_client(live_fireline, "0" * 32) as stranger,
        pytest.raises(pagerduty.HttpError) as unknown_key,
    ):
        stranger.trigger("Checkout is down", "lb-eu-1")

    assert answer(invalid.value) == (
        400,
        {
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": ["payload.severity must be one of critical, error, warning, info"],
        },
    )
    status, body = answer(unknown_key.value)
    assert (status, body["errors"]) == (400, ["No integration has this key."])
    assert alerts_of(fireline_db, integration) == []
