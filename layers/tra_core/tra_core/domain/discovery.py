"""What a discovery (the firm's dossiers, as its key lists them) changes in a connection's files.

Business rule: a dossier the key no longer lists is flagged "not visible", never deleted. The key's
creator may have lost access to some dossiers; their files, references and entries stay, and come
back as they were when the dossier is listed again (docs/architecture.md §1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


class KnownFile(Protocol):
    """A client file the bridge already has."""

    @property
    def society_id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def visible(self) -> bool: ...


class ListedDossier(Protocol):
    """A dossier as the key lists it."""

    @property
    def society_id(self) -> int: ...


Listed = TypeVar("Listed", bound=ListedDossier)


@dataclass(frozen=True, slots=True)
class DiscoveryPlan(Generic[Listed]):
    """How a discovery changes a connection's files: new ones, ones seen again, ones now hidden."""

    new: tuple[Listed, ...]
    seen: tuple[Listed, ...]
    vanished: tuple[int, ...]


def plan_discovery(known: Iterable[KnownFile], discovered: Iterable[Listed]) -> DiscoveryPlan[Listed]:
    """The files to create, to refresh and to flag (see the module docstring for the rule).

    A dossier listed twice counts once (its first listing).
    """
    known = list(known)
    known_ids = {file.society_id for file in known}
    visible_known = {file.society_id for file in known if file.visible}
    listed: dict[int, Listed] = {}
    for dossier in discovered:
        listed.setdefault(dossier.society_id, dossier)
    new = tuple(d for sid, d in sorted(listed.items()) if sid not in known_ids)
    seen = tuple(d for sid, d in sorted(listed.items()) if sid in known_ids)
    vanished = tuple(sorted(visible_known - listed.keys()))
    return DiscoveryPlan(new=new, seen=seen, vanished=vanished)


def discovery_warnings(files: Sequence[KnownFile]) -> tuple[str, ...]:
    """What an accountant should know after a discovery: files this key cannot see, an empty firm."""
    hidden = sorted((f for f in files if not f.visible), key=lambda f: f.society_id)
    warnings = [
        f"Client file {f.name or f.society_id} (MyUnisoft id {f.society_id}) is not visible with this key: "
        "the user who generated it may have lost access to that file. Its data is kept; generate the "
        "key with a user who has access to every client file to see it again."
        for f in hidden
    ]
    if not any(f.visible for f in files):
        warnings.append(
            "This key does not list any client file. Check that the user who generated it has access "
            "to the firm's client files."
        )
    return tuple(warnings)
