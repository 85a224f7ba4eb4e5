"""Response: what an incident owes while it runs and after it ends (the response clocks)."""
