"""Pure TRA codec: writer, reader, linter and the TRA+PJ archive (bytes in, bytes out)."""

from tra_core.tra.archive import build_archive, plan_attachment_names
from tra_core.tra.linter import LintProblem, lint_tra
from tra_core.tra.reader import TraFile, TraHeader, TraLine, read_tra
from tra_core.tra.writer import HeaderInfo, RenderedTra, TraOptions, check_batch_tag, render_tra

__all__ = [
    "HeaderInfo",
    "LintProblem",
    "RenderedTra",
    "TraFile",
    "TraHeader",
    "TraLine",
    "TraOptions",
    "build_archive",
    "check_batch_tag",
    "lint_tra",
    "plan_attachment_names",
    "read_tra",
    "render_tra",
]
