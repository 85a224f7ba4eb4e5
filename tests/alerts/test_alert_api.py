"""People working alerts through the JSON API: linking one to an incident."""

from __future__ import annotations

from .helpers import add_integration, add_service, pd_trigger


def test_linking_an_alert_to_an_incident_says_so_on_its_timeline_once(
    client, db, clock, as_responder, as_admin
):
    key = add_integration(db, clock.now(), add_service(db, clock.now())).key
    db.commit()
    client.post("/v2/enqueue", json=pd_trigger(key, "Checkout 502s", dedup_key="co"))
    [alert] = as_responder.get("/api/v1/alerts").json()["items"]
    ref = as_responder.post(
        "/api/v1/incidents", json={"title": "Checkout failing", "severity": "SEV2"}
    ).json()["reference"]

    linked = as_responder.put(f"/api/v1/alerts/{alert['id']}/incident", json={"incident": ref})
    again = as_responder.put(f"/api/v1/alerts/{alert['id']}/incident", json={"incident": ref})
    unknown = as_responder.put(
        f"/api/v1/alerts/{alert['id']}/incident", json={"incident": "INC-99"}
    )

    assert linked.status_code == 200, linked.text
    assert again.status_code == 200
    assert unknown.status_code == 404
    incident_id = int(ref.removeprefix("INC-"))
    assert linked.json()["incident_id"] == incident_id
    timeline = as_responder.get(f"/api/v1/incidents/{ref}/timeline").json()["items"]
    links = [entry for entry in timeline if entry["kind"] == "alert"]
    assert len(links) == 1
    assert f"linked alert #{alert['id']}: Checkout 502s" in links[0]["body"]
    listed = as_responder.get("/api/v1/alerts", params={"incident": ref}).json()["items"]
    assert [item["id"] for item in listed] == [alert["id"]]
    audit = as_admin.get("/api/v1/audit", params={"action": "alert.link"}).json()["items"]
    assert [record["after"] for record in audit] == [{"incident_id": incident_id}]
