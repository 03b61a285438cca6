"""Invoke a Lambda handler once, in its own process, with an event read from a file.

    python -m tests.support.invoke_handler upload.app.lambda_handler EVENT.json [--start-at EPOCH]

``--start-at`` waits until that wall-clock time before invoking, so several processes started
together hit the handler at the same moment (duplicate deliveries racing). The handler's answer
is printed as JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from local.sqs import PollerContext, load_handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("handler")
    parser.add_argument("event", type=Path)
    parser.add_argument("--start-at", type=float, default=0.0)
    args = parser.parse_args(argv)
    handler = load_handler(args.handler)
    event = json.loads(args.event.read_text(encoding="utf-8"))
    delay = args.start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    print(json.dumps(handler(event, PollerContext())), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
