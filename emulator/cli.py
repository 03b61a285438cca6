"""``myunisoft-emulator``: serve the MyUnisoft emulator (``docs/architecture.md`` §3.5)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from emulator.app import create_app
from emulator.server import make_emulator_server


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="myunisoft-emulator",
        description="A local MyUnisoft partner API emulator, with test-control routes under /_emulator/.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8089, help="port (default 8089; 0 picks a free one)")
    parser.add_argument(
        "--fixtures", help="a JSON fixture file (see emulator/fixtures.py); default: demo data"
    )
    parser.add_argument(
        "--dossiers", type=int, default=0, help="add this many generated dossiers to the demo firm"
    )
    parser.add_argument("--rate-limit", type=int, help="requests per window and key (default 20)")
    parser.add_argument("--rate-window", type=float, help="window length in seconds (default 10)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    try:
        app = create_app(
            args.fixtures,
            extra_dossiers=args.dossiers,
            rate_limit=args.rate_limit,
            rate_window_s=args.rate_window,
        )
    except (OSError, ValueError, KeyError) as exc:
        print(f"myunisoft-emulator: cannot load the fixtures: {exc}", file=sys.stderr)
        return 2
    server = make_emulator_server(app, args.host, args.port)
    print(f"myunisoft-emulator listening on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
