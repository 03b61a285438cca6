"""Reusable test support: in-memory fakes, sample events, local services and resources as fixtures."""
