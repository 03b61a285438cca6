"""The TRA writer (docs/architecture.md §3.3): golden bytes, columns, G lines, ETE, encodings, determinism."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from tra_core.domain.entry import parse_entries
from tra_core.tra.linter import lint_tra
from tra_core.tra.writer import HeaderInfo, TraOptions, render_tra

GOLDEN = Path(__file__).parents[2] / "golden" / "tra_format_worked_example.tra"
SHARED_DOC = Path(__file__).parents[4] / "shared" / "reference" / "tra-format.md"

WORKED_EXAMPLE = {
    "entry_id": "FA-2025-0042",
    "kind": "purchase",
    "journal": "ACH",
    "date": "2025-03-15",
    "due_date": "2025-04-14",
    "reference": "FA-2025-0042",
    "label": "EDF FACTURE MARS 2025",
    "lines": [
        {"account": "401000", "subsidiary": "EDF", "credit": "120.00"},
        {"account": "606100", "debit": "100.00"},
        {"account": "445660", "debit": "20.00"},
    ],
    "attachments": [{"filename": "FA-2025-0042.pdf", "path": "FA-2025-0042.pdf"}],
}
WORKED_HEADER = HeaderInfo(created_at=datetime(2025, 3, 15, 10, 30), user="EXPORT")


def _entries(*raw):
    entries, problems = parse_entries(list(raw))
    assert problems == []
    return entries


def test_the_worked_example_of_tra_format_md_is_reproduced_byte_for_byte():
    # Given the supplier invoice of tra-format.md §6 and its header fields
    entries = _entries(WORKED_EXAMPLE)
    # When it is rendered
    rendered = render_tra(entries, TraOptions(header=WORKED_HEADER))
    # Then the bytes are the golden file's, and the file lints clean
    assert rendered.data == GOLDEN.read_bytes()
    assert rendered.attachment_names == (("FA-2025-0042.pdf",),)
    assert lint_tra(rendered.data) == []


def test_the_golden_file_matches_the_shared_reference_display():
    if not SHARED_DOC.exists():
        pytest.skip(
            "../shared/reference/tra-format.md is not beside this clone (only CI and developers have it)"
        )
    # Given the example as printed in the reference (trailing blanks trimmed there)
    doc = SHARED_DOC.read_text(encoding="utf-8")
    section = doc[doc.index("## 6. Worked example") :]
    block = section[section.index("```") + 3 :]
    block = block[block.index("\n") + 1 : block.index("```")]
    shown = block.rstrip("\n").split("\n")[2:]  # after the two ruler lines
    # Then our golden file is the same text once trailing blanks are trimmed
    golden = GOLDEN.read_bytes().decode("cp1252").split("\r\n")[:-1]
    assert [line.rstrip() for line in golden] == shown


def test_movement_fields_sit_at_the_spec_columns():
    rendered = render_tra(_entries(WORKED_EXAMPLE))
    x_line = rendered.text.split("\r\n")[1]
    assert len(x_line) == 222
    assert x_line[0:3] == "ACH"
    assert x_line[3:11] == "15032025"
    assert x_line[11:13] == "FF"
    assert x_line[13:30] == "401000".ljust(17)
    assert x_line[30] == "X"
    assert x_line[31:48] == "401EDF".ljust(17)
    assert x_line[48:83] == "FA-2025-0042".ljust(35)
    assert x_line[83:118] == "EDF FACTURE MARS 2025".ljust(35)
    assert x_line[121:129] == "14042025"
    assert x_line[129] == "C"
    assert x_line[130:150] == "120,00".rjust(20)
    assert x_line[150] == "N"
    assert x_line[151:159] == "1".rjust(8)
    assert x_line[172:175] == "E--"


def test_the_header_is_a_journal_std_header_version_011_sous_version_001():
    header = render_tra(_entries(WORKED_EXAMPLE)).text.split("\r\n")[0]
    assert header.startswith("***S5EXPJRLSTD")
    assert header[33:36] == "011"
    assert header[144:147] == "001"
    assert header[41:53] == " " * 12  # no wall-clock timestamp unless asked


def test_subsidiary_lines_use_the_collective_account_and_general_lines_stay_blank():
    entry = dict(
        WORKED_EXAMPLE,
        kind="expense_report",
        journal="NDF",
        lines=[
            {"account": "421000", "subsidiary": "DUPONT", "credit": "30.00"},
            {"account": "625100", "debit": "25.00"},
            {"account": "445660", "debit": "5.00"},
        ],
    )
    lines = render_tra(_entries(entry), TraOptions(collectives={"421": "42100000"})).text.split("\r\n")
    assert lines[1][13:31] == "42100000".ljust(17) + "X"
    assert lines[1][31:48].strip() == "421DUPONT"
    assert lines[2][30:48] == " " * 18


def test_a_line_on_401000_without_subsidiary_is_a_subsidiary_line_with_code_401000():
    entry = dict(
        WORKED_EXAMPLE,
        lines=[{"account": "401000", "credit": "1.00"}, {"account": "606100", "debit": "1.00"}],
    )
    line = render_tra(_entries(entry)).text.split("\r\n")[1]
    assert line[13:48] == "401000".ljust(17) + "X" + "401000".ljust(17)


def test_a_long_label_is_cut_to_35_characters_with_a_warning():
    long_label = "EDF electricity November 2026 meter 12345"
    rendered = render_tra(_entries(dict(WORKED_EXAMPLE, label=long_label)))
    assert rendered.text.split("\r\n")[1][83:118] == long_label[:35]
    (notice,) = rendered.notices
    assert notice.code == "LABEL_TRUNCATED"
    assert (notice.entry_id, notice.original, notice.result) == ("FA-2025-0042", long_label, long_label[:35])


def test_line_labels_override_the_entry_label():
    entry = dict(WORKED_EXAMPLE)
    entry["lines"] = [dict(line) for line in WORKED_EXAMPLE["lines"]]
    entry["lines"][2]["label"] = "TVA déductible"
    lines = render_tra(_entries(entry)).text.split("\r\n")
    assert lines[3][83:118].rstrip() == "TVA déductible"
    assert lines[2][83:118].rstrip() == "EDF FACTURE MARS 2025"


def test_cp1252_is_the_default_encoding_and_utf8_is_on_request():
    entry = dict(WORKED_EXAMPLE, label="Électricité Łódź")
    cp1252 = render_tra(_entries(entry))
    utf8 = render_tra(_entries(entry), TraOptions(encoding="utf-8"))
    assert "Électricité Lódz".encode("cp1252") in cp1252.data
    assert "Électricité Łódź".encode() in utf8.data
    assert [n.code for n in cp1252.notices] == ["TEXT_TRANSLITERATED"]
    assert utf8.notices == ()
    assert not cp1252.data.startswith(b"\xef\xbb\xbf") and not utf8.data.startswith(b"\xef\xbb\xbf")


def test_every_line_ends_with_crlf():
    data = render_tra(_entries(WORKED_EXAMPLE)).data
    assert data.endswith(b"\r\n")
    assert data.count(b"\n") == data.count(b"\r\n") == 5


def test_entries_are_numbered_as_pieces_and_attachments_follow_their_entry():
    second = dict(
        WORKED_EXAMPLE,
        entry_id="FA-2",
        reference="FA-2",
        attachments=[
            {"filename": "FA-2025-0042.pdf", "s3_key": "k"},
            {"filename": "bon livraison.pdf", "s3_key": "k2"},
        ],
    )
    rendered = render_tra(_entries(WORKED_EXAMPLE, second))
    lines = rendered.text.split("\r\n")[1:-1]
    assert [line[30] for line in lines] == ["X", " ", " ", "G", "X", " ", " ", "G", "G"]
    assert [line[151:159].strip() for line in lines if line[30] != "G"] == ["1"] * 3 + ["2"] * 3
    assert rendered.attachment_names == (("FA-2025-0042.pdf",), ("FA-2025-0042-2.pdf", "bon_livraison.pdf"))
    assert [line[83:].strip() for line in lines if line[30] == "G"] == [
        "FA-2025-0042.pdf",
        "FA-2025-0042-2.pdf",
        "bon_livraison.pdf",
    ]


def test_ete_lines_fill_every_mandatory_extended_field():
    rendered = render_tra(_entries(WORKED_EXAMPLE), TraOptions(format="ETE", creation_date=date(2025, 3, 16)))
    lines = rendered.text.split("\r\n")
    assert lines[0][11:14] == "ETE"
    x_line, general_line, g_line = lines[1], lines[2], lines[4]
    assert len(x_line) == 1023
    assert x_line[222:257].rstrip() == "FA-2025-0042"  # REFEXTERNE
    assert x_line[257:265] == "15032025"  # DATEREFEXTERNE
    assert x_line[265:273] == "16032025"  # DATECREATION
    assert x_line[301:304].strip() == "N"  # ECRANOUVEAU
    assert x_line[385] == "-"  # TVAENCAISSEMENT
    assert x_line[386:395] == "FRAFRAFRA"  # REGIMETVA, TVA, TPF
    assert x_line[1020:1023].strip() == "AL"  # ETATLETTRAGE on the lettrable line
    assert general_line[1020:1023].strip() == "RI"
    assert len(g_line) < 338  # G lines keep their short layout
    assert lint_tra(rendered.data) == []


def test_the_same_entries_always_give_the_same_bytes():
    entries = _entries(WORKED_EXAMPLE)
    assert render_tra(entries).data == render_tra(list(entries)).data
