"""XLSX workbooks for the branch and the community (openpyxl). Headers and values are Chinese,
the language of the ledgers they replace; times are local. openpyxl is imported when a workbook is
made, not with the bot (0.2 s and 25 MB on every start)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.complaints import OPEN, Action, Complaint, Status
from bot.domain.lostfound import Item
from bot.domain.org import Unit
from bot.domain.oversight import HouseholdFigures, TopicFigures
from bot.domain.party import Activity, AttendanceStatus, Method
from bot.domain.rates import Event
from bot.domain.stars import Criteria, Figure, Run, RunStatus, Star, award
from bot.services import households
from bot.services.party import Roster
from bot.ui import lostfound
from bot.ui.complaints import category_name
from bot.ui.households import status_name as resident_status_name
from bot.ui.households import tenure_name
from bot.ui.party import activity_kind_name, member_type_name, registration_status_name
from storage.party import LedgerRow

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

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


def _workbook() -> Workbook:
    from openpyxl import Workbook

    return Workbook()


def _sheet(
    book: Workbook, title: str, headers: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

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
    book = _workbook()
    _sheet(book, "党员名册", ROSTER_HEADERS, _roster_rows(roster, zone))
    return _save(book)


def _roster_rows(roster: Roster, zone: ZoneInfo) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
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
    return rows


HOUSEHOLD_HEADERS = (
    "楼栋", "单元", "房号", "楼层", "面积（㎡）", "住户", "身份", "状态", "户代表", "登记方式",
    "登记时间", "确认时间", "党群中心户",
)  # fmt: skip
CONTACT_HEADERS = ("党群中心户", "负责范围", "户数")


def households_xlsx(ledger: households.Ledger, zone: ZoneInfo) -> bytes:
    """住户台账: a row per resident (and per flat nobody has registered), and the contacts."""
    book = _workbook()
    _sheet(book, "住户台账", HOUSEHOLD_HEADERS, _household_rows(ledger, zone))
    _sheet(
        book,
        "党群中心户",
        CONTACT_HEADERS,
        [(ledger.names.get(c.user_id, ""), c.area(ZH), n) for c, n in ledger.contacts],
    )
    return _save(book)


def _household_rows(ledger: households.Ledger, zone: ZoneInfo) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for flat in ledger.flats:
        a = flat.address
        where = (a.building, a.unit, a.number, flat.floor or "", flat.area_m2 or "")
        contacts = "、".join(
            ledger.names.get(c.user_id, "") for c, _n in ledger.contacts if c.covers(flat)
        )
        living = ledger.residents.get(flat.id, [])
        if not living:
            rows.append((*where, "", "", "未登记", "", "", "", "", contacts))
        for resident in living:
            rows.append(
                (
                    *where,
                    households.name_of(resident, ledger.names),
                    tenure_name(resident.tenure, ZH),
                    resident_status_name(resident.status, ZH),
                    "是" if ledger.representatives.get(flat.id) == resident.id else "",
                    "本人" if resident.user_id is not None else "代办",
                    _time(resident.created_at, zone),
                    _time(resident.decided_at, zone),
                    contacts,
                )
            )
    return rows


def ledger_xlsx(
    activities: Sequence[Activity],
    rows: Sequence[LedgerRow],
    compounds: dict[int, Unit],
    zone: ZoneInfo,
) -> bytes:
    """活动台账: one line per activity, and one per member's part in one."""
    book = _workbook()
    _activity_sheets(book, activities, rows, compounds, zone)
    return _save(book)


def _activity_sheets(
    book: Workbook,
    activities: Sequence[Activity],
    rows: Sequence[LedgerRow],
    compounds: dict[int, Unit],
    zone: ZoneInfo,
) -> None:
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
    _sheet(book, "活动台账", ACTIVITY_HEADERS, summary)
    _sheet(book, "参加明细", ATTENDANCE_HEADERS, detail)


# ---------------------------------------------------------------------------------------------
# The oversight ledgers (/export): tickets with their trail, lost and found, members, activities

TICKET_HEADERS = (
    "编号", "反映时间", "小区", "类别", "问题描述", "反映人", "当前状态", "承办单位", "期限",
    "办结答复", "评价", "专项行动",
)  # fmt: skip
EVENT_HEADERS = ("编号", "时间", "环节", "从", "到", "期限", "说明", "操作人")
LOSTFOUND_HEADERS = (
    "编号", "类型", "类别", "物品描述", "地点", "日期", "存放处", "小区", "状态", "登记时间",
    "到期时间",
)  # fmt: skip
TICKET_STATUS = {
    Status.DISPATCHED: "待签收",
    Status.SIGNED: "办理中",
    Status.RETURNED: "已退回待改派",
    Status.COMPLETED: "已办结待评价",
    Status.CLOSED: "已关闭",
}
ACTIONS = {
    Action.CREATED: "登记", Action.DISPATCHED: "派单", Action.SIGNED: "签收",
    Action.RETURNED: "退单", Action.REDISPATCHED: "改派", Action.SENT_BACK: "退回原单位",
    Action.PROGRESS: "进展", Action.COMPLETED: "办结", Action.RATED: "评价", Action.PROXY_RATED: "代办评价",
    Action.REOPENED: "重新办理", Action.CLOSED: "关闭", Action.WARNED: "即将超时提醒",
    Action.CHASED: "督办", Action.REFERRED: "上报", Action.FOLLOWED: "居民关注",
    Action.ASKED: "询问居民", Action.ANSWERED: "居民答复",
}  # fmt: skip
RATINGS = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意", "unrated": "未评价"}
RATED_NOTES = (Action.RATED, Action.PROXY_RATED, Action.CLOSED)


@dataclass(frozen=True, slots=True)
class Ledgers:
    """Everything /export writes for one scope and period."""

    tickets: Sequence[Complaint]
    trails: dict[int, list[Event]]
    units: dict[int, Unit]  # every unit a ticket or item names
    names: dict[int, str]  # user id → name, for reporters and staff
    items: Sequence[Item]
    roster: Roster
    activities: Sequence[Activity]
    attendance: Sequence[LedgerRow]
    households: HouseholdFigures | None = None
    topics: Sequence[tuple[Unit, TopicFigures]] = ()


def _unit(units: dict[int, Unit], unit_id: int | None) -> str:
    unit = units.get(unit_id or 0)
    return unit.name if unit else ""


def _ticket_rows(ledgers: Ledgers, zone: ZoneInfo) -> list[tuple[object, ...]]:
    return [
        (
            t.number,
            _time(t.created_at, zone),
            _unit(ledgers.units, t.compound_id),
            category_name(t.category, ZH),
            t.text,
            "匿名" if t.anonymous else ledgers.names.get(t.reporter_id, ""),
            TICKET_STATUS[t.status],
            _unit(ledgers.units, t.unit_id),
            _time(t.due_at, zone) if t.status in OPEN else "",
            t.reply or "",
            RATINGS.get(t.rating or ("unrated" if t.status is Status.CLOSED else ""), ""),
            t.campaign_id or "",
        )
        for t in ledgers.tickets
    ]


def _event_rows(ledgers: Ledgers, zone: ZoneInfo) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for t in ledgers.tickets:
        for e in ledgers.trails.get(t.id, []):
            if e.actor_id is None:
                actor = "系统"
            elif e.actor_id == t.reporter_id:
                actor = "居民"  # never who: the ticket may be anonymous
            else:
                actor = ledgers.names.get(e.actor_id, "")
            note = RATINGS.get(e.note, e.note) if e.action in RATED_NOTES else e.note
            rows.append(
                (
                    t.number,
                    _time(e.at, zone),
                    ACTIONS.get(e.action, str(e.action)),
                    _unit(ledgers.units, e.from_unit),
                    _unit(ledgers.units, e.to_unit),
                    _time(e.due, zone),
                    note,
                    actor,
                )
            )
    return rows


def _item_rows(ledgers: Ledgers, zone: ZoneInfo) -> list[tuple[object, ...]]:
    return [
        (
            item.id,
            lostfound.kind_name(item.kind, ZH),
            lostfound.category_name(item.category, ZH),
            item.text,
            item.place,
            item.day.isoformat(),
            lostfound.held_name(item.held_at, ZH) if item.held_at else "",
            _unit(ledgers.units, item.compound_id),
            lostfound.status_name(item.status, ZH),
            _time(item.created_at, zone),
            _time(item.expires_at, zone),
        )
        for item in ledgers.items
    ]


def ledgers_xlsx(ledgers: Ledgers, zone: ZoneInfo) -> bytes:
    """诉求台账, 流转记录, 失物招领, 党员名册, 活动台账, 参加明细, 住户覆盖 and 议事厅 in one workbook."""
    book = _workbook()
    _sheet(book, "诉求台账", TICKET_HEADERS, _ticket_rows(ledgers, zone))
    _sheet(book, "流转记录", EVENT_HEADERS, _event_rows(ledgers, zone))
    _sheet(book, "失物招领", LOSTFOUND_HEADERS, _item_rows(ledgers, zone))
    _sheet(book, "党员名册", ROSTER_HEADERS, _roster_rows(ledgers.roster, zone))
    _activity_sheets(book, ledgers.activities, ledgers.attendance, ledgers.units, zone)
    if ledgers.households is not None:
        _sheet(book, "住户覆盖", COVERAGE_HEADERS, _coverage_rows(ledgers.households))
    if ledgers.topics:
        _sheet(book, "议事厅", TOPIC_HEADERS, _topic_rows(ledgers.topics))
    return _save(book)


TOPIC_HEADERS = ("小区", "提议（件）", "立项（件）", "表决（件）", "办结（件）",
                 "提议到办结（平均天数）")  # fmt: skip


def _topic_rows(each: Sequence[tuple[Unit, TopicFigures]]) -> list[tuple[object, ...]]:
    """议事厅: a row per compound with topics proposed in the period, then the total."""

    def row(name: str, f: TopicFigures) -> tuple[object, ...]:
        days = "" if f.days_to_done is None else round(f.days_to_done, 1)
        return (name, f.proposed, f.taken_up, f.decided, f.done, days)

    total = TopicFigures.total([f for _c, f in each])
    return [*(row(c.name, f) for c, f in each), row("合计", total)]


COVERAGE_HEADERS = ("小区", "在册房屋（户）", "已登记住户（户）", "覆盖率", "党群中心户（名）",
                    "中心户联系（户）", "每名中心户联系（户）")  # fmt: skip


def _coverage_rows(figures: HouseholdFigures) -> list[tuple[object, ...]]:
    """住户覆盖: a row per compound with flats on record, then the total."""

    def row(name: str, f: HouseholdFigures) -> tuple[object, ...]:
        per = f.per_contact
        return (
            name,
            f.flats,
            f.covered,
            f"{f.share:.0%}",
            f.contacts,
            f.looked_after,
            "" if per is None else round(per, 1),
        )

    return [*(row(c.name, f) for c, f in figures.compounds), row("合计", figures)]


# --- 五星小区 ---------------------------------------------------------------------------------

STAR_NAMES = {
    Star.PARTY: "党建引领星",
    Star.SERVICE: "便民服务星",
    Star.CIVILITY: "文明风尚星",
    Star.HARMONY: "和谐稳定星",
    Star.LIVABLE: "美丽宜居星",
}
RUN_STATUS = {RunStatus.COMPUTED: "待审核", RunStatus.PUBLIC: "公示中", RunStatus.FINAL: "已定"}
STARS_HEADERS = ("月份", "社区", "小区", *STAR_NAMES.values(), "星数", "奖补（元）", "测算星数",
                 "社区调整理由", "状态", "异议（件）", "异议退回复核（件）")  # fmt: skip
AWARD_HEADERS = ("社区", "小区", "评定月数", "五星月数", "累计星数", "累计奖补（元）")  # fmt: skip
FIGURE_HEADERS = ("月份", "小区", "星", "指标", "数值", "分子", "分母", "达标", "依据")  # fmt: skip


@dataclass(frozen=True, slots=True)
class StarsLedger:
    runs: Sequence[Run]  # oldest month first
    compounds: dict[int, Unit]
    communities: dict[int, Unit]  # by compound id
    figures: dict[int, list[tuple[str, Star, Figure, bool]]]  # by run id
    criteria: dict[int, Criteria]  # by criteria id
    objections: dict[int, tuple[int, int]]  # by run id: (objections, upheld)
    per_star: int


def stars_xlsx(ledger: StarsLedger) -> bytes:
    """五星台账 (a row per compound and month, with the award), 奖补汇总 (per compound over the
    period, then the total) and 指标明细 (every figure with the rows behind it)."""
    book = _workbook()
    _sheet(book, "五星台账", STARS_HEADERS, _star_rows(ledger))
    _sheet(book, "奖补汇总", AWARD_HEADERS, _award_rows(ledger))
    _sheet(book, "指标明细", FIGURE_HEADERS, _figure_rows(ledger))
    return _save(book)


def _names(ledger: StarsLedger, compound_id: int) -> tuple[str, str]:
    community = ledger.communities.get(compound_id)
    compound = ledger.compounds.get(compound_id)
    return (community.name if community else ""), (compound.name if compound else "")


def _star_rows(ledger: StarsLedger) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for run in ledger.runs:
        objections, upheld = ledger.objections.get(run.id, (0, 0))
        rows.append(
            (
                f"{run.month:%Y-%m}",
                *_names(ledger, run.compound_id),
                *("★" if star in run.stars else "" for star in STAR_NAMES),
                len(run.stars),
                award(len(run.stars), ledger.per_star),
                len(run.computed),
                run.override_reason if run.stars != run.computed else "",
                RUN_STATUS[run.status],
                objections,
                upheld,
            )
        )
    return rows


def _award_rows(ledger: StarsLedger) -> list[tuple[object, ...]]:
    per: dict[int, list[Run]] = {}
    for run in ledger.runs:
        per.setdefault(run.compound_id, []).append(run)
    rows: list[tuple[object, ...]] = []
    for compound_id, runs in sorted(per.items(), key=lambda item: _names(ledger, item[0])):
        stars = sum(len(r.stars) for r in runs)
        rows.append(
            (
                *_names(ledger, compound_id),
                len(runs),
                sum(1 for r in runs if len(r.stars) == len(Star)),
                stars,
                award(stars, ledger.per_star),
            )
        )
    stars = sum(len(r.stars) for r in ledger.runs)
    five = sum(1 for r in ledger.runs if len(r.stars) == len(Star))
    return [*rows, ("合计", "", len(ledger.runs), five, stars, award(stars, ledger.per_star))]


def _figure_rows(ledger: StarsLedger) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for run in ledger.runs:
        criteria = ledger.criteria.get(run.criteria_id)
        names = {i.key: i.name for i in criteria.indicators} if criteria else {}
        _community, compound = _names(ledger, run.compound_id)
        for key, star, figure, passed in ledger.figures.get(run.id, []):
            rows.append(
                (
                    f"{run.month:%Y-%m}",
                    compound,
                    STAR_NAMES[star],
                    names.get(key, key),
                    "" if figure.value is None else round(figure.value, 4),
                    figure.part,
                    "" if figure.whole is None else figure.whole,
                    "是" if passed else "否",
                    "；".join(figure.evidence),
                )
            )
    return rows
