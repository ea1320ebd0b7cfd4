"""Local fake servers for external systems, used by adapter tests."""
