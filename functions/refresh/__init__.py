"""Reference refresh: the nightly fan-out (EventBridge schedule) and the per-file worker (SQS)."""
