"""Webhooks to the hub: which URLs may be called, how deliveries are signed and sent.

See docs/architecture.md §9.
"""
