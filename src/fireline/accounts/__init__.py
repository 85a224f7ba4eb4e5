"""Users, teams, roles and permissions, API tokens and web sessions."""
