"""Durable jobs: enqueued in the transaction of the change that causes them, run by workers."""
