"""Incidents: lifecycle rules and severity guidance."""
