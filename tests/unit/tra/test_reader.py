"""The TRA reader (docs/architecture.md §3.3): trimmed fields, CRLF or LF, cp1252 or UTF-8, short lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from tra_core.tra.reader import parse_tra_amount, parse_tra_date, read_tra

GOLDEN = Path(__file__).parents[2] / "golden" / "tra_format_worked_example.tra"


def test_the_worked_example_reads_back_field_by_field():
    # Given the worked example of tra-format.md §6
    tra = read_tra(GOLDEN.read_bytes())
    # Then the header and every line come back trimmed and typed
    assert tra.encoding == "utf-8"  # pure ASCII decodes as UTF-8 too
    assert tra.header is not None
    assert (tra.header.file_type, tra.header.format, tra.header.version, tra.header.sub_version) == (
        "JRL",
        "STD",
        "011",
        "001",
    )
    assert tra.header.user == "EXPORT"
    x_line, first, second, document = tra.lines
    assert x_line.as_dict() == {
        "journal": "ACH",
        "date": "2025-03-15",
        "piece_type": "FF",
        "general": "401000",
        "account_type": "X",
        "auxiliary": "401EDF",
        "reference": "FA-2025-0042",
        "label": "EDF FACTURE MARS 2025",
        "payment_mode": "",
        "due_date": "2025-04-14",
        "direction": "C",
        "amount": "120.00",
        "entry_type": "N",
        "piece_number": "1",
        "currency": "",
        "amount_code": "E--",
        "document": "",
    }
    assert first.due is None and first.amount == Decimal("100.00")
    assert second.amount == Decimal("20.00")
    assert document.as_dict()["document"] == "FA-2025-0042.pdf"
    assert document.as_dict()["direction"] == "" and document.as_dict()["amount"] == ""


def test_lf_line_ends_and_a_missing_final_newline_read_the_same():
    crlf = GOLDEN.read_bytes()
    lf = crlf.replace(b"\r\n", b"\n").rstrip(b"\n")
    assert read_tra(lf).as_dict() == read_tra(crlf).as_dict()


def test_cp1252_and_utf8_files_are_detected():
    line = "ACH15032025FF606100                             REF                                Électricité"
    cp1252 = read_tra(line.encode("cp1252"))
    utf8 = read_tra(("\ufeff" + line).encode("utf-8"))
    assert cp1252.encoding == "cp1252" and utf8.encoding == "utf-8" and utf8.had_bom
    assert cp1252.lines[0].label == utf8.lines[0].label == "Électricité"


def test_short_lines_read_their_missing_columns_as_blanks():
    tra = read_tra(b"***S5EXPJRLSTD\r\nACH15032025FF606100")
    assert tra.header is not None and tra.header.version == ""
    (line,) = tra.lines
    assert (line.general, line.label, line.direction, line.amount, line.amount_code) == (
        "606100",
        "",
        "",
        None,
        "",
    )


def test_fields_are_trimmed_whatever_their_alignment():
    raw = "ACH15032025FF" + "  606100".ljust(17) + " " * 17 + " " + "  REF".ljust(35) + " " * 35 + " CB"
    line = read_tra(raw.encode()).lines[0]
    assert (line.general, line.reference, line.payment_mode) == ("606100", "REF", "CB")


def test_parameter_records_are_kept_apart_from_movements():
    tra = read_tra(b"***S5EXPJRLSTD\r\n***JALACHAchats\r\nACH15032025FF606100")
    assert [r.kind for r in tra.records] == ["JAL"]
    assert len(tra.lines) == 1


def test_dates_and_amounts_parse_strictly():
    assert parse_tra_date("15032025") == date(2025, 3, 15)
    assert parse_tra_date("01011900") is None
    assert parse_tra_date("31022025") is None
    assert parse_tra_date("") is None
    assert parse_tra_amount("120,00") == Decimal("120.00")
    assert parse_tra_amount("12a") is None
    assert parse_tra_amount("") is None


def test_lines_longer_than_1407_characters_are_read_up_to_1407():
    raw = ("ACH15032025FF606100".ljust(1500, "x")).encode()
    assert len(read_tra(raw).lines[0].label) == 35


def test_cp1252_text_that_is_also_valid_utf8_is_read_as_cp1252_when_the_columns_say_so():
    # Given a cp1252 label whose bytes E0 A0 A1 ("à\xa0¡") also form one UTF-8 character
    line = (
        "ACH15032025FF606100".ljust(83) + "à\xa0¡".ljust(35) + "   01011900D" + "1,00".rjust(20) + "N"
    ).ljust(222)
    # When read
    tra = read_tra(line.encode("cp1252"))
    # Then the columns stay in place
    assert tra.encoding == "cp1252"
    assert tra.lines[0].label == "à\xa0¡"
    assert tra.lines[0].direction == "D"
