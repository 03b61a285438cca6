"""``bridge``: run the bridge on this machine.

    bridge stack [--api-port 3000] [--emulator-port 8089] [--parameter Name=Value]... [--env NAME=VALUE]...
                 [--default-concurrency 4] [--concurrency Function=N]...
    bridge schedule [NAME] [--api URL]     # fire a schedule of the running stack now (default: the only one)
    bridge demo [--api-port PORT] [--emulator-port PORT]    # the whole story against a fresh stack

``bridge stack`` prints ``READY api=... emulator=...`` when it takes requests (docs/architecture.md §7) and
stops everything it started on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from local.stack import (
    DEFAULT_API_PORT,
    DEFAULT_EMULATOR_PORT,
    DEFAULT_LOCAL_CONCURRENCY,
    DEFAULT_STACK_NAME,
    StackOptions,
    run,
)


def _pairs(values: Sequence[str], what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise SystemExit(f"bridge: {what} must look like NAME=VALUE, not {value!r}")
        pairs[name] = rest
    return pairs


def _counts(pairs: dict[str, str]) -> dict[str, int]:
    try:
        counts = {name: int(value) for name, value in pairs.items()}
    except ValueError:
        raise SystemExit(f"bridge: --concurrency must look like FUNCTION=N, not {pairs}") from None
    if any(count < 1 for count in counts.values()):
        raise SystemExit("bridge: --concurrency takes at least 1 sandbox")
    return counts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bridge", description="Run myunisoft-bridge on this machine.")
    commands = parser.add_subparsers(dest="command", required=True)

    stack = commands.add_parser(
        "stack",
        help="run the local stack in the foreground",
        description="Start moto, DynamoDB Local, the MyUnisoft emulator, the functions of template.yaml, "
        "the HTTP front and the SQS pollers; stop everything on Ctrl-C or SIGTERM.",
    )
    stack.add_argument("--api-port", type=int, default=DEFAULT_API_PORT, help="HTTP API port (0: any free)")
    stack.add_argument(
        "--emulator-port", type=int, default=DEFAULT_EMULATOR_PORT, help="emulator port (0: any free)"
    )
    stack.add_argument("--stack-name", default=DEFAULT_STACK_NAME, help="prefix of the local resource names")
    stack.add_argument(
        "--template", type=Path, help="template file (default: the repository's template.yaml)"
    )
    stack.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="template parameter override, e.g. RateLimitRequests=100 (repeatable)",
    )
    stack.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment variable for every function (repeatable)",
    )
    stack.add_argument(
        "--retry-delay",
        type=int,
        metavar="SECONDS",
        help="a failed SQS message comes back after this long instead of the queue's visibility timeout",
    )
    stack.add_argument(
        "--default-concurrency",
        type=int,
        default=DEFAULT_LOCAL_CONCURRENCY,
        metavar="N",
        help="sandboxes of the API function, pollers of an SQS mapping without MaximumConcurrency "
        f"(what the template leaves unbounded; default {DEFAULT_LOCAL_CONCURRENCY})",
    )
    stack.add_argument(
        "--concurrency",
        action="append",
        default=[],
        metavar="FUNCTION=N",
        help="most sandboxes of one function, instead of what the template allows (repeatable)",
    )
    stack.add_argument(
        "--emulator-arg", action="append", default=[], metavar="ARG", help="extra myunisoft-emulator argument"
    )
    stack.add_argument("--log-dir", type=Path, help="where the functions' logs go (default: a temp folder)")
    stack.add_argument("-v", "--verbose", action="store_true", help="echo the functions' logs here too")

    schedule = commands.add_parser("schedule", help="fire a schedule of the running stack now")
    schedule.add_argument(
        "name", nargs="?", default="", help="the schedule's event name (default: the only one)"
    )
    schedule.add_argument("--api", default=f"http://127.0.0.1:{DEFAULT_API_PORT}", help="the stack's API URL")

    demo = commands.add_parser("demo", help="start a stack and run the whole story against it")
    demo.add_argument(
        "--api-port", type=int, default=0, help="HTTP API port of the demo's stack (0: any free)"
    )
    demo.add_argument("--emulator-port", type=int, default=0, help="emulator port (0: any free)")
    demo.add_argument("--keep-logs", action="store_true", help="print where the stack's logs are kept")
    return parser


def _schedule(api: str, name: str) -> int:
    if not name:
        try:
            with urllib.request.urlopen(f"{api}/_local/stack", timeout=10) as response:
                schedules = json.load(response)["schedules"]
        except (urllib.error.URLError, OSError) as exc:
            print(f"bridge: no stack answers at {api}: {exc}", file=sys.stderr)
            return 1
        if len(schedules) != 1:
            print(f"bridge: name one schedule of {schedules}", file=sys.stderr)
            return 2
        name = schedules[0]
    request = urllib.request.Request(f"{api}/_local/schedules/{name}", data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=330) as response:
            print(json.dumps(json.load(response), indent=2))
            return 0
    except urllib.error.HTTPError as exc:
        print(f"bridge: {exc.code} {exc.read().decode('utf-8', 'replace')}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"bridge: no stack answers at {api}: {exc}", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "stack":
        if args.default_concurrency < 1:
            raise SystemExit("bridge: --default-concurrency takes at least 1")
        options = StackOptions(
            api_port=args.api_port,
            emulator_port=args.emulator_port,
            stack_name=args.stack_name,
            parameters=_pairs(args.parameter, "--parameter"),
            environment=_pairs(args.env, "--env"),
            retry_delay_s=args.retry_delay,
            emulator_arguments=list(args.emulator_arg),
            default_concurrency=args.default_concurrency,
            concurrency=_counts(_pairs(args.concurrency, "--concurrency")),
            log_dir=args.log_dir,
            verbose=args.verbose,
        )
        if args.template is not None:
            options.template_path = args.template.resolve()
        return run(options)
    if args.command == "schedule":
        return _schedule(args.api.rstrip("/"), args.name)
    from local.demo import main as demo_main

    return demo_main(api_port=args.api_port, emulator_port=args.emulator_port, keep_logs=args.keep_logs)


if __name__ == "__main__":
    sys.exit(main())
