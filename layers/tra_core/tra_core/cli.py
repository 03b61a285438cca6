"""The ``tra`` command (docs/architecture.md §3.3): format, archive, lint and parse TRA journal files.

Exit codes: 0 success; 1 ``lint`` found problems; 2 the input is unusable (every problem on
stderr, naming the entry, the line and the field; no output file is written). Warnings go to
stderr prefixed ``warning:`` and do not change the exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from tra_core.domain.entry import Entry, decode_json, parse_entries
from tra_core.domain.errors import EntryProblem, Notice, TraError
from tra_core.tra.archive import build_archive
from tra_core.tra.linter import lint_tra
from tra_core.tra.reader import read_tra
from tra_core.tra.writer import RenderedTra, TraOptions, check_batch_tag, render_tra

EXIT_OK, EXIT_LINT, EXIT_INPUT = 0, 1, 2


class _InputError(Exception):
    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages


def _load_entries(path: Path) -> list[Entry]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _InputError([f"{path}: cannot read the file ({exc.strerror})"]) from None
    try:
        raw = decode_json(data)
    except (ValueError, RecursionError) as exc:
        raise _InputError([f"{path}: not valid JSON ({exc})"]) from None
    entries, problems = parse_entries(raw)
    if problems:
        raise _InputError([_describe_problem(p) for p in problems])
    return entries


def _describe_problem(problem: EntryProblem) -> str:
    return f"error: {problem.location()}: {problem.code} {problem.message}"


def _describe_notice(notice: Notice) -> str:
    return f"warning: {notice.location()}: {notice.code} {notice.message}"


def _render(args: argparse.Namespace, entries: list[Entry]) -> RenderedTra:
    options = TraOptions(format=args.format, encoding=args.encoding, batch_tag=args.batch_tag)
    return render_tra(entries, options)


def _batch_tag(text: str) -> str:
    try:
        return check_batch_tag(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` so that a failure never leaves a partial file behind."""
    directory = target.parent if str(target.parent) else Path(".")
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _resolve_attachment(entries_file: Path, given: str) -> Path:
    """Attachment paths are relative to the entries file's folder, else to the current folder."""
    candidate = Path(given)
    if candidate.is_absolute():
        return candidate
    beside = entries_file.parent / candidate
    return beside if beside.exists() else candidate


def _cmd_format(args: argparse.Namespace, err: TextIO) -> int:
    entries = _load_entries(Path(args.entries))
    rendered = _render(args, entries)
    for notice in rendered.notices:
        print(_describe_notice(notice), file=err)
    if args.output:
        _write_atomically(Path(args.output), rendered.data)
    else:
        sys.stdout.buffer.write(rendered.data)
        sys.stdout.buffer.flush()
    return EXIT_OK


def _cmd_archive(args: argparse.Namespace, err: TextIO) -> int:
    entries_file = Path(args.entries)
    entries = _load_entries(entries_file)
    rendered = _render(args, entries)
    documents: list[tuple[str, bytes]] = []
    problems: list[str] = []
    for entry, names in zip(entries, rendered.attachment_names, strict=True):
        for number, (attachment, name) in enumerate(zip(entry.attachments, names, strict=True), 1):
            where = f"error: entry {entry.entry_id}, field attachments[{number}].path"
            if attachment.path is None:
                problems.append(f"{where}: ATTACHMENT_SOURCE the command reads local files only")
                continue
            path = _resolve_attachment(entries_file, attachment.path)
            try:
                documents.append((name, path.read_bytes()))
            except OSError as exc:
                problems.append(f"{where}: ATTACHMENT_MISSING cannot read {path} ({exc.strerror})")
    if problems:
        raise _InputError(problems)
    try:
        archive = build_archive(rendered.data, documents, tra_name=TraOptions().tra_name)
    except TraError as exc:
        raise _InputError([f"error: {exc.code} {exc.message}"]) from None
    for notice in rendered.notices:
        print(_describe_notice(notice), file=err)
    _write_atomically(Path(args.output), archive)
    return EXIT_OK


def _read_tra_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _InputError([f"{path}: cannot read the file ({exc.strerror})"]) from None


def _cmd_lint(args: argparse.Namespace, err: TextIO) -> int:
    problems = lint_tra(_read_tra_file(Path(args.file)))
    for problem in problems:
        print(str(problem))
    return EXIT_LINT if problems else EXIT_OK


def _cmd_parse(args: argparse.Namespace, err: TextIO) -> int:
    tra = read_tra(_read_tra_file(Path(args.file)))
    json.dump(tra.as_dict(), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``tra`` command."""
    parser = _Parser(prog="tra", description="Write, check and read Cegid TRA journal files for MyUnisoft.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add_render_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("entries", help="JSON file holding one entry or a list of entries")
        sub.add_argument("--format", choices=["STD", "ETE"], default="STD", help="TRA format (default STD)")
        sub.add_argument(
            "--encoding", choices=["cp1252", "utf-8"], default="cp1252", help="file encoding (default cp1252)"
        )
        sub.add_argument(
            "--batch-tag",
            type=_batch_tag,
            help="an upload batch's id, written in the header's user field as the upload worker does",
        )

    fmt = commands.add_parser("format", help="render entries as a TRA file")
    add_render_options(fmt)
    fmt.add_argument("-o", "--output", help="output .tra file (default: standard output)")
    fmt.set_defaults(run=_cmd_format)

    archive = commands.add_parser("archive", help="build the TRA+PJ zip: the .TRA and the documents")
    add_render_options(archive)
    archive.add_argument("-o", "--output", required=True, help="output .zip file")
    archive.set_defaults(run=_cmd_archive)

    lint = commands.add_parser("lint", help="check a TRA file; one LINE:COL: CODE message per problem")
    lint.add_argument("file")
    lint.set_defaults(run=_cmd_lint)

    parse = commands.add_parser("parse", help="print a TRA file as JSON")
    parse.add_argument("file")
    parse.set_defaults(run=_cmd_parse)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tra`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args, sys.stderr)
    except _InputError as exc:
        for message in exc.messages:
            print(message, file=sys.stderr)
        return EXIT_INPUT
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
