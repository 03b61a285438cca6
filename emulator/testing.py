"""Helpers for tests: the emulator in-process over httpx (no sockets), and TRA+PJ archives to upload."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx

from emulator.errors import ConnectionDropped
from tra_core.domain.entry import parse_entries
from tra_core.tra.archive import build_archive
from tra_core.tra.writer import RenderedTra, render_tra


class EmulatorTransport(httpx.BaseTransport):
    """``httpx.WSGITransport`` over the emulator, where an injected drop is a real transport error.

    A ``{"drop": true}`` fault makes the app raise :class:`~emulator.errors.ConnectionDropped`;
    this transport turns it into ``httpx.RemoteProtocolError``, as a server closing the
    connection without answering would.
    """

    def __init__(self, app: object):
        self._inner = httpx.WSGITransport(app=app)  # type: ignore[arg-type]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._inner.handle_request(request)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None

    def close(self) -> None:
        self._inner.close()


DEMO_DOCUMENT = b"%PDF-1.4\n% a stand-in document for emulator tests\n%%EOF\n"


def zip_members(members: dict[str, bytes]) -> bytes:
    """A zip holding ``members`` (name → bytes), in the given order: for hand-made test archives."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def render_entries(entries: list[dict[str, Any]]) -> RenderedTra:
    """Render hub entries (``docs/architecture.md`` §3.1) with the bridge's TRA writer; bad entries raise."""
    parsed, problems = parse_entries(entries)
    if problems:
        raise ValueError("; ".join(str(p) for p in problems))
    return render_tra(parsed)


def build_tra_archive(
    entries: list[dict[str, Any]],
    *,
    documents: dict[str, bytes] | None = None,
    omit: tuple[str, ...] = (),
) -> bytes:
    """The TRA+PJ zip the bridge would send for ``entries``.

    Each attachment gets ``documents[name]`` or a small stand-in PDF; names in ``omit`` are left
    out of the zip (to test a missing document).
    """
    rendered = render_entries(entries)
    contents = documents or {}
    files = [
        (name, contents.get(name, DEMO_DOCUMENT))
        for names in rendered.attachment_names
        for name in names
        if name not in omit
    ]
    return build_archive(rendered.data, files)
