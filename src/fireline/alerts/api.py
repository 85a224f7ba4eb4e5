"""JSON routes for alerts: the alert list, acknowledge and resolve, integrations and routing."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["alerts"])
