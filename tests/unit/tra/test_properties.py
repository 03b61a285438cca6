"""Property tests of the TRA codec (hypothesis).

For any valid entry list: ``parse(format(x))`` gives back every field (after the documented
cut to 35 characters and transliteration), ``lint(format(x))`` is clean and formatting is
deterministic. Random bytes never make the reader or the linter raise.
"""

from __future__ import annotations

import string
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tra_core.domain.entry import Entry, parse_entries
from tra_core.domain.rules import collective_account
from tra_core.domain.text import fit_encoding
from tra_core.tra.linter import lint_tra
from tra_core.tra.reader import read_tra
from tra_core.tra.writer import TraOptions, render_tra

CODE = string.ascii_uppercase + string.digits
cents = st.integers(min_value=1, max_value=10**12).map(lambda c: Decimal(c).scaleb(-2))
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
general_account = st.sampled_from(["606100", "445660", "512000", "706000", "625100", "421000", "467100", "6"])
subsidiary_line_account = st.sampled_from(["401000", "411000", "401100", "421000", "467000"])


@st.composite
def entries(draw):
    count = draw(st.integers(min_value=1, max_value=4))
    result = []
    for index in range(count):
        amounts = draw(st.lists(cents, min_size=1, max_size=4))
        total = sum(amounts, Decimal(0))
        lines = []
        if draw(st.booleans()):
            account = draw(subsidiary_line_account)
            subsidiary = draw(st.one_of(st.none(), st.text(alphabet=CODE, min_size=1, max_size=10)))
            if account[:3] in {"421", "467"} and subsidiary is None:
                subsidiary = "X"
            lines.append({"account": account, "subsidiary": subsidiary, "credit": str(total)})
        else:
            lines.append({"account": "512000", "credit": str(total), "label": draw(text)})
        lines += [
            {"account": draw(general_account), "debit": str(a), "label": draw(st.one_of(st.none(), text))}
            for a in amounts
        ]
        day = draw(st.dates(min_value=date(1901, 1, 1), max_value=date(9999, 12, 31)))
        result.append(
            {
                "entry_id": f"e-{index}",
                "kind": draw(st.sampled_from(["purchase", "sale", "expense_report", "bank_transaction"])),
                "journal": draw(st.text(alphabet=CODE, min_size=1, max_size=3)),
                "date": day.isoformat(),
                "due_date": draw(
                    st.one_of(st.none(), st.dates(min_value=date(1901, 1, 2)).map(date.isoformat))
                ),
                "reference": draw(st.one_of(st.none(), text)),
                "label": draw(st.one_of(st.none(), text)),
                "payment_mode": draw(st.one_of(st.none(), st.sampled_from(["CB", "VIR", "CHQ"]))),
                "lines": draw(st.permutations(lines)),
                "attachments": [
                    {"filename": draw(text) + ".pdf", "s3_key": "k"} for _ in range(draw(st.integers(0, 2)))
                ],
            }
        )
    valid, problems = parse_entries(result)
    assert problems == [], problems
    return valid


def _expected_text(value: str | None, encoding: str) -> str:
    """The documented transformation: trim, transliterate, cut to 35, trim."""
    if not value:
        return ""
    return fit_encoding(value.strip(), encoding).strip()[:35].strip()


def _check_round_trip(valid: list[Entry], encoding: str) -> None:
    rendered = render_tra(valid, TraOptions(encoding=encoding))
    tra = read_tra(rendered.data)
    movements = [line for line in tra.lines if not line.is_document]
    documents = [line for line in tra.lines if line.is_document]
    expected_lines = [(entry, line) for entry in valid for line in entry.lines]
    assert len(movements) == len(expected_lines)
    assert [d.document for d in documents] == [n for names in rendered.attachment_names for n in names]
    for read, (entry, line) in zip(movements, expected_lines, strict=True):
        assert read.journal == entry.journal
        assert read.accounting_date == entry.date
        assert read.piece_type == entry.effective_piece_type
        assert read.reference == _expected_text(entry.reference, encoding)
        assert read.label == _expected_text(line.label or entry.label, encoding)
        assert read.amount == line.amount
        assert read.direction == line.direction
        assert read.payment_mode == (entry.payment_mode or "")
        if line.is_subsidiary:
            assert (read.account_type, read.auxiliary) == ("X", line.subsidiary_code)
            assert read.general == collective_account(line.account)
            assert read.due == entry.due_date
        else:
            assert (read.account_type, read.auxiliary, read.general) == ("", "", line.account)
            assert read.due is None


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(entries(), st.sampled_from(["cp1252", "utf-8"]))
def test_parse_of_format_gives_back_every_field(valid, encoding):
    _check_round_trip(valid, encoding)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(entries(), st.sampled_from(["STD", "ETE"]), st.sampled_from(["cp1252", "utf-8"]))
def test_formatted_files_lint_clean_and_are_deterministic(valid, fmt, encoding):
    options = TraOptions(format=fmt, encoding=encoding)
    first = render_tra(valid, options)
    assert lint_tra(first.data) == []
    assert render_tra(valid, options).data == first.data


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash_the_reader_or_the_linter(data):
    read_tra(data).as_dict()
    for problem in lint_tra(data):
        assert problem.line >= 1 and problem.column >= 1 and problem.code


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ACHX*401 0G,.\t5-EFN|19"), max_size=240), max_size=8))
def test_tra_shaped_garbage_never_crashes_the_linter(lines):
    data = "\r\n".join(lines).encode("utf-8")
    read_tra(data).as_dict()
    lint_tra(data)
