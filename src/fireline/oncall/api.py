"""JSON routes for on-call: schedules, layers, overrides, who is on call, escalation policies."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["on-call"])
