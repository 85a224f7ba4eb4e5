"""On-call: rotations and schedules, overrides, escalation policies, paging, calendar feeds."""
