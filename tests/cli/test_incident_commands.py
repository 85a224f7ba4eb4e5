"""`fireline incidents …` against the test app, as a responder would use them."""

from __future__ import annotations

import json
import re
import socket

from .helpers import Cli


def _declare(cli, *args: str) -> str:
    result = cli("incidents", "declare", *args)
    assert result.exit_code == 0, result.output
    return re.search(r"INC-\d+", result.stdout).group(0)


def _json(cli, *args: str):
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_responder_works_an_incident_from_declaration_to_resolution(
    remote_cli, responder, make_person, client
):
    cli = remote_cli(responder)
    make_person("responder", name="Cora Commander", email="cora@example.com")
    service = client.post("/api/v1/services", json={"name": "Checkout"}, headers=responder.headers)
    assert service.status_code == 201, service.text

    declared = cli(
        "incidents", "declare", "--title", "Checkout down", "--severity", "sev2",
        "--service", "checkout", "--summary", "5xx on /pay",
    )  # fmt: skip
    assert declared.exit_code == 0, declared.output
    match = re.fullmatch(
        r"Declared (INC-\d+) \(SEV2\) — war room #incident-2026-01-05-checkout-down\n",
        declared.stdout,
    )
    assert match, declared.stdout
    ref = match.group(1)

    listed = _json(cli, "incidents", "list")
    assert [(item["reference"], item["status"]) for item in listed] == [(ref, "investigating")]
    assert [item["slug"] for item in listed[0]["services"]] == ["checkout"]

    shown = cli("incidents", "show", ref)
    assert shown.exit_code == 0, shown.output
    assert f"{ref} · SEV2 · major · investigating\nCheckout down\n" in shown.stdout
    assert "War room:             #incident-2026-01-05-checkout-down" in shown.stdout
    assert "Summary:              5xx on /pay" in shown.stdout
    assert "reported: Rita Responder <rita@example.com> reported “Checkout down”" in shown.stdout

    status = cli("incidents", "status", ref, "identified", "--note", "Bad deploy 4.2")
    assert (status.exit_code, status.stdout) == (0, f"{ref} is now identified.\n")

    severity = cli("incidents", "severity", ref, "SEV1", "--reason", "All regions")
    assert (severity.exit_code, severity.stdout) == (0, f"{ref} is now SEV1.\n")

    assign = cli("incidents", "assign", ref, "commander", "cora@example.com")
    assert assign.exit_code == 0, assign.output
    assert assign.stdout == f"Cora Commander <cora@example.com> is now commander on {ref}.\n"

    note = cli("incidents", "note", ref, "Rolled back to 4.1", "--decision", "--pin")
    assert note.exit_code == 0, note.output
    assert re.fullmatch(r"Added decision #\d+ \(pinned\)\.\n", note.stdout)

    blocked = cli("incidents", "resolve", ref, "--criteria", "p99 under 300 ms for 15 minutes")
    assert blocked.exit_code == 1
    assert blocked.stdout == ""
    assert "Error: The incident cannot be resolved yet: 5 conditions unmet" in blocked.stderr
    fields = re.findall(r"^  (\w+): ", blocked.stderr, re.M)
    assert fields == [
        "criteria_met",
        "customer_impact_ended",
        "postmortem_owner",
        "postmortem_due_at",
        "monitoring_period",
    ]
    assert "(--criteria-met)" in blocked.stderr
    assert "--waive-monitoring REASON" in blocked.stderr
    # A refused resolve changes nothing, not even the criteria it carried.
    assert _json(cli, "incidents", "show", ref)["incident"]["resolution_criteria"] == ""

    resolved = cli(
        "incidents", "resolve", ref, "--criteria", "p99 under 300 ms for 15 minutes",
        "--criteria-met", "--impact-ended", "--postmortem-owner", "cora@example.com",
        "--postmortem-due", "2026-01-20", "--waive-monitoring", "Rollback verified by canary",
        "--note", "All clear",
    )  # fmt: skip
    assert resolved.exit_code == 0, resolved.output
    assert resolved.stdout == f"Resolved {ref} (SEV1).\n"

    final = cli("incidents", "show", ref)
    assert final.exit_code == 0, final.output
    assert f"{ref} · SEV1 · major · resolved" in final.stdout
    assert "Commander:            Cora Commander <cora@example.com>" in final.stdout
    assert "Postmortem:           Cora Commander <cora@example.com>, due 2026-01-20" in final.stdout
    assert "Monitoring waived:    Rollback verified by canary" in final.stdout
    assert "decision by Rita Responder (pinned): Rolled back to 4.1" in final.stdout
    data = _json(cli, "incidents", "show", ref)
    assert data["incident"]["status"] == "resolved"
    kinds = [entry["kind"] for entry in data["timeline"]]
    assert kinds[:3] == ["reported", "declared", "status_change"]
    assert "severity_change" in kinds
    assert "role_change" in kinds


def test_the_monitoring_period_can_be_waited_out(remote_cli, responder, clock):
    cli = remote_cli(responder)
    ref = _declare(cli, "--title", "Search slow", "--severity", "SEV3")
    assert cli("incidents", "status", ref, "monitoring").exit_code == 0
    gate = ("--criteria", "p95 under 1 s", "--criteria-met", "--impact-ended")

    early = cli("incidents", "resolve", ref, *gate)
    clock.advance(minutes=15)
    later = cli("incidents", "resolve", ref, *gate)

    assert early.exit_code == 1
    assert re.findall(r"^  (\w+): ", early.stderr, re.M) == ["monitoring_period"]
    assert "15 minutes left" in early.stderr
    assert later.exit_code == 0, later.output
    assert _json(cli, "incidents", "show", ref)["incident"]["status"] == "resolved"


def test_a_triage_report_can_be_declined_with_a_reason(remote_cli, responder):
    cli = remote_cli(responder)

    reported = cli(
        "incidents", "declare", "--title", "Odd graphs", "--severity", "SEV4", "--triage"
    )
    ref = re.search(r"INC-\d+", reported.stdout).group(0)
    no_reason = cli("incidents", "status", ref, "declined")
    declined = cli("incidents", "status", ref, "DECLINED", "--note", "Dashboard bug")

    assert reported.exit_code == 0, reported.output
    assert reported.stdout == f"Reported {ref} (SEV4) for triage.\n"
    assert f"fireline incidents status {ref} investigating" in reported.stderr
    assert no_reason.exit_code == 1
    assert "reason: say why this is not an incident" in no_reason.stderr
    assert declined.exit_code == 0, declined.output
    assert declined.stdout == f"{ref} is now declined.\n"


def test_list_filters_pages_and_prints_a_table(remote_cli, responder):
    cli = remote_cli(responder)
    first = _declare(cli, "--title", "Payments [EU] failing", "--severity", "SEV1")
    second = _declare(cli, "--title", "Search slow", "--severity", "SEV3")
    third = _declare(cli, "--title", "Odd graphs", "--severity", "SEV3", "--triage")

    page = cli("incidents", "list", "--limit", "2")
    everything = _json(cli, "incidents", "list", "--all", "--limit", "2")
    sev3 = _json(cli, "incidents", "list", "--severity", "sev3")
    triage = _json(cli, "incidents", "list", "--status", "triage")
    active = _json(cli, "incidents", "list", "--status", "investigating", "--severity", "SEV1")
    nothing = cli("incidents", "list", "--service", "no-such-service")

    assert page.exit_code == 0, page.output
    assert third in page.stdout
    assert second in page.stdout
    assert first not in page.stdout
    assert "there may be more" in page.stderr
    assert [item["reference"] for item in everything] == [third, second, first]
    assert [item["reference"] for item in sev3] == [third, second]
    assert [item["reference"] for item in triage] == [third]
    assert [item["reference"] for item in active] == [first]
    cli.env["COLUMNS"] = "120"  # as wide as a terminal, so titles stay on one line
    table = cli("incidents", "list")
    assert "Payments [EU] failing" in table.stdout  # brackets are text, not markup
    assert "Rita Responder" not in table.stdout  # nobody is commander yet
    assert nothing.exit_code == 0
    assert "No incidents match." in nothing.stderr


def test_assigning_an_sme_by_id_names_them(remote_cli, responder, make_person):
    cli = remote_cli(responder)
    expert = make_person("viewer", name="Dee Database", email="dee@example.com")
    ref = _declare(cli, "--title", "Replica lag", "--severity", "SEV2")

    result = cli("incidents", "assign", ref, "SME", str(expert.user.id))

    assert result.exit_code == 0, result.output
    assert result.stdout == f"Dee Database <dee@example.com> is now sme on {ref}.\n"


def test_the_server_url_comes_from_fireline_url(remote_cli, responder):
    cli = remote_cli(responder)
    default = cli("incidents", "list")
    cli.env["FIRELINE_URL"] = "https://fireline.example.com/"
    configured = cli("incidents", "list")

    assert (default.exit_code, configured.exit_code) == (0, 0)
    assert cli.urls == ["http://127.0.0.1:8000", "https://fireline.example.com"]


def test_a_missing_token_is_explained_before_any_request(remote_cli):
    cli = remote_cli(None)

    result = cli("incidents", "list")

    assert result.exit_code == 1
    assert "Error: FIRELINE_TOKEN is not set." in result.stderr
    assert "fireline tokens create" in result.stderr
    assert cli.urls == []


def test_an_unreachable_server_gets_a_friendly_message():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    cli = Cli({"FIRELINE_URL": url, "FIRELINE_TOKEN": "fl_whatever"})

    result = cli("incidents", "show", "INC-1")

    assert result.exit_code == 1
    assert f"Error: Cannot reach Fireline at {url}: " in result.stderr
    assert "Is `fireline serve` running?" in result.stderr
    assert "Traceback" not in result.output


def test_api_refusals_are_printed_as_errors(remote_cli, responder, viewer, admin):
    rejected_token = remote_cli(type(responder)(user=responder.user, token="fl_not-a-token"))
    bad_token = rejected_token("incidents", "list")
    forbidden = remote_cli(viewer)("incidents", "declare", "--title", "X", "--severity", "SEV4")
    missing = remote_cli(admin)("incidents", "show", "INC-424242")
    unknown_service = remote_cli(admin)(
        "incidents", "declare", "--title", "X", "--severity", "SEV4", "--service", "ghost"
    )
    bad_severity = remote_cli(admin)("incidents", "severity", "INC-1", "SEV9")

    assert bad_token.exit_code == 1
    assert "Error: The API token is not valid." in bad_token.stderr
    assert "check FIRELINE_TOKEN" in bad_token.stderr
    assert forbidden.exit_code == 1
    assert "needs the 'incidents:write' permission" in forbidden.stderr
    assert missing.exit_code == 1
    assert "Error: No incident INC-424242." in missing.stderr
    assert unknown_service.exit_code == 1
    assert "services: unknown service(s): ghost" in unknown_service.stderr
    assert bad_severity.exit_code == 2
    assert "SEV1 (critical)" in bad_severity.stderr
