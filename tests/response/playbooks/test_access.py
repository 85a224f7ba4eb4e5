"""The playbook routes refuse strangers, and their writes refuse viewers (as tests/api/test_access
checks for every route; these placeholders fill the path parameters those routes add)."""

from __future__ import annotations

import re

PLACEHOLDERS = {"ref": "INC-1", "slug": "major-incident", "task_id": "1"}
OURS = re.compile(r"^/api/v1/(playbooks|incidents/\{ref\}/(tasks|playbooks))")


def operations(app):
    for path, methods in app.openapi()["paths"].items():
        if OURS.match(path):
            for method in methods:
                yield method.upper(), re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS[m[1]], path)


def test_every_playbook_route_needs_authentication(app, client):
    checked = list(operations(app))
    assert len(checked) == 10
    for method, path in checked:
        response = client.request(method, path, json={})
        assert response.status_code == 401, f"{method} {path} answered {response.status_code}"
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_viewer_may_read_but_every_playbook_write_is_forbidden(app, as_viewer):
    for method, path in operations(app):
        response = as_viewer._call(method, path, json={})
        # Reads are allowed (there is no INC-1 yet, hence a 404); writes are not.
        expected = 403 if method != "GET" else 404 if "INC-1" in path else 200
        assert response.status_code == expected, f"{method} {path} answered {response.text}"
        if expected == 403:
            assert "permission" in response.json()["detail"]
