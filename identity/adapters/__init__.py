"""Adapters for external systems (生产适配器)."""
