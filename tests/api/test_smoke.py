def test_a_responder_declares_a_sev1_and_reads_it_back(as_responder):
    created = as_responder.post(
        "/api/v1/incidents", json={"title": "Checkout down", "severity": "SEV1"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["reference"] == f"INC-{body['id']}"
    assert body["status"] == "investigating"
    assert body["war_room"] == "#incident-2026-01-05-checkout-down"
    read = as_responder.get(f"/api/v1/incidents/{body['reference']}")
    assert read.json()["title"] == "Checkout down"
