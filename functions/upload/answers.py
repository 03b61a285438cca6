"""What MyUnisoft's answer to an upload means for the batch: one classification, one place.

- ``IMPORTED``: MyUnisoft holds the file (imported now, or recognised as our own earlier copy).
- ``NOT_NOW``: a 429, the concurrency limit or the key's busy budget prove the upload was not
  processed and that only time is needed: retried when the window resets, no attempt spent.
- ``MAINTENANCE``: MyUnisoft is under maintenance (``ERR-API-UNDER-MAINTENANCE``), so nothing was
  imported (assumption A7): the entries wait, retried with a growing delay, no attempt spent and
  never ``failed``.
- ``KEY_REFUSED``: the firm's key can no longer be used: the entries wait for a new key.
- ``REFUSED``: MyUnisoft refused the file's content: the entries are wrong (an archive of several
  entries is bisected to find the bad one).
- ``FILE_REFUSED``: about the client file, not one entry (no access to the dossier): every member is
  refused, nothing to bisect.
- ``TRANSIENT``: anything else MyUnisoft answered (5xx, timeouts, unclassified): retried
  with backoff, then ``failed`` after the maximum attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from tra_core.domain.errors import TraError
from tra_core.myunisoft.errors import (
    AccessForbidden,
    AlreadyImported,
    BusinessRejection,
    ConcurrencyLimited,
    FolderNotFound,
    ForbiddenRoute,
    KeyRevoked,
    Maintenance,
    MyUnisoftError,
    RateLimited,
    ThirdPartyDisconnected,
)
from tra_core.myunisoft.models import UploadResult
from tra_core.store.entries import EntryIssue
from tra_core.store.errors import RateBudgetBusy

#: What an upload may raise that the worker settles (anything else is unexpected and propagates).
ANSWERED = (MyUnisoftError, RateBudgetBusy)


class Outcome(Enum):
    IMPORTED = "imported"
    NOT_NOW = "not_now"
    MAINTENANCE = "maintenance"
    KEY_REFUSED = "key_refused"
    REFUSED = "refused"
    FILE_REFUSED = "file_refused"
    TRANSIENT = "transient"


#: Answers by error class, looked up in order (the first that matches decides).
_OUTCOME_OF: tuple[tuple[tuple[type[TraError], ...], Outcome], ...] = (
    ((RateLimited, ConcurrencyLimited, RateBudgetBusy), Outcome.NOT_NOW),
    ((Maintenance,), Outcome.MAINTENANCE),
    ((KeyRevoked, ThirdPartyDisconnected, AccessForbidden, ForbiddenRoute), Outcome.KEY_REFUSED),
    ((BusinessRejection, AlreadyImported), Outcome.REFUSED),
    ((FolderNotFound,), Outcome.FILE_REFUSED),
)


@dataclass(frozen=True)
class Answer:
    """MyUnisoft's answer to one upload, classified: the result when imported, else the error."""

    outcome: Outcome
    result: UploadResult | None = None
    error: TraError | None = None

    @property
    def issue(self) -> EntryIssue:
        """The error as kept on the entries and the batch."""
        assert self.error is not None
        return issue_of(self.error)


def classify(answer: UploadResult | TraError) -> Answer:
    """What an upload's result, or the error it raised, means (see the module docstring)."""
    if isinstance(answer, UploadResult):
        return Answer(Outcome.IMPORTED, result=answer)
    for kinds, outcome in _OUTCOME_OF:
        if isinstance(answer, kinds):
            return Answer(outcome, error=answer)
    return Answer(Outcome.TRANSIENT, error=answer)


def issue_of(exc: TraError) -> EntryIssue:
    """An error as kept on an entry: our code and sentence, MyUnisoft's code and message verbatim."""
    if isinstance(exc, MyUnisoftError):
        return EntryIssue(
            code=exc.code,
            message=exc.message,
            myunisoft_code=exc.myunisoft_code,
            myunisoft_message=exc.myunisoft_message,
            request_id=exc.request_id,
        )
    return EntryIssue(code=exc.code, message=exc.message)
