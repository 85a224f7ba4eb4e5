"""Where monitoring tools send alerts: PagerDuty Events API v2, Alertmanager, Grafana, any JSON."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["ingest"])
