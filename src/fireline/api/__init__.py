"""Plumbing shared by every JSON route: dependencies, problem+json, pagination, idempotency."""
