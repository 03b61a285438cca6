"""The TRA+PJ archive: the .TRA and the documents at the zip root, safe names, same bytes every time."""

from __future__ import annotations

import io
import zipfile

import pytest

from tra_core.domain.errors import TraError
from tra_core.tra.archive import build_archive, check_document, plan_attachment_names, safe_name


class _Att:
    def __init__(self, filename: str):
        self.filename = filename


class _Entry:
    def __init__(self, *names: str):
        self.attachments = [_Att(n) for n in names]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("facture.pdf", "facture.pdf"),
        ("Facture été 2026 #3.pdf", "Facture_ete_2026_3.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\scan.PNG", "scan.PNG"),
        ("...", "document"),
        ("😀.pdf", "pdf"),
        ("a" * 300 + ".pdf", "a" * 96 + ".pdf"),
    ],
)
def test_names_are_bare_safe_and_short(given, expected):
    assert safe_name(given) == expected


def test_names_are_unique_without_regard_to_case_and_never_reuse_the_tra_name():
    plan = plan_attachment_names(
        [_Entry("facture.pdf", "FACTURE.pdf"), _Entry("facture.pdf", "ecritures.tra")],
        reserved=("ECRITURES.TRA",),
    )
    assert plan == [["facture.pdf", "FACTURE-2.pdf"], ["facture-3.pdf", "ecritures-2.tra"]]


def test_the_archive_holds_the_tra_then_the_documents_at_its_root():
    archive = build_archive(b"TRA", [("a.pdf", b"%PDF a"), ("b.jpg", b"jpeg")])
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert zf.namelist() == ["ECRITURES.TRA", "a.pdf", "b.jpg"]
        assert zf.read("ECRITURES.TRA") == b"TRA"
        assert zf.read("a.pdf") == b"%PDF a"
        assert zf.testzip() is None


def test_the_archive_is_byte_identical_for_identical_input():
    documents = [("a.pdf", b"%PDF a" * 1000)]
    assert build_archive(b"TRA", documents) == build_archive(b"TRA", list(documents))


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("virus.exe", b"MZ", "ATTACHMENT_TYPE"),
        ("empty.pdf", b"", "ATTACHMENT_EMPTY"),
        ("../x.pdf", b"x", "ATTACHMENT_NAME"),
        ("ECRITURES.TRA", b"x", "ATTACHMENT_NAME"),
    ],
)
def test_unacceptable_documents_are_refused_with_a_code(name, content, code):
    with pytest.raises(TraError) as caught:
        build_archive(b"TRA", [(name, content)])
    assert caught.value.code == code


def test_documents_over_the_size_limit_are_refused():
    with pytest.raises(TraError) as caught:
        check_document("big.pdf", 16 * 1024 * 1024)
    assert caught.value.code == "ATTACHMENT_TOO_LARGE"
    assert "big.pdf" in caught.value.message
