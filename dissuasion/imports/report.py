"""The error report of a push: the original rejected and flagged rows, so staff can fix them and re-import."""
from itertools import groupby

from sqlalchemy import select

from ..audit.operations import record
from ..exports import write_xlsx
from ..extensions import db
from .models import Push, PushRowError
from .rows import FLAGGED, REJECTED

ROW_COLUMN, RESULT_COLUMN, PROBLEM_COLUMN = "原文件行号", "结果", "问题"
#: What became of a row, in the report: a rejected row is to be fixed and imported again; a flagged one is in already
#: (importing it again changes nothing), its data is checked on the case.
RESULTS = {REJECTED: "未导入：改正后重新导入", FLAGGED: "已导入：数据有问题，请在任务中核实"}


def error_report_rows(push: Push) -> tuple[list[str], list[list]]:
    """The file's own header plus row number, result and problems; one line per rejected or flagged row."""
    failed = select(PushRowError.row_number).filter_by(push_id=push.id).where(
        PushRowError.verdict.in_((REJECTED, FLAGGED)))
    errors = db.session.scalars(select(PushRowError).filter_by(push_id=push.id)
                                .where(PushRowError.row_number.in_(failed))
                                .order_by(PushRowError.row_number, PushRowError.id))
    header = list(push.headers or [])
    rows = []
    for row_number, group in groupby(errors, key=lambda e: e.row_number):
        group = list(group)
        raw = list(group[0].cells)
        header += [f"第{i + 1}列" for i in range(len(header), len(raw))]  # an old push without its header
        result = RESULTS[REJECTED if any(e.verdict == REJECTED for e in group) else FLAGGED]
        rows.append((row_number, raw, result, "；".join(dict.fromkeys(e.message for e in group))))
    width = len(header)
    lines = [raw + [""] * (width - len(raw)) + [row_number, result, problems]
             for row_number, raw, result, problems in rows]
    return header + [ROW_COLUMN, RESULT_COLUMN, PROBLEM_COLUMN], lines


def export_error_report(push: Push, by) -> tuple[bytes, int]:
    """The error report as .xlsx (every cell text, never a formula); the download is audited."""
    header, lines = error_report_rows(push)
    record("export", "push", push.id, user=by, kind="error_report", rows=len(lines))
    return write_xlsx([("错误报告", header, lines)]), len(lines)
