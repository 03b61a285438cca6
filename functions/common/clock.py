"""The one clock every function reads: timezone-aware UTC (use cases receive it as a port)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)
