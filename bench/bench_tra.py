"""Benchmark of the TRA codec: 100,000 movement lines formatted and parsed, on one core.

The writer is measured from validated entries to encoded bytes, next to a bare ``%``-format
baseline of the same 222-column layout (pre-built string tuples, joined and cp1252-encoded)
measured in the same run. The reader is measured from bytes to trimmed line records, and again
including the typed views (dates and amounts). Best of several rounds; figures go to
``docs/benchmarks.md``.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from tra_core.domain.entry import Entry, parse_entries
from tra_core.tra.reader import read_tra
from tra_core.tra.writer import render_tra

LINES = 100_000
LINES_PER_ENTRY = 4
ROUNDS = 5
BASELINE_FORMAT = (
    "%-3s%-8s%-2s%-17s%-1s%-17s%-35s%-35s%-3s%-8s%-1s%20s%-1s%8s%-3s%-10s%-3s%-20s%-20s%-3s%-2s%-2s"
)


def build_entries(count: int, accent: str = "é") -> list[Entry]:
    """``count`` purchase entries of 4 lines each, with realistic labels and amounts.

    ``accent`` goes into every entry label: French labels carry accents, which makes every line
    non-ASCII (slower to slice in CPython); ``""`` gives an all-ASCII file for comparison.
    """
    raw = []
    start = date(2026, 1, 1)
    for index in range(count):
        net = Decimal(1000 + index % 9000).scaleb(-2)
        vat = (net * Decimal("0.2")).quantize(Decimal("0.01"))
        raw.append(
            {
                "entry_id": f"e-{index}",
                "kind": "purchase",
                "journal": "ACH",
                "date": (start + timedelta(days=index % 365)).isoformat(),
                "due_date": (start + timedelta(days=30 + index % 365)).isoformat(),
                "reference": f"F2026-{index:06d}",
                "label": f"Fournisseur {index % 500} facture {accent}{index % 97}",
                "lines": [
                    {"account": "401000", "subsidiary": f"F{index % 500:04d}", "credit": str(net + vat + 1)},
                    {"account": "606100", "debit": str(net)},
                    {"account": "445660", "debit": str(vat)},
                    {"account": "627000", "debit": "1.00", "label": "Frais bancaires"},
                ],
            }
        )
    entries, problems = parse_entries(raw)
    assert not problems, problems[:3]
    return entries


def baseline_rows(entries: list[Entry]) -> list[tuple[str, ...]]:
    """The same field values as plain strings, ready for one ``%`` per line."""
    rows = []
    for piece, entry in enumerate(entries, start=1):
        day = entry.date.strftime("%d%m%Y")
        due = entry.due_date.strftime("%d%m%Y") if entry.due_date else "01011900"
        for line in entry.lines:
            amount = str(line.debit or line.credit).replace(".", ",")
            rows.append(
                (
                    "ACH",
                    day,
                    "FF",
                    line.account,
                    "",
                    "",
                    entry.reference or "",
                    line.label or entry.label or "",
                    "",
                    due,
                    "D" if line.debit else "C",
                    amount,
                    "N",
                    str(piece),
                    "",
                    "",
                    "E--",
                    "",
                    "",
                    "",
                    "",
                    "",
                )
            )
    return rows


def cpu_model() -> str:
    """The processor's name, from /proc/cpuinfo where there is one."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for row in info:
                if row.startswith("model name"):
                    return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def best_of(rounds: int, func: Callable[[], object]) -> float:
    """The fastest of ``rounds`` timed runs, in seconds."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    """Run the benchmark and print lines per second."""
    entries = build_entries(LINES // LINES_PER_ENTRY)
    rows = baseline_rows(entries)

    def baseline() -> bytes:
        return ("\r\n".join([BASELINE_FORMAT % row for row in rows]) + "\r\n").encode("cp1252")

    def baseline_latin1() -> bytes:
        # The same, with the latin-1 shortcut the writer uses for the final encoding.
        return ("\r\n".join([BASELINE_FORMAT % row for row in rows]) + "\r\n").encode("latin-1")

    def writer() -> bytes:
        return render_tra(entries).data

    data = writer()

    def reader() -> int:
        return len(read_tra(data).lines)

    def reader_typed() -> int:
        count = 0
        for line in read_tra(data).lines:
            if line.accounting_date is not None and line.amount is not None:
                count += 1
        return count

    assert reader() == LINES and reader_typed() == LINES
    baseline_s = best_of(ROUNDS, baseline)
    baseline_latin1_s = best_of(ROUNDS, baseline_latin1)
    writer_s = best_of(ROUNDS, writer)
    reader_s = best_of(ROUNDS, reader)
    typed_s = best_of(ROUNDS, reader_typed)
    python = sys.version.split()[0]
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()}, Python {python}")
    entries_count = LINES // LINES_PER_ENTRY
    print(f"lines: {LINES:,} ({entries_count:,} entries of {LINES_PER_ENTRY} lines), best of {ROUNDS}")
    print(f"baseline %-format + cp1252 encode : {LINES / baseline_s:>12,.0f} lines/s")
    print(f"baseline, latin-1 shortcut        : {LINES / baseline_latin1_s:>12,.0f} lines/s")
    print(
        f"writer (entries -> bytes)         : {LINES / writer_s:>12,.0f} lines/s "
        f"({baseline_s / writer_s:.0%} of the cp1252 baseline, goal >= 50%; "
        f"{baseline_latin1_s / writer_s:.0%} of the latin-1 one)"
    )
    print(f"reader (bytes -> records)         : {LINES / reader_s:>12,.0f} lines/s (goal >= 300,000)")
    print(f"reader + typed dates and amounts  : {LINES / typed_s:>12,.0f} lines/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
