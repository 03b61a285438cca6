"""The API function's logger, tracer and metrics: one of each, shared by its routers."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer(patch_modules=("botocore", "httpx"))  # what the API calls: AWS and MyUnisoft
metrics = Metrics()
