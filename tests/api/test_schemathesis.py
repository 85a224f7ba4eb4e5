"""Property-based fuzzing of the whole JSON API from its own OpenAPI document (schemathesis):
no input, however odd, gets a 5xx or a response that breaks the documented schema."""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

# `make test` runs the suite twice (SQLite, PostgreSQL); each pass fuzzes for at most this long.
BUDGET_SECONDS = 75
EXAMPLES_PER_OPERATION = 20
SKIPPED = {("POST", "/api/v1/auth/logout")}  # would end the session the fuzzer signs in with


@pytest.mark.slow
def test_no_request_gets_a_server_error_or_breaks_the_schema(app, as_admin):
    incident = as_admin.post("/api/v1/incidents", json={"title": "Fuzz target", "severity": "SEV2"})
    assert incident.status_code == 201
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    headers = as_admin.person.headers
    deadline = time.monotonic() + BUDGET_SECONDS
    checks = [
        not_a_server_error,
        response_schema_conformance,
        content_type_conformance,
        status_code_conformance,
        negative_data_rejection,
    ]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 25
    fuzzed = 0
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIPPED or time.monotonic() > deadline:
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=checks)

        fuzz()
        fuzzed += 1
    assert fuzzed > 20
