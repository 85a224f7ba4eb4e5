"""Communications: status pages, public incidents and updates, maintenance, subscribers, feeds,
stakeholder updates and support macros (issue 6)."""
