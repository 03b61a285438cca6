"""Shared builders for unit tests: entries as the hub sends them (docs/architecture.md §3.1)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

PURCHASE: dict[str, Any] = {
    "entry_id": "e-2026-000123",
    "version": 1,
    "kind": "purchase",
    "journal": "ACH",
    "date": "2026-11-20",
    "reference": "F2026-0042",
    "label": "EDF electricity November 2026 meter 12345",
    "due_date": "2026-12-20",
    "payment_mode": None,
    "piece_type": None,
    "currency": "EUR",
    "lines": [
        {"account": "401000", "subsidiary": "EDF", "label": None, "debit": "0", "credit": "120.00"},
        {"account": "606100", "debit": "100.00", "credit": "0"},
        {"account": "445660", "debit": "20.00", "credit": "0"},
    ],
    "attachments": [
        {"filename": "facture-edf.pdf", "path": "docs/facture-edf.pdf", "content_type": "application/pdf"}
    ],
}

BANK_FEE: dict[str, Any] = {
    "entry_id": "fee-1",
    "kind": "bank_transaction",
    "journal": "BQ",
    "date": "2026-03-02",
    "reference": "FRAIS-0302",
    "label": "Frais bancaires",
    "lines": [{"account": "627000", "debit": "5.00"}, {"account": "512000", "credit": "5.00"}],
}
"""A bank fee of 5.00: twins of it (same date, reference and label) must both be imported."""


@pytest.fixture
def purchase() -> dict[str, Any]:
    """A fresh copy of the example entry (docs/architecture.md §3.1), free to modify."""
    return copy.deepcopy(PURCHASE)
