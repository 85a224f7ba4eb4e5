"""Parsers turning monitoring webhooks (PagerDuty, Alertmanager, Grafana, any JSON) into events.

Each is pure: a decoded JSON body in, normalised events out, or `InvalidEvent` naming every problem.
"""
