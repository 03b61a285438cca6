"""Matching sent entries with MyUnisoft's export: certain fields only, one-to-one, twins apart."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tra_core.domain.verification import MatchEntry, MatchLine, match_entries

DAY = date(2026, 11, 20)


def _fee(ref: str, *, amount: str = "5.00", label: str = "Frais bancaires", accounts=("627000", "512000")):
    value = Decimal(amount)
    return MatchEntry(
        ref=ref,
        journal="BQ",
        day=DAY,
        lines=(
            MatchLine(label, value, Decimal("0"), frozenset({accounts[0]})),
            MatchLine(label, Decimal("0"), value, frozenset({accounts[1]})),
        ),
    )


def test_an_entry_matches_the_exported_entry_with_the_same_journal_date_and_lines():
    assert match_entries([_fee("e-1")], [_fee("mu-77")]) == {"e-1": "mu-77"}


def test_line_order_and_label_padding_do_not_matter():
    found = _fee("mu-1")
    found = MatchEntry(
        ref="mu-1",
        journal="bq",
        day=DAY,
        lines=tuple(MatchLine(f"{ln.label}   ", ln.debit, ln.credit) for ln in reversed(found.lines)),
    )
    assert match_entries([_fee("e-1")], [found]) == {"e-1": "mu-1"}


def test_a_different_amount_date_journal_or_label_is_not_a_match():
    sent = _fee("e-1")
    others = [
        _fee("mu-1", amount="5.01"),
        _fee("mu-2", label="Frais"),
        MatchEntry(ref="mu-3", journal="OD", day=DAY, lines=sent.lines),
        MatchEntry(ref="mu-4", journal="BQ", day=date(2026, 11, 21), lines=sent.lines),
    ]
    assert match_entries([sent], others) == {}


def test_twins_are_matched_to_two_different_myunisoft_entries():
    assert match_entries([_fee("e-1"), _fee("e-2")], [_fee("mu-1"), _fee("mu-2")]) == {
        "e-1": "mu-1",
        "e-2": "mu-2",
    }


def test_an_id_already_claimed_by_a_twin_is_never_claimed_again():
    assert match_entries([_fee("e-2")], [_fee("mu-1")], claimed=["mu-1"]) == {}
    assert match_entries([_fee("e-2")], [_fee("mu-1"), _fee("mu-2")], claimed=["mu-1"]) == {"e-2": "mu-2"}


def test_accounts_break_ties_between_equal_candidates():
    sent = _fee("e-1", accounts=("627000", "512100"))
    found = [_fee("mu-1", accounts=("627000", "512000")), _fee("mu-2", accounts=("627000", "512100"))]
    assert match_entries([sent], found) == {"e-1": "mu-2"}


@given(st.lists(st.sampled_from(["1.00", "5.00", "7.25"]), min_size=0, max_size=8), st.randoms())
def test_matching_is_one_to_one_whatever_the_order(amounts, rng):
    sent = [_fee(f"e-{i}", amount=a) for i, a in enumerate(amounts)]
    found = [_fee(f"mu-{i}", amount=a) for i, a in enumerate(amounts)]
    rng.shuffle(found)
    matched = match_entries(sent, found)
    assert set(matched) == {e.ref for e in sent}
    assert len(set(matched.values())) == len(matched)
    amount_of = {e.ref: e.lines[0].debit for e in [*sent, *found]}
    assert all(amount_of[s] == amount_of[f] for s, f in matched.items())
