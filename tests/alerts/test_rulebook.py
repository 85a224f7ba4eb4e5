"""The rules ingest applies are read once per moment, not per batch: a change made in this
process applies at once; one made elsewhere (another web process) within the snapshot's TTL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from fireline.alerts import rulebook
from fireline.models import Alert, Silence

from .helpers import add_integration, add_service, pd_trigger


def statuses(db) -> list[str]:
    db.expire_all()
    return [alert.status for alert in db.scalars(select(Alert).order_by(Alert.id))]


def test_a_silence_written_elsewhere_applies_once_the_snapshot_is_stale(
    client, db, clock, monkeypatch
):
    key = add_integration(db, clock.now(), add_service(db, clock.now())).key
    db.commit()
    client.post("/v2/enqueue", json=pd_trigger(key, "before", dedup_key="1"))
    # Another process writes a silence: nothing in this process hears of it.
    db.connection().execute(
        insert(Silence).values(
            comment="load test",
            conditions=[],
            starts_at=clock.now() - timedelta(minutes=1),
            ends_at=clock.now() + timedelta(hours=1),
            created_at=clock.now(),
        )
    )
    db.commit()

    client.post("/v2/enqueue", json=pd_trigger(key, "still cached", dedup_key="2"))
    later = rulebook.time.monotonic() + rulebook.TTL + 0.1
    monkeypatch.setattr(rulebook.time, "monotonic", lambda: later)
    client.post("/v2/enqueue", json=pd_trigger(key, "after the TTL", dedup_key="3"))

    assert statuses(db) == ["triggered", "triggered", "suppressed"]


def test_a_silence_made_through_fireline_applies_at_once(client, db, clock, as_responder):
    key = add_integration(db, clock.now(), add_service(db, clock.now())).key
    db.commit()
    client.post("/v2/enqueue", json=pd_trigger(key, "before", dedup_key="1"))

    made = as_responder.post(
        "/api/v1/silences",
        json={
            "comment": "noisy check",
            "conditions": [{"field": "summary", "op": "contains", "value": "noisy"}],
            "starts_at": clock.now().isoformat(),
            "ends_at": (clock.now() + timedelta(hours=1)).isoformat(),
        },
    )
    client.post("/v2/enqueue", json=pd_trigger(key, "noisy disk check", dedup_key="2"))
    client.post("/v2/enqueue", json=pd_trigger(key, "real problem", dedup_key="3"))

    assert made.status_code == 201, made.text
    assert statuses(db) == ["triggered", "suppressed", "triggered"]
