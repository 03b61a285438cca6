"""The batch tag: two batches of identical entries never share an MD5, a re-rendered batch does.

MyUnisoft's ``HascodeVerif`` refuses a ``.TRA`` whose MD5 it has already imported, so the writer
puts the upload batch's id in the header's UTILISATEUR field (assumption T16 of
docs/myunisoft-assumptions.md; docs/architecture.md §3.3).
"""

from __future__ import annotations

import hashlib
import io
import string
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.conftest import BANK_FEE
from tra_core.domain.entry import Entry, parse_entries
from tra_core.tra.archive import build_archive
from tra_core.tra.linter import lint_tra
from tra_core.tra.reader import read_tra
from tra_core.tra.writer import (
    BATCH_TAG_WIDTH,
    HeaderInfo,
    TraEncoding,
    TraFormat,
    TraOptions,
    check_batch_tag,
    render_tra,
)

TAG_ALPHABET = string.ascii_letters + string.digits + "._:-"
tags = st.text(alphabet=TAG_ALPHABET, min_size=1, max_size=BATCH_TAG_WIDTH)
USER_COLUMNS = slice(53, 88)  # UTILISATEUR, columns 54-88


def _fee(entry_id: str) -> list[Entry]:
    entries, problems = parse_entries(dict(BANK_FEE, entry_id=entry_id))
    assert problems == []
    return entries


def _tra_md5(archive: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        return hashlib.md5(zf.read("ECRITURES.TRA")).hexdigest()


def _archive(entries: list[Entry], tag: str | None) -> bytes:
    return build_archive(render_tra(entries, TraOptions(batch_tag=tag)).data, [])


def test_twin_bank_fees_in_two_batches_have_different_md5s_and_a_resent_batch_the_same() -> None:
    first = _archive(_fee("fee-1"), "3f2b9c0e8d4a4f6b9e1c2d3a4b5c6d7e")
    second = _archive(_fee("fee-2"), "0a1b2c3d4e5f40718293a4b5c6d7e8f9")
    assert _tra_md5(first) != _tra_md5(second)
    assert _archive(_fee("fee-1"), "3f2b9c0e8d4a4f6b9e1c2d3a4b5c6d7e") == first  # the frozen archive
    # Without a tag, the twins are the same file: the loss the tag prevents.
    assert _tra_md5(_archive(_fee("fee-1"), None)) == _tra_md5(_archive(_fee("fee-2"), None))


@settings(max_examples=200, deadline=None)
@given(tags, tags, st.sampled_from(["STD", "ETE"]), st.sampled_from(["cp1252", "utf-8"]))
def test_different_tags_give_different_bytes_and_the_same_tag_the_same(
    tag: str, other: str, fmt: TraFormat, encoding: TraEncoding
) -> None:
    entries = _fee("fee-1")
    tagged = render_tra(entries, TraOptions(format=fmt, encoding=encoding, batch_tag=tag))
    assert render_tra(entries, TraOptions(format=fmt, encoding=encoding, batch_tag=tag)).data == tagged.data
    other_data = render_tra(entries, TraOptions(format=fmt, encoding=encoding, batch_tag=other)).data
    assert (other_data == tagged.data) == (other == tag)
    # The reader reads the tag back, the linter accepts the file, and nothing but the header's
    # user field differs from the untagged file: MyUnisoft imports the same movements.
    tra = read_tra(tagged.data)
    assert tra.header is not None and tra.header.user == tag
    assert lint_tra(tagged.data) == []
    plain = render_tra(entries, TraOptions(format=fmt, encoding=encoding)).text.split("\r\n")
    lines = tagged.text.split("\r\n")
    assert lines[1:] == plain[1:]
    assert lines[0][USER_COLUMNS].rstrip() == tag
    assert lines[0][: USER_COLUMNS.start] + lines[0][USER_COLUMNS.stop :] == (
        plain[0][: USER_COLUMNS.start] + plain[0][USER_COLUMNS.stop :]
    )


def test_no_tag_leaves_the_file_as_before() -> None:
    entries = _fee("fee-1")
    assert render_tra(entries, TraOptions(batch_tag=None)).data == render_tra(entries).data
    assert render_tra(entries).text.split("\r\n")[0][USER_COLUMNS] == " " * 35


@pytest.mark.parametrize(
    "tag",
    ["", "x" * (BATCH_TAG_WIDTH + 1), "batch 1", "lot/1", "été", "tag\r\n", " lead"],
)
def test_a_tag_that_would_be_cut_or_changed_is_refused(tag: str) -> None:
    with pytest.raises(ValueError, match="batch tag"):
        check_batch_tag(tag)
    with pytest.raises(ValueError, match="batch tag"):
        TraOptions(batch_tag=tag)


def test_a_tag_and_a_header_user_cannot_share_the_field() -> None:
    with pytest.raises(ValueError, match="user field"):
        TraOptions(batch_tag="b-1", header=HeaderInfo(user="EXPORT"))
    assert check_batch_tag("x" * BATCH_TAG_WIDTH) == "x" * BATCH_TAG_WIDTH
