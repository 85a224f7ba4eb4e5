"""Typed domain errors carrying their HTTP status; one handler renders them as problem+json."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one input field: its dotted name and the reason in words."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class AppError(Exception):
    """Base of every error a user can cause. `detail` is the human sentence shown to them."""

    detail: str
    errors: list[FieldProblem] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    slug: ClassVar[str] = "bad-request"

    def __str__(self) -> str:
        return self.detail

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [problem.as_dict() for problem in self.errors]
        body.update(self.extra)
        return body


class InvalidInput(AppError):
    status = 422
    title = "Invalid input"
    slug = "invalid-input"

    @classmethod
    def on(cls, field_name: str, message: str) -> InvalidInput:
        return cls(detail=f"{field_name}: {message}", errors=[FieldProblem(field_name, message)])


class NotAuthenticated(AppError):
    status = 401
    title = "Authentication required"
    slug = "not-authenticated"


class Forbidden(AppError):
    status = 403
    title = "Not allowed"
    slug = "forbidden"


class NotFound(AppError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(AppError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class IllegalTransition(Conflict):
    title = "Status change not allowed"
    slug = "illegal-transition"


class JobNotRetryable(Conflict):
    title = "Only a dead job can be retried"
    slug = "job-not-retryable"


class TimestampOrder(AppError):
    status = 422
    title = "Timestamps out of order"
    slug = "timestamp-order"


class ResolutionBlocked(Conflict):
    title = "The incident cannot be resolved yet"
    slug = "resolution-blocked"


class IdempotencyMismatch(AppError):
    status = 422
    title = "Idempotency-Key reused with a different request"
    slug = "idempotency-key-reused"


class PayloadTooLarge(AppError):
    status = 413
    title = "Request body too large"
    slug = "payload-too-large"


class ServiceUnavailable(AppError):
    status = 503
    title = "Service unavailable"
    slug = "unavailable"


class InternalError(AppError):
    status = 500
    title = "Internal error"
    slug = "internal"
