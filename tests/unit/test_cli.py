"""The ``tra`` command (docs/architecture.md §3.3), run as a user runs it: a separate process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.unit.tra.test_writer import WORKED_EXAMPLE

TRA = shutil.which("tra", path=str(Path(sys.executable).parent)) or "tra"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TRA, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "FA-2025-0042.pdf").write_bytes(b"%PDF-1.4 invoice")
    entry = dict(
        WORKED_EXAMPLE, attachments=[{"filename": "FA-2025-0042.pdf", "path": "docs/FA-2025-0042.pdf"}]
    )
    (tmp_path / "entries.json").write_text(json.dumps([entry]))
    return tmp_path


def test_format_writes_the_tra_and_lint_accepts_it(workdir: Path):
    # When formatting to a file
    result = _run("format", "entries.json", "-o", "out.tra", cwd=workdir)
    # Then it exits 0, writes CRLF cp1252 TRA, and lint and parse agree with it
    assert result.returncode == 0, result.stderr
    data = (workdir / "out.tra").read_bytes()
    assert data.startswith(b"***S5EXPJRLSTD") and data.endswith(b"\r\n")
    lint = _run("lint", "out.tra", cwd=workdir)
    assert (lint.returncode, lint.stdout) == (0, "")
    parsed = json.loads(_run("parse", "out.tra", cwd=workdir).stdout)
    assert parsed["header"]["file_type"] == "JRL"
    assert [line["account_type"] for line in parsed["lines"]] == ["X", "", "", "G"]
    assert parsed["lines"][0]["auxiliary"] == "401EDF"
    assert parsed["lines"][0]["amount"] == "120.00"
    assert parsed["lines"][3]["document"] == "FA-2025-0042.pdf"


def test_format_to_stdout_and_options(workdir: Path):
    result = subprocess.run(
        [TRA, "format", "entries.json", "--format", "ETE", "--encoding", "utf-8"],
        cwd=workdir,
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith(b"***S5EXPJRLETE")


def test_archive_zips_the_tra_and_the_documents_at_the_root(workdir: Path):
    result = _run("archive", "entries.json", "-o", "out.zip", cwd=workdir)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(workdir / "out.zip") as zf:
        assert zf.namelist() == ["ECRITURES.TRA", "FA-2025-0042.pdf"]
        assert zf.read("FA-2025-0042.pdf") == b"%PDF-1.4 invoice"
        assert b"FA-2025-0042.pdf" in zf.read("ECRITURES.TRA")
    again = _run("archive", "entries.json", "-o", "again.zip", cwd=workdir)
    assert again.returncode == 0
    assert (workdir / "again.zip").read_bytes() == (workdir / "out.zip").read_bytes()


def test_batch_tag_goes_in_the_header_user_field_and_a_bad_one_exits_2(workdir: Path):
    tagged = _run("archive", "entries.json", "-o", "tagged.zip", "--batch-tag", "batch-42", cwd=workdir)
    assert tagged.returncode == 0, tagged.stderr
    plain = _run("format", "entries.json", "-o", "plain.tra", cwd=workdir)
    assert plain.returncode == 0
    with zipfile.ZipFile(workdir / "tagged.zip") as zf:
        tra = zf.read("ECRITURES.TRA")
    (workdir / "tagged.tra").write_bytes(tra)
    parsed = json.loads(_run("parse", "tagged.tra", cwd=workdir).stdout)
    assert parsed["header"]["user"] == "batch-42"
    assert tra.split(b"\r\n")[1:] == (workdir / "plain.tra").read_bytes().split(b"\r\n")[1:]
    bad = _run("format", "entries.json", "-o", "bad.tra", "--batch-tag", "lot 1", cwd=workdir)
    assert bad.returncode == 2 and "batch tag" in bad.stderr
    assert not (workdir / "bad.tra").exists()


def test_a_missing_document_fails_the_archive_with_exit_2_and_no_file(workdir: Path):
    (workdir / "docs" / "FA-2025-0042.pdf").unlink()
    result = _run("archive", "entries.json", "-o", "out.zip", cwd=workdir)
    assert result.returncode == 2
    assert "ATTACHMENT_MISSING" in result.stderr and "entry FA-2025-0042" in result.stderr
    assert not (workdir / "out.zip").exists()


def test_invalid_entries_exit_2_name_entry_line_field_and_write_nothing(workdir: Path):
    # Given entries with mistakes on two lines
    entry = json.loads((workdir / "entries.json").read_text())[0]
    entry["lines"][1]["debit"] = "100.001"
    entry["lines"][2]["account"] = "4" * 18
    (workdir / "bad.json").write_text(json.dumps(entry))
    # When formatting
    result = _run("format", "bad.json", "-o", "bad.tra", cwd=workdir)
    # Then every problem is on stderr, the exit code is 2, and no output file exists
    assert result.returncode == 2
    assert "entry FA-2025-0042, line 2, field debit: AMOUNT_TOO_PRECISE" in result.stderr
    assert "entry FA-2025-0042, line 3, field account: ACCOUNT_TOO_LONG" in result.stderr
    assert not (workdir / "bad.tra").exists()


def test_a_failed_run_leaves_an_existing_output_file_untouched(workdir: Path):
    (workdir / "out.tra").write_bytes(b"previous")
    (workdir / "bad.json").write_text("{not json")
    result = _run("format", "bad.json", "-o", "out.tra", cwd=workdir)
    assert result.returncode == 2
    assert "not valid JSON" in result.stderr
    assert (workdir / "out.tra").read_bytes() == b"previous"


def test_warnings_go_to_stderr_prefixed_and_keep_exit_0(workdir: Path):
    entry = dict(WORKED_EXAMPLE, label="L" * 50, attachments=[])
    (workdir / "long.json").write_text(json.dumps(entry))
    result = _run("format", "long.json", "-o", "long.tra", cwd=workdir)
    assert result.returncode == 0
    assert result.stderr.startswith("warning: entry FA-2025-0042, field label: LABEL_TRUNCATED")


def test_lint_reports_line_col_code_message_and_exits_1(workdir: Path):
    (workdir / "bad.tra").write_bytes(b"ACH32132025FF606100")
    result = _run("lint", "bad.tra", cwd=workdir)
    assert result.returncode == 1
    assert "1:1: HEADER_MISSING " in result.stdout
    assert "1:4: DATE_INVALID " in result.stdout


def test_unreadable_files_and_bad_usage_exit_2(workdir: Path):
    assert _run("lint", "missing.tra", cwd=workdir).returncode == 2
    assert _run("format", cwd=workdir).returncode == 2
    assert _run("frobnicate", cwd=workdir).returncode == 2
