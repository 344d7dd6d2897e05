"""The officer's worklist: order, filters, countdowns and what each row shows."""
import datetime as dt

import pytest

from dissuasion.cases.countdown import countdown
from dissuasion.cases.queries import WorklistFilter, worklist
from dissuasion.core.enums import Method, Tier
from dissuasion.core.timeutil import UTC
from dissuasion.extensions import db

T0 = dt.datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


def _at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.mark.parametrize("due,at,text", [
    (25, 0, "还剩 25 分钟"), (90, 0, "还剩 1 小时 30 分"), (120, 0, "还剩 2 小时"), (3000, 0, "还剩 2 天 2 小时"),
    (0, 65, "已超时 1 小时 5 分"), (0, 3, "已超时 3 分钟"), (0, 0, "已超时 1 分钟"), (0, 0.5, "已超时 1 分钟"),
    (0.5, 0, "还剩 1 分钟"),
])
def test_countdown_words(app, due, at, text):
    """Never 'overdue 0 minutes' nor '0 minutes left': the deadline itself counts as missed."""
    assert countdown(_at(due), _at(at)) == text


def test_order_overdue_first_then_tier_then_nearest_deadline(make_case, make_user, clock):
    me = make_user("officer")
    names = {}
    for name, tier, created in [("低超时", "low", -2000), ("中", "medium", 0), ("高晚", "high", 20),
                                ("特高危", "extra_high", 0), ("高超时", "high", -40), ("高早", "high", 5),
                                ("低", "low", 0), ("中超时早", "medium", -400)]:
        clock(_at(created))
        names[make_case(tier=tier, assignee=me, name=name).id] = name
    clock(_at(30))  # 特高危 signs within 10 minutes: overdue too, by 20 minutes
    order = [names[c.id] for c in worklist(me).items]
    assert order == ["特高危", "高超时", "中超时早", "低超时", "高早", "高晚", "中", "低"]


def test_filters(make_case, make_user, clock):
    me = make_user("officer")
    clock(T0)
    high = make_case(tier="high", assignee=me)
    pool = make_case(tier="medium", community="无民警社区")
    away = make_case(tier="high", assignee=me, away_from_home=True)
    clock(_at(60))
    late_medium = make_case(tier="medium", assignee=me)
    clock(_at(61))

    def ids(**kw):
        return {c.id for c in worklist(me, filters=WorklistFilter(**kw)).items}

    assert ids(tier=Tier.MEDIUM) == {pool.id, late_medium.id}
    assert ids(method=Method.PHONE) == {pool.id, away.id, late_medium.id}
    assert ids(overdue=True) == {high.id, away.id}
    assert ids(pool=True) == {pool.id}


def test_worklist_pages_by_50(make_case, make_user):
    me = make_user("officer")
    for _ in range(51):
        make_case(tier="low", assignee=me)
    first, second = worklist(me), worklist(me, page=2)
    assert (len(first.items), len(second.items), first.pages) == (50, 1, 2)


def test_worklist_row_shows_countdown_method_masked_numbers_and_call(client, auth, make_user, make_case, clock):
    me = make_user("officer")
    clock(T0)
    make_case(tier="medium", assignee=me, name="电话对象", phone="13912345678", id_number="11010519491231002X")
    make_case(tier="high", assignee=me, name="上门对象")
    clock(_at(35))
    auth.login(me)
    page = client.get("/cases/").get_data(as_text=True)
    assert "还剩 3 小时 25 分" in page and "已超时 5 分钟" in page
    assert "139****5678" in page and "1101**********002X" in page
    assert "13912345678" not in page and "11010519491231002X" not in page
    assert page.count("拨打电话") == 1 and "清河县某镇某村1号" in page
    assert page.index("上门对象") < page.index("电话对象")


def test_worklist_filters_over_http_and_keep_them_in_page_links(client, auth, make_user, make_case):
    me = make_user("officer")
    for _ in range(51):
        make_case(tier="low", assignee=me, name="低风险人")
    make_case(tier="high", assignee=me, name="高风险人")
    auth.login(me)
    page = client.get("/cases/?tier=low").get_data(as_text=True)
    assert "高风险人" not in page and "page=2" in page and "tier=low" in page


def test_tap_to_call_audits_then_opens_the_dialer(client, auth, make_user, make_case):
    from dissuasion.core.auditlog import AuditEvent

    me = make_user("officer")
    case = make_case(tier="medium", assignee=me, phone="13912345678")
    auth.login(me)
    response = client.post(f"/cases/{case.id}/call")
    assert response.status_code == 303 and response.headers["Location"] == "tel:13912345678"
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="reveal_phone"))
    assert event.object_id == str(case.id) and event.detail["purpose"] == "call"


def test_the_centers_county_list_is_headed_as_such_and_names_each_cases_precinct(client, auth, make_case, make_user):
    make_case(name="城东的人", precinct="PCS01")
    make_case(name="城西的人", precinct="PCS02", community="西门社区")
    auth.login(make_user("center"))
    page = client.get("/cases/").get_data(as_text=True)
    assert "<h1>全县任务</h1>" in page and "我的任务" not in page.split("<main")[-1]
    for name, precinct in (("城东的人", "PCS01派出所"), ("城西的人", "PCS02派出所")):
        assert f"<span>{precinct}</span>" in page.split(name)[1].split("</li>")[0]
    auth.logout()
    auth.login(make_user("officer"))
    assert "<h1>我的任务</h1>" in client.get("/cases/").get_data(as_text=True)
