"""The entry lifecycle table: every allowed (from, to) pair is accepted, every other pair refused."""

from __future__ import annotations

import itertools

import pytest

from tra_core.domain.lifecycle import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    PARKED_STATUSES,
    EntryStatus,
    Transition,
    TransitionRefused,
    allowed_pairs,
    expected_sources,
    is_allowed,
)

Q, UP, OK, REJ, KEY, REF, FAIL = (
    EntryStatus.QUEUED,
    EntryStatus.UPLOADING,
    EntryStatus.UPLOADED,
    EntryStatus.REJECTED,
    EntryStatus.WAITING_FOR_KEY,
    EntryStatus.WAITING_FOR_REFERENCES,
    EntryStatus.FAILED,
)
OPEN = (Q, UP, KEY, REF, FAIL)

#: The business rule, written out pair by pair (docs/architecture.md §4).
EXPECTED = (
    {(s, UP) for s in OPEN}  # claimed into a batch, or sent again through its own
    | {(s, OK) for s in OPEN}  # MyUnisoft holds it
    | {(s, REJ) for s in OPEN}  # our checks or MyUnisoft refused it
    | {(s, KEY) for s in OPEN}  # the key was refused or removed
    | {(Q, REF), (UP, REF), (FAIL, REF)}  # the client file lacks what it needs
    | {(s, FAIL) for s in OPEN}  # transient errors exhausted the attempts
    | {(UP, Q)}  # a batch dissolved before MyUnisoft could hold it (maintenance)
    | {(FAIL, Q), (REJ, Q)}  # an accountant's retry
    | {(KEY, Q), (REF, Q)}  # a new key, a refresh
)


def test_the_statuses_are_the_documented_ones() -> None:
    assert [s.value for s in EntryStatus] == [
        "queued",
        "uploading",
        "uploaded",
        "rejected",
        "waiting_for_key",
        "waiting_for_references",
        "failed",
    ]
    assert {OK, REJ} == FINAL_STATUSES
    assert {KEY, REF} == PARKED_STATUSES
    assert set(OPEN) == OPEN_STATUSES


@pytest.mark.parametrize(("source", "target"), itertools.product(EntryStatus, EntryStatus))
def test_every_pair_is_allowed_exactly_when_the_table_says_so(
    source: EntryStatus, target: EntryStatus
) -> None:
    assert is_allowed(source, target) is ((source, target) in EXPECTED)


def test_the_table_holds_no_other_pair() -> None:
    assert allowed_pairs() == EXPECTED


def test_a_final_status_is_left_only_by_a_retry() -> None:
    leaving = {t for t in Transition for s in FINAL_STATUSES if t.allows(s)}
    assert leaving == {Transition.RETRY}
    assert Transition.RETRY.target is Q


@pytest.mark.parametrize(("transition", "source"), itertools.product(Transition, EntryStatus))
def test_a_write_naming_a_transition_is_refused_from_a_status_the_table_does_not_allow(
    transition: Transition, source: EntryStatus
) -> None:
    if transition.allows(source):
        assert (source, transition.target) in EXPECTED
        assert expected_sources(transition, [source]) == {source}
    else:
        with pytest.raises(TransitionRefused) as refused:
            expected_sources(transition, [source])
        assert refused.value.refused == (source,)
        assert transition.label in str(refused.value)


def test_without_expected_statuses_a_write_expects_every_source_of_its_transition() -> None:
    for transition in Transition:
        assert expected_sources(transition, None) == transition.sources


def test_an_empty_expectation_is_refused() -> None:
    with pytest.raises(TransitionRefused):
        expected_sources(Transition.RETRY, [])
