"""Notifications: what to say, to whom, over which transport, and the log of every delivery."""
