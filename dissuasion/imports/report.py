"""The error report of a push: the original rows of every line with a problem, with what became of it: the
rejected ones to fix and import again, the others to check (imported with doubtful data, waiting for the center's
routing, skipped as duplicates, imported with a note)."""
from itertools import groupby

from sqlalchemy import select

from ..core.auditlog import record
from ..core.exports import write_xlsx
from ..extensions import db
from .models import Push, PushRowError
from .rows import DUPLICATE, FLAGGED, REJECTED, UNROUTED

ROW_COLUMN, RESULT_COLUMN, PROBLEM_COLUMN = "原文件行号", "结果", "问题"
#: What became of a row, in the report, most pressing first: a rejected row is to be fixed and imported again; the
#: others are in already or skipped (importing the file again changes nothing for them).
RESULTS = {REJECTED: "未导入：改正后重新导入", FLAGGED: "已导入：数据有问题，请在任务中核实",
           UNROUTED: "已导入：派出所或社区不在目录中，在待分派队列等中心分派", "note": "已导入：有提示，请核对",
           DUPLICATE: "未导入：重复（已导入过），无需处理"}


def error_report_rows(push: Push) -> tuple[list[str], list[list]]:
    """The file's own header plus row number, result and problems; one line per row with any problem."""
    errors = db.session.scalars(select(PushRowError).filter_by(push_id=push.id)
                                .order_by(PushRowError.row_number, PushRowError.id))
    header = list(push.headers or [])
    rows = []
    for row_number, group in groupby(errors, key=lambda e: e.row_number):
        group = list(group)
        raw = list(group[0].cells)
        header += [f"第{i + 1}列" for i in range(len(header), len(raw))]  # an old push without its header
        verdicts = {e.verdict for e in group}
        result = next(RESULTS[v] for v in RESULTS if v in verdicts) if verdicts & set(RESULTS) else RESULTS["note"]
        problems = "；".join(dict.fromkeys(e.message.rstrip("。") for e in group)) + "。"
        rows.append((row_number, raw, result, problems))
    width = len(header)
    lines = [raw + [""] * (width - len(raw)) + [row_number, result, problems]
             for row_number, raw, result, problems in rows]
    return header + [ROW_COLUMN, RESULT_COLUMN, PROBLEM_COLUMN], lines


def export_error_report(push: Push, by) -> tuple[bytes, int]:
    """The error report as .xlsx (every cell text, never a formula); the download is audited."""
    header, lines = error_report_rows(push)
    record("export", "push", push.id, user=by, kind="error_report", rows=len(lines))
    return write_xlsx([("错误报告", header, lines)]), len(lines)
