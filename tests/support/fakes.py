"""In-memory fakes of the bridge's own ports (``tra_core.store.ports``) and of the MyUnisoft client.

They keep state in plain dicts, so unit tests run without a network and read what a use case did.
Each fake subclasses the port it stands for, so a renamed port method breaks mypy here. The
MyUnisoft fake raises the client's real error classes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from refresh.use_cases import ReferenceClient, ReferenceClients
from tra_core.domain.discovery import discovery_warnings, plan_discovery
from tra_core.myunisoft.errors import FolderNotFound, ForbiddenRoute, KeyInvalid, KeyRevoked, MyUnisoftError
from tra_core.myunisoft.models import (
    REQUIRED_ROUTES,
    AccountRecord,
    Diary,
    FiscalYearRecord,
    KeyInfo,
    KeyTarget,
    Route,
    Society,
)
from tra_core.store.errors import KeyNotFound, SnapshotExists
from tra_core.store.ports import ConnectionRepository, FileRepository, KeyVault, RefreshQueue, SnapshotStore
from tra_core.store.records import (
    ClientFile,
    Connection,
    ConnectionStatus,
    DiscoveredFile,
    Discovery,
    ReferenceCounts,
    ReferenceSnapshot,
    RefreshRequest,
    RefreshResult,
)
from tra_core.store.records import (
    key_fingerprint as key_fingerprint_of,
)


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class InMemoryConnections(ConnectionRepository):
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Connection] = {}
        self.entry_counts: dict[str, dict[str, int]] = {}

    def get(self, tenant: str, connection_id: str) -> Connection | None:
        return self.items.get((tenant, connection_id))

    def save(self, connection: Connection) -> None:
        self.items[(connection.tenant, connection.connection_id)] = connection

    def mark_revoked(
        self, connection: Connection, *, code: str, message: str, now: datetime
    ) -> Connection | None:
        current = self.get(connection.tenant, connection.connection_id)
        if (
            current is None
            or current.status is not ConnectionStatus.ACTIVE
            or current.key_fingerprint != connection.key_fingerprint
        ):
            return None
        revoked = current.model_copy(
            update={
                "status": ConnectionStatus.REVOKED,
                "status_code": code,
                "status_message": message,
                "updated_at": now,
            }
        )
        self.save(revoked)
        return revoked

    def set_settings(
        self, tenant: str, connection_id: str, *, create_missing_subsidiaries: bool, now: datetime
    ) -> Connection | None:
        current = self.get(tenant, connection_id)
        if current is None:
            return None
        changed = current.model_copy(
            update={"create_missing_subsidiaries": create_missing_subsidiaries, "updated_at": now}
        )
        self.save(changed)
        return changed

    def record_discovery(
        self, tenant: str, connection_id: str, *, at: datetime, warnings: Sequence[str]
    ) -> None:
        current = self.get(tenant, connection_id)
        if current is not None:
            self.save(
                current.model_copy(update={"last_discovery_at": at, "discovery_warnings": tuple(warnings)})
            )

    def list_active(self) -> list[Connection]:
        return [c for c in self.items.values() if c.is_active]

    def count_entries_by_status(self, connection_id: str) -> dict[str, int]:
        return dict(self.entry_counts.get(connection_id, {}))


class InMemoryFiles(FileRepository):
    def __init__(self) -> None:
        self.items: dict[tuple[str, int], ClientFile] = {}

    def get(self, connection_id: str, society_id: int) -> ClientFile | None:
        return self.items.get((connection_id, society_id))

    def list(self, connection_id: str) -> list[ClientFile]:
        return sorted(
            (f for (c, _), f in self.items.items() if c == connection_id), key=lambda f: f.society_id
        )

    def apply_discovery(
        self, connection: Connection, discovered: Sequence[DiscoveredFile], now: datetime
    ) -> Discovery:
        known = self.list(connection.connection_id)
        plan = plan_discovery(known, discovered)
        hidden_before = {f.society_id for f in known if not f.visible}
        for dossier in plan.new:
            self.items[(connection.connection_id, dossier.society_id)] = ClientFile(
                connection_id=connection.connection_id,
                tenant=connection.tenant,
                first_seen_at=now,
                last_seen_at=now,
                **dossier.model_dump(),
            )
        for dossier in plan.seen:
            key = (connection.connection_id, dossier.society_id)
            self.items[key] = self.items[key].model_copy(
                update={
                    **dossier.model_dump(),
                    "visible": True,
                    "last_seen_at": now,
                    "not_visible_since": None,
                }
            )
        for society_id in plan.vanished:
            key = (connection.connection_id, society_id)
            file = self.items[key]
            self.items[key] = file.model_copy(
                update={"visible": False, "not_visible_since": file.not_visible_since or now}
            )
        files = tuple(self.list(connection.connection_id))
        return Discovery(
            files=files,
            new=tuple(d.society_id for d in plan.new),
            vanished=plan.vanished,
            returned=tuple(sorted(hidden_before & {d.society_id for d in plan.seen})),
            warnings=discovery_warnings(files),
        )

    def record_snapshot(
        self,
        file: ClientFile,
        *,
        version: int,
        content_hash: str,
        counts: ReferenceCounts,
        result: RefreshResult,
    ) -> bool:
        key = (file.connection_id, file.society_id)
        current = self.items.get(key)
        if current is None or current.reference_version != file.reference_version:
            return False
        self.items[key] = current.model_copy(
            update={
                "reference_version": version,
                "reference_hash": content_hash,
                "refreshed_at": result.at,
                "reference_counts": counts,
                "last_refresh": result,
            }
        )
        return True

    def record_refresh(self, connection_id: str, society_id: int, result: RefreshResult) -> None:
        key = (connection_id, society_id)
        if key in self.items:
            self.items[key] = self.items[key].model_copy(update={"last_refresh": result})


class InMemorySnapshots(SnapshotStore):
    def __init__(self) -> None:
        self.items: dict[tuple[str, int, int], ReferenceSnapshot] = {}

    def save(self, snapshot: ReferenceSnapshot) -> str:
        key = (snapshot.connection_id, snapshot.society_id, snapshot.version)
        if key in self.items:
            raise SnapshotExists(str(key))
        self.items[key] = snapshot
        return "/".join(str(part) for part in key)

    def load(self, connection_id: str, society_id: int, version: int) -> ReferenceSnapshot | None:
        return self.items.get((connection_id, society_id, version))


class InMemoryVault(KeyVault):
    def __init__(self) -> None:
        self.keys: dict[str, str] = {}
        self.destroyed: list[str] = []

    def __repr__(self) -> str:
        return f"InMemoryVault({len(self.keys)} keys)"

    def store(self, connection_id: str, api_key: str) -> str:
        ref = f"vault/{connection_id}"
        self.keys[ref] = api_key
        return ref

    def load(self, secret_ref: str, fingerprint: str | None = None) -> str:
        if secret_ref not in self.keys:
            raise KeyNotFound(secret_ref)
        return self.keys[secret_ref]

    def destroy(self, secret_ref: str) -> None:
        self.keys.pop(secret_ref, None)
        self.destroyed.append(secret_ref)


class InMemoryQueue(RefreshQueue):
    def __init__(self) -> None:
        self.sent: list[RefreshRequest] = []
        self.postponed: list[tuple[RefreshRequest, float]] = []
        """Requests queued again with a delay (a worker postponing them), with the delay."""

    def send(self, requests: Sequence[RefreshRequest], delay_s: float = 0.0) -> int:
        if delay_s > 0:
            self.postponed.extend((r, delay_s) for r in requests)
        else:
            self.sent.extend(requests)
        return len(requests)

    def take(self) -> list[RefreshRequest]:
        taken, self.sent = self.sent, []
        return taken


# -- MyUnisoft -----------------------------------------------------------------------------------

ALL_ROUTES: tuple[tuple[str, str], ...] = REQUIRED_ROUTES


@dataclass
class FakeKey:
    type: str = "firm"
    schema_id: int = 1
    routes: tuple[tuple[str, str], ...] = ALL_ROUTES
    revoked: bool = False
    society_id: int | None = None


@dataclass
class FakeDossier:
    society_id: int
    name: str
    schema_id: int = 1
    accounts: list[tuple[str, str, bool]] = field(default_factory=list)
    journals: list[tuple[str, str, str, bool]] = field(default_factory=list)
    fiscal_years: list[tuple[str, str, bool]] = field(default_factory=list)


def standard_dossier(society_id: int, name: str, schema_id: int = 1) -> FakeDossier:
    """A small realistic dossier: general accounts, 401/411 subsidiaries (401000 too), a closed one."""
    return FakeDossier(
        society_id=society_id,
        name=name,
        schema_id=schema_id,
        accounts=[
            ("401000", "Fournisseurs", False),
            ("401EDF", "EDF", False),
            ("411000", "Clients", False),
            ("411DURAND", "Durand SARL", False),
            ("445660", "TVA déductible", False),
            ("512000", "Banque", False),
            ("606100", "Électricité", False),
            ("627000", "Services bancaires", True),
        ],
        journals=[
            ("ACH", "Achats", "ACH", False),
            ("VTE", "Ventes", "VTE", False),
            ("OD", "OD", "OD", False),
        ],
        fiscal_years=[("2025-01-01", "2025-12-31", True), ("2026-01-01", "2026-12-31", False)],
    )


class FakeMyUnisoft(ReferenceClients):
    """A firm, its dossiers and keys; ``open(key)`` gives a client bound to that key."""

    def __init__(self, dossiers: Iterable[FakeDossier] = (), keys: dict[str, FakeKey] | None = None):
        self.dossiers: dict[int, FakeDossier] = {d.society_id: d for d in dossiers}
        self.keys: dict[str, FakeKey] = dict(keys or {})
        self.calls: list[tuple[str, str, int | None]] = []
        self.failure: MyUnisoftError | None = None
        """Raised by every call while set (maintenance, a wrong third-party secret...)."""
        self.budget_waits: dict[str, float] = {}
        """What :meth:`wait_s` answers per key (by the key, for readable tests): how long its
        budget is booked by other work."""

    def open(self, api_key: str) -> FakeClient:
        return FakeClient(self, api_key)

    def wait_s(self, key_fingerprint: str) -> float:
        waits = {key_fingerprint_of(key): wait for key, wait in self.budget_waits.items()}
        return waits.get(key_fingerprint, 0.0)

    def revoke(self, api_key: str) -> None:
        self.keys[api_key].revoked = True


class FakeClient(ReferenceClient):
    def __init__(self, server: FakeMyUnisoft, api_key: str):
        self._server = server
        self._api_key = api_key
        self.closed = False

    def __repr__(self) -> str:
        return "FakeClient()"

    def close(self) -> None:
        self.closed = True

    def _key(self, route: tuple[str, str] | None, society_id: int | None = None) -> FakeKey:
        self._server.calls.append((route[1] if route else "/api/v1/key/info", self._api_key, society_id))
        if self._server.failure is not None:
            raise self._server.failure
        key = self._server.keys.get(self._api_key)
        if key is None and not self._api_key.startswith("demo"):
            raise KeyInvalid("unreadable key", myunisoft_code="ERR-INVALID-JWT")
        if key is None or key.revoked:
            raise KeyRevoked("revoked key", myunisoft_code="ERR-API-TOKEN-NOT-FOUND")
        if route is not None and route not in key.routes:
            raise ForbiddenRoute("route not allowed", myunisoft_code="ERR-FORBIDDEN-ROUTE")
        return key

    def key_info(self, extended: bool = False) -> KeyInfo:
        key = self._key(None)
        return KeyInfo(
            routes=tuple(Route(method=m, path=p) for m, p in key.routes),
            target=KeyTarget(type=key.type, schemaId=key.schema_id, thirdPartyId=7, societyId=key.society_id),
            isActivated=True,
            canBeActivated=True,
        )

    def list_societies(self) -> list[Society]:
        key = self._key(("get", "/api/v1/society"))
        return [
            Society(society_id=d.society_id, name=d.name)
            for d in sorted(self._server.dossiers.values(), key=lambda d: d.society_id)
            if d.schema_id == key.schema_id
        ]

    def _dossier(self, route: tuple[str, str], society_id: int) -> FakeDossier:
        key = self._key(route, society_id)
        dossier = self._server.dossiers.get(society_id)
        if dossier is None or dossier.schema_id != key.schema_id:
            raise FolderNotFound("no access to this client file", myunisoft_code="DROIT1")
        return dossier

    def list_accounts(self, society_id: int) -> list[AccountRecord]:
        dossier = self._dossier(("get", "/api/v1/account"), society_id)
        return [
            AccountRecord(account_id=i, account_number=number, label=label, closed=closed)
            for i, (number, label, closed) in enumerate(dossier.accounts, start=1)
        ]

    def list_diaries(self, society_id: int) -> list[Diary]:
        dossier = self._dossier(("get", "/api/v1/diary"), society_id)
        return [
            Diary(diary_id=i, code=code, name=name, diary_type_code=kind, blocked=blocked)
            for i, (code, name, kind, blocked) in enumerate(dossier.journals, start=1)
        ]

    def list_fiscal_years(self, society_id: int) -> list[FiscalYearRecord]:
        dossier = self._dossier(("get", "/api/v1/society/exercice"), society_id)
        return [
            FiscalYearRecord.model_validate(
                {"exercice_id": i, "start_date": start, "end_date": end, "closed": closed}
            )
            for i, (start, end, closed) in enumerate(dossier.fiscal_years, start=1)
        ]
