"""Fireline: self-hostable incident management."""

__version__ = "0.1.0"
