"""Puts the web application on the FastAPI app: static files, pages, HTML errors."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from fireline.accounts import views as accounts_views
from fireline.alerts import link_views as alert_link_views
from fireline.alerts import maintenance_views as alert_maintenance_views
from fireline.alerts import rule_views as alert_rule_views
from fireline.alerts import settings_views as alert_settings_views
from fireline.alerts import views as alert_views
from fireline.audit import views as audit_views
from fireline.catalog import views as catalog_views
from fireline.comms import audience_views as comms_audience_views
from fireline.comms import component_views as comms_component_views
from fireline.comms import incident_action_views as comms_incident_action_views
from fireline.comms import incident_views as comms_incident_views
from fireline.comms import maintenance_views as comms_maintenance_views
from fireline.comms import subscriber_admin_views as comms_subscriber_admin_views
from fireline.comms import template_views as comms_template_views
from fireline.comms import views as comms_views
from fireline.incidents import (
    action_views,
    declare_views,
    list_views,
    severity_views,
    timeline_views,
)
from fireline.incidents import views as incident_views
from fireline.jobs import views as jobs_views
from fireline.notify import views as notify_views
from fireline.oncall import delete_views as oncall_delete_views
from fireline.oncall import layer_views as oncall_layer_views
from fireline.oncall import policy_views as oncall_policy_views
from fireline.oncall import schedule_views as oncall_schedule_views
from fireline.oncall import views as oncall_views
from fireline.response import settings_views as response_views
from fireline.web import auth, dashboard, live, settings_views

STATIC = Path(__file__).parent / "static"
# Each domain's pages, in the order their routes are matched.
ROUTERS = [
    auth.router,
    declare_views.router,  # GET /incidents/new before any GET /incidents/{ref}
    list_views.router,
    *(incident_views.router, action_views.router, timeline_views.router, live.router),
    *(comms_incident_views.router, comms_incident_action_views.router),  # the page's comms
    catalog_views.router,
    audit_views.router,
    dashboard.router,
    settings_views.router,
    severity_views.router,
    notify_views.router,
    jobs_views.router,
    response_views.router,
    accounts_views.router,
    alert_link_views.router,
    *(alert_views.router, alert_settings_views.router, alert_rule_views.router),
    alert_maintenance_views.router,
    *(oncall_views.router, oncall_schedule_views.router, oncall_layer_views.router),
    oncall_delete_views.router,  # asks before removing schedules, policies, layers, overrides
    oncall_policy_views.router,  # GET /oncall/policies/new before /oncall/policies/{id}
    comms_views.router,  # status pages: the list, each page's settings and components
    *(comms_component_views.router, comms_maintenance_views.router),
    *(comms_subscriber_admin_views.router, comms_template_views.router),
    comms_audience_views.router,
]


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router)
