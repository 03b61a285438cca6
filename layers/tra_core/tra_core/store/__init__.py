"""The bridge's state (docs/architecture.md §5).

Records and ports, free of any adapter: ``base`` (the record base), ``records`` (connections, client
files, snapshots, refresh requests), ``entries``, ``batches``, ``attachments`` (document keys),
``errors`` and ``ports``. Adapters: ``dynamodb`` (connections, files), ``dynamodb_entries``,
``dynamodb_batches``, ``s3_objects`` (documents and archives), ``snapshots``, ``secrets``, ``queues``
(SQS) and ``ratebudget`` (the shared per-key MyUnisoft request budget).
"""
