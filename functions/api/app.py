"""The HTTP API's Lambda handler: thin, so the container's init stays at the libraries' floor.

The resolver, its routes and their models (``api.resolver``) are built on the first invocation, not
at import: registering every route imports every request and response model, the use cases and
Powertools' event handler, which cost the API's cold start twice the floor (docs/benchmarks.md,
"Cold start"). Warm invocations reuse the resolver built by the first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from api.telemetry import logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = ["lambda_handler", "logger"]


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from api.resolver import app, refused_at_the_edge

    return refused_at_the_edge(event) or app.resolve(event, context)
