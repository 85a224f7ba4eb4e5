"""Playbooks: checklists attached to incidents by conditions, their tasks tracked to done."""
