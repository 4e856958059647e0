"""XLSX workbooks for the branch and the community (openpyxl). Headers and values are Chinese,
the language of the ledgers they replace; times are local."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.domain.org import Unit
from bot.domain.party import Activity, AttendanceStatus, Method
from bot.services.party import (
    Roster,
    activity_kind_name,
    member_type_name,
    registration_status_name,
)
from storage.party import LedgerRow

ZH = "zh"
ROSTER_HEADERS = (
    "姓名", "小区", "楼栋", "工作单位党组织", "类型", "电话", "报到状态", "报到时间", "审核时间",
    "本年参加活动（次）", "本年服务时长（小时）",
)  # fmt: skip
ACTIVITY_HEADERS = (
    "活动编号", "活动名称", "类型", "小区", "开始时间", "结束时间", "地点", "名额", "报名人数",
    "签到人数", "服务总时长（小时）",
)  # fmt: skip
ATTENDANCE_HEADERS = (
    "活动编号", "活动名称", "姓名", "报名状态", "报名时间", "签到时间", "签到方式", "签退时间",
    "签退方式", "时长（小时）",
)  # fmt: skip
METHODS = {
    Method.LOCATION: "位置",
    Method.CODE: "签到码",
    Method.BUTTON: "手动签退",
    Method.AUTO: "活动结束自动签退",
}


def _sheet(
    book: Workbook, title: str, headers: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    sheet: Worksheet = book.create_sheet(title)
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    for index, header in enumerate(headers, start=1):
        width = max(
            [
                len(header) * 2,
                *(len(str(c.value or "")) * 2 for c in sheet[get_column_letter(index)]),
            ]
        )
        sheet.column_dimensions[get_column_letter(index)].width = min(40, width + 2)
    sheet.freeze_panes = "A2"


def _save(book: Workbook) -> bytes:
    del book[book.sheetnames[0]]  # the empty sheet every new workbook starts with
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _time(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else ""


def _method(method: Method | None) -> str:
    return METHODS[method] if method else ""


def _hours(minutes: int) -> float:
    return round(minutes / 60, 2)


def roster_xlsx(roster: Roster, zone: ZoneInfo) -> bytes:
    """党员名册: every registration in the scope, with this year's activities and hours."""
    rows = []
    for member in roster.members:
        compound = roster.compounds.get(member.compound_id)
        count, minutes = roster.hours.get(member.user_id, (0, 0))
        rows.append(
            (
                member.name,
                compound.name if compound else "",
                member.building,
                member.workplace,
                member_type_name(member.type, ZH),
                member.phone or "",
                registration_status_name(member.status, ZH),
                _time(member.created_at, zone),
                _time(member.decided_at, zone),
                count,
                _hours(minutes),
            )
        )
    book = Workbook()
    _sheet(book, "党员名册", ROSTER_HEADERS, rows)
    return _save(book)


def ledger_xlsx(
    activities: Sequence[Activity],
    rows: Sequence[LedgerRow],
    compounds: dict[int, Unit],
    zone: ZoneInfo,
) -> bytes:
    """活动台账: one line per activity, and one per member's part in one."""
    checked: dict[int, int] = {}
    minutes: dict[int, int] = {}
    for row in rows:
        if row.attendance.checked_in_at is not None:
            checked[row.activity.id] = checked.get(row.activity.id, 0) + 1
            minutes[row.activity.id] = minutes.get(row.activity.id, 0) + row.attendance.minutes
    summary = [
        (
            a.id,
            a.title,
            activity_kind_name(a.kind, ZH),
            compounds[a.compound_id].name if a.compound_id in compounds else "",
            _time(a.starts_at, zone),
            _time(a.ends_at, zone),
            a.place,
            a.capacity,
            a.signed,
            checked.get(a.id, 0),
            _hours(minutes.get(a.id, 0)),
        )
        for a in activities
    ]
    detail = [
        (
            row.activity.id,
            row.activity.title,
            row.name,
            "已报名" if row.attendance.status is AttendanceStatus.SIGNED else "已取消",
            _time(row.attendance.signed_at, zone),
            _time(row.attendance.checked_in_at, zone),
            _method(row.attendance.check_in_method),
            _time(row.attendance.checked_out_at, zone),
            _method(row.attendance.check_out_method),
            _hours(row.attendance.minutes),
        )
        for row in rows
    ]
    book = Workbook()
    _sheet(book, "活动台账", ACTIVITY_HEADERS, summary)
    _sheet(book, "参加明细", ATTENDANCE_HEADERS, detail)
    return _save(book)
