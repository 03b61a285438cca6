"""The TRA linter: one LINE:COL: CODE message per problem, never an exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from tra_core.tra.linter import lint_tra

GOLDEN = Path(__file__).parents[2] / "golden" / "tra_format_worked_example.tra"
LINES = GOLDEN.read_bytes().decode("cp1252").split("\r\n")[:-1]


def _with(index: int, start: int, value: str, lines: list[str] | None = None) -> bytes:
    """The golden file with ``value`` written at 0-based ``start`` of line ``index``."""
    lines = list(lines or LINES)
    line = lines[index].ljust(start + len(value))
    lines[index] = line[:start] + value + line[start + len(value) :]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def _codes(data: bytes) -> set[tuple[int, int, str]]:
    return {(p.line, p.column, p.code) for p in lint_tra(data)}


def test_the_worked_example_is_clean():
    assert lint_tra(GOLDEN.read_bytes()) == []


@pytest.mark.parametrize(
    ("line", "start", "value", "expected"),
    [
        (1, 3, "32032025", (2, 4, "DATE_INVALID")),
        (1, 11, "ZZ", (2, 12, "PIECE_TYPE_INVALID")),
        (1, 30, "Q", (2, 31, "ACCOUNT_TYPE_INVALID")),
        (1, 31, " " * 17, (2, 32, "AUXILIARY_MISSING")),
        (1, 13, "606100".ljust(17), (2, 14, "COLLECTIVE_INVALID")),
        (1, 31, "EDF".ljust(17), (2, 32, "SUBSIDIARY_PREFIX")),
        (2, 13, "401000".ljust(17), (3, 31, "SUBSIDIARY_AS_GENERAL")),
        (1, 121, "99999999", (2, 122, "DATE_INVALID")),
        (1, 129, "Z", (2, 130, "DIRECTION_INVALID")),
        (1, 130, "120.00".rjust(20), (2, 131, "AMOUNT_INVALID")),
        (1, 130, "120,00".ljust(20), (2, 131, "AMOUNT_INVALID")),
        (1, 130, "-120,00".rjust(20), (2, 131, "AMOUNT_INVALID")),
        (1, 150, "Z", (2, 151, "ENTRY_TYPE_INVALID")),
        (1, 151, "       A", (2, 152, "PIECE_NUMBER_INVALID")),
        (1, 172, "XYZ", (2, 173, "AMOUNT_CODE_INVALID")),
        (1, 172, "D--", (2, 160, "CURRENCY_MISSING")),
        (1, 0, "   ", (2, 1, "JOURNAL_MISSING")),
        (1, 13, " " * 17, (2, 14, "ACCOUNT_MISSING")),
        (2, 130, "101,00".rjust(20), (2, 1, "UNBALANCED")),
        (2, 151, "       2", (2, 1, "UNBALANCED")),
        (1, 222, "extra", (2, 223, "LINE_TOO_LONG")),
        (4, 83, " " * 20, (5, 84, "DOCUMENT_MISSING")),
        (4, 11, "AF", (5, 1, "DOCUMENT_ORPHAN")),
        (0, 8, "BAL", (1, 9, "HEADER_TYPE")),
        (0, 11, "XXX", (1, 12, "HEADER_FORMAT")),
        (0, 33, "0A1", (1, 34, "HEADER_VERSION")),
        (1, 90, "\t", (2, 91, "CONTROL_CHARACTER")),
    ],
)
def test_each_problem_is_reported_at_its_line_and_column(line, start, value, expected):
    # Given the clean worked example with one field spoiled
    data = _with(line, start, value)
    # When it is linted
    found = _codes(data)
    # Then the problem is reported where it is
    assert expected in found, found


def test_problems_print_as_line_colon_column_code_message():
    (problem,) = lint_tra(_with(1, 129, "Z"))
    assert str(problem) == "2:130: DIRECTION_INVALID direction 'Z' must be D or C"


def test_file_order_header_first_and_parameters_before_movements():
    assert (1, 1, "HEADER_MISSING") in _codes(("\r\n".join(LINES[1:]) + "\r\n").encode())
    with_late_record = [*LINES[:2], "***JALACHAchats", *LINES[2:]]
    assert (3, 1, "ORDER") in _codes(("\r\n".join(with_late_record) + "\r\n").encode())


def test_piece_numbers_are_all_or_nothing():
    assert (3, 152, "PIECE_NUMBER_MIXED") in _codes(_with(2, 151, " " * 8))


def test_without_piece_numbers_pieces_balance_by_reference():
    lines = [
        line[:151] + " " * 8 + line[159:] if line[30] != "G" and not line.startswith("***") else line
        for line in LINES
    ]
    assert lint_tra(("\r\n".join(lines)).encode()) == []
    assert (2, 1, "UNBALANCED") in _codes(_with(3, 48, "OTHER".ljust(35), lines))


def test_an_ete_file_needs_its_extended_fields():
    assert (2, 223, "ETE_FIELDS_MISSING") in _codes(_with(0, 11, "ETE"))


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b"\xff\xfe\x00\x81\x8d", b"***"])
def test_empty_or_garbage_files_are_reported_not_raised(data):
    assert lint_tra(data)
