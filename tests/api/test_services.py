"""The service catalog: what can break, who owns it and how critical it is."""

from __future__ import annotations

import pytest

SERVICES = "/api/v1/services"


def fields(problem) -> list[str]:
    return [error["field"] for error in problem.json()["errors"]]


@pytest.fixture
def payments_team(as_admin) -> dict:
    response = as_admin.post("/api/v1/teams", json={"name": "Payments Team"})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_responder_adds_a_service_and_its_slug_comes_from_the_name(as_responder):
    created = as_responder.post(SERVICES, json={"name": "Checkout API"})

    assert created.status_code == 201, created.text
    service = created.json()
    assert service["slug"] == "checkout-api"
    assert service["name"] == "Checkout API"
    assert service["tier"] == 2
    assert service["owner_team"] is None
    assert service["runbook_url"] is None
    assert service["description"] == ""
    assert service["created_at"].startswith("2026-01-05T10:00:00")
    assert service["updated_at"] == service["created_at"]


def test_a_service_may_be_given_its_own_slug(as_responder):
    created = as_responder.post(SERVICES, json={"name": "Payments Gateway", "slug": "pgw"})

    assert created.status_code == 201, created.text
    assert created.json()["slug"] == "pgw"
    assert as_responder.get(f"{SERVICES}/pgw").json()["name"] == "Payments Gateway"


@pytest.mark.parametrize("slug", ["Has Spaces", "UPPER", "-leading", "trailing-", "a--b", ""])
def test_a_slug_must_be_lowercase_words_joined_by_hyphens(as_responder, slug):
    response = as_responder.post(SERVICES, json={"name": "Checkout", "slug": slug})
    assert response.status_code == 422
    assert fields(response) == ["slug"]


def test_a_service_belongs_to_an_owner_team(as_responder, payments_team):
    by_slug = as_responder.post(SERVICES, json={"name": "Checkout", "owner_team": "payments-team"})
    by_id = as_responder.post(
        SERVICES, json={"name": "Refunds", "owner_team": str(payments_team["id"])}
    )

    for response in (by_slug, by_id):
        assert response.status_code == 201, response.text
        assert response.json()["owner_team"] == {
            "id": payments_team["id"],
            "slug": "payments-team",
            "name": "Payments Team",
        }


def test_an_unknown_owner_team_is_refused_by_name(as_responder):
    response = as_responder.post(SERVICES, json={"name": "Checkout", "owner_team": "nobody"})

    assert response.status_code == 422
    assert fields(response) == ["owner_team"]
    assert "nobody" in response.json()["detail"]
    assert as_responder.get(f"{SERVICES}/checkout").status_code == 404


@pytest.mark.parametrize("tier", [1, 2, 3])
def test_tiers_run_from_one_to_three(as_responder, tier):
    response = as_responder.post(SERVICES, json={"name": "Checkout", "tier": tier})
    assert response.status_code == 201, response.text
    assert response.json()["tier"] == tier


@pytest.mark.parametrize("tier", [0, 4, -1, "critical"])
def test_a_tier_outside_one_to_three_is_refused_by_name(as_responder, tier):
    response = as_responder.post(SERVICES, json={"name": "Checkout", "tier": tier})

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert fields(response) == ["tier"]


def test_a_runbook_link_is_kept(as_responder):
    url = "https://runbooks.example.com/checkout#rollback"
    created = as_responder.post(SERVICES, json={"name": "Checkout", "runbook_url": url})
    assert created.status_code == 201, created.text
    assert created.json()["runbook_url"] == url


@pytest.mark.parametrize(
    "url", ["not a url", "runbooks/checkout", "javascript:alert(1)", "ftp://files.example.com/x"]
)
def test_a_runbook_must_be_a_web_link(as_responder, url):
    response = as_responder.post(SERVICES, json={"name": "Checkout", "runbook_url": url})

    assert response.status_code == 422
    assert fields(response) == ["runbook_url"]


@pytest.mark.parametrize(
    "second",
    [
        {"name": "Checkout"},
        {"name": "CHECKOUT"},
        {"name": "  checkout "},
        {"name": "Checkout v2", "slug": "checkout"},
    ],
    ids=["same", "other-case", "padded", "same-slug"],
)
def test_names_and_slugs_are_unique(as_responder, second):
    assert as_responder.post(SERVICES, json={"name": "Checkout"}).status_code == 201

    duplicate = as_responder.post(SERVICES, json=second)

    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"].startswith("application/problem+json")
    assert len(as_responder.get(SERVICES).json()) == 1


def test_a_viewer_reads_the_catalog_but_cannot_change_it(as_responder, as_viewer):
    as_responder.post(SERVICES, json={"name": "Checkout"})

    assert as_viewer.get(SERVICES).status_code == 200
    assert as_viewer.get(f"{SERVICES}/checkout").status_code == 200
    created = as_viewer.post(SERVICES, json={"name": "Search"})
    assert created.status_code == 403
    assert "catalog:write" in created.json()["detail"]
    assert as_viewer.patch(f"{SERVICES}/checkout", json={"tier": 1}).status_code == 403
    assert [service["name"] for service in as_viewer.get(SERVICES).json()] == ["Checkout"]


def test_a_service_is_found_by_slug_or_by_id(as_responder):
    service = as_responder.post(SERVICES, json={"name": "Checkout"}).json()

    by_slug = as_responder.get(f"{SERVICES}/checkout")
    by_id = as_responder.get(f"{SERVICES}/{service['id']}")

    assert by_slug.status_code == by_id.status_code == 200
    assert by_slug.json() == by_id.json() == service


@pytest.mark.parametrize("ref", ["nothing-here", "999999"])
def test_an_unknown_service_is_a_404_problem(as_responder, ref):
    response = as_responder.get(f"{SERVICES}/{ref}")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 404
    assert problem["title"] == "Not found"
    assert ref in problem["detail"]
    assert problem["instance"] == f"{SERVICES}/{ref}"


def test_the_catalog_is_listed_by_name(as_responder):
    for name in ("Search", "Checkout", "Payments"):
        as_responder.post(SERVICES, json={"name": name})

    names = [service["name"] for service in as_responder.get(SERVICES).json()]

    assert names == ["Checkout", "Payments", "Search"]


def test_a_responder_updates_a_service(as_responder, payments_team, clock):
    as_responder.post(
        SERVICES,
        json={"name": "Checkout", "runbook_url": "https://runbooks.example.com/checkout"},
    )
    clock.advance(minutes=5)

    updated = as_responder.patch(
        f"{SERVICES}/checkout",
        json={
            "name": "Checkout API",
            "description": "Takes the money",
            "tier": 1,
            "owner_team": "payments-team",
        },
    )

    assert updated.status_code == 200, updated.text
    service = updated.json()
    assert service["name"] == "Checkout API"
    assert service["slug"] == "checkout"  # links and references keep working after a rename
    assert service["description"] == "Takes the money"
    assert service["tier"] == 1
    assert service["owner_team"]["slug"] == "payments-team"
    assert service["runbook_url"] == "https://runbooks.example.com/checkout"  # untouched
    assert service["updated_at"].startswith("2026-01-05T10:05:00")
    assert service["created_at"].startswith("2026-01-05T10:00:00")
    assert as_responder.get(f"{SERVICES}/checkout").json() == service


def test_an_owner_and_a_runbook_can_be_cleared(as_responder, payments_team):
    as_responder.post(
        SERVICES,
        json={
            "name": "Checkout",
            "owner_team": "payments-team",
            "runbook_url": "https://runbooks.example.com/checkout",
        },
    )

    cleared = as_responder.patch(
        f"{SERVICES}/checkout", json={"owner_team": None, "runbook_url": None}
    )

    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["owner_team"] is None
    assert cleared.json()["runbook_url"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tier": 4}, "tier"),
        ({"tier": 0}, "tier"),
        ({"runbook_url": "nope"}, "runbook_url"),
        ({"owner_team": "nobody"}, "owner_team"),
        ({"slug": "new-slug"}, "slug"),
    ],
)
def test_an_invalid_update_changes_nothing(as_responder, change, field):
    original = as_responder.post(SERVICES, json={"name": "Checkout"}).json()

    response = as_responder.patch(f"{SERVICES}/checkout", json=change)

    assert response.status_code == 422
    assert fields(response) == [field]
    assert as_responder.get(f"{SERVICES}/checkout").json() == original


def test_a_rename_onto_another_services_name_is_a_conflict(as_responder):
    as_responder.post(SERVICES, json={"name": "Checkout"})
    as_responder.post(SERVICES, json={"name": "Search"})

    clash = as_responder.patch(f"{SERVICES}/search", json={"name": "checkout"})
    assert clash.status_code == 409
    # Changing only the case of its own name is no clash.
    assert as_responder.patch(f"{SERVICES}/search", json={"name": "SEARCH"}).status_code == 200


def test_updating_an_unknown_service_is_not_found(as_responder):
    assert as_responder.patch(f"{SERVICES}/ghost", json={"tier": 1}).status_code == 404


def test_a_service_named_with_digits_only_is_still_found_by_its_slug(as_responder):
    created = as_responder.post(SERVICES, json={"name": "911"})
    assert created.status_code == 201, created.text

    found = as_responder.get(f"{SERVICES}/{created.json()['slug']}")

    assert found.status_code == 200
    assert found.json()["name"] == "911"


def test_a_body_that_is_not_json_is_a_422_problem(as_responder):
    response = as_responder.post(
        SERVICES, content=b'{"name": "Checkout",', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert fields(response) == ["body"]
    assert "not valid JSON" in response.json()["detail"]


def test_a_field_of_the_wrong_type_is_named(as_responder):
    response = as_responder.post(SERVICES, json={"name": ["Checkout"], "tier": "high"})

    assert response.status_code == 422
    assert sorted(fields(response)) == ["name", "tier"]
    assert "tier" in response.json()["detail"]


def test_a_missing_name_is_named(as_responder):
    response = as_responder.post(SERVICES, json={})
    assert response.status_code == 422
    assert fields(response) == ["name"]


@pytest.mark.parametrize("ref", ["99999999999999999999", "2147483648", "²", "0"])
def test_an_absurd_id_is_simply_not_found(as_responder, ref):
    response = as_responder.get(f"{SERVICES}/{ref}")
    assert response.status_code == 404
    assert as_responder.patch(f"{SERVICES}/{ref}", json={"tier": 1}).status_code == 404


def test_an_owner_team_named_by_an_absurd_id_is_refused_by_name(as_responder):
    response = as_responder.post(
        SERVICES, json={"name": "Checkout", "owner_team": "99999999999999999999"}
    )
    assert response.status_code == 422
    assert fields(response) == ["owner_team"]


def test_a_nul_character_is_never_a_server_error(as_responder):
    created = as_responder.post(SERVICES, json={"name": "Check\u0000out"})
    found = as_responder.get(f"{SERVICES}/check%00out")
    owned = as_responder.post(SERVICES, json={"name": "Search", "owner_team": "pay\u0000"})

    # SQLite stores the character; PostgreSQL cannot, and says so as a 422 problem.
    assert created.status_code in {201, 422}
    assert found.status_code in {404, 422}
    assert owned.status_code == 422
    for response in (found, owned):
        assert response.headers["content-type"].startswith("application/problem+json")


def test_a_long_name_gets_a_slug_that_fits(as_responder):
    name = "The " + "very " * 35 + "long service"  # about 190 characters; slugs hold 100

    created = as_responder.post(SERVICES, json={"name": name})

    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    assert len(slug) <= 100
    assert slug.startswith("the-very-very")
    assert not slug.endswith("-")
    assert as_responder.get(f"{SERVICES}/{slug}").json()["name"] == name


def test_a_runbook_link_longer_than_the_catalog_keeps_is_refused_by_name(as_responder):
    url = "https://runbooks.example.com/" + "x" * 2000

    response = as_responder.post(SERVICES, json={"name": "Checkout", "runbook_url": url})

    assert response.status_code == 422
    assert fields(response) == ["runbook_url"]
