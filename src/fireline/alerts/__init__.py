"""Alerts: integrations, parsers of monitoring webhooks, dedup, routing and maintenance."""
