"""State adapters: DynamoDB repositories, S3 snapshots, Secrets Manager keys, the SQS refresh queue
and the shared per-key MyUnisoft request budget. Records and ports are in ``records``/``ports``."""
