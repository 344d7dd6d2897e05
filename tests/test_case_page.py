"""The case page, its actions over HTTP, revealing numbers, search and the boards."""
import re

import pytest

from dissuasion.cases.models import Case
from dissuasion.core.auditlog import AuditEvent
from dissuasion.core.enums import CaseStatus
from dissuasion.directory.models import Precinct
from dissuasion.extensions import db

ID = "11010519491231002X"
PHONE = "13912345678"


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).filter_by(action=action)))


def test_case_page_masks_and_reveal_shows_one_number_and_audits(client, auth, make_user, make_case):
    me = make_user("officer")
    case = make_case(assignee=me, id_number=ID, phone=PHONE)
    auth.login(me)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert ID not in page and PHONE not in page and "显示完整号码" in page
    response = client.post(f"/cases/{case.id}/reveal/id")
    page = response.get_data(as_text=True)
    assert ID in page and PHONE not in page and response.headers["Cache-Control"] == "no-store"
    [event] = _audit("reveal_id")
    assert (event.object_id, event.user_id) == (str(case.id), me.id)
    assert ID not in str(event.detail)


def test_reveal_in_place_answers_the_number_alone_and_audits_it_the_same(client, auth, make_user, make_case):
    me = make_user("officer")
    case = make_case(assignee=me, id_number=ID, phone=PHONE)
    auth.login(me)
    response = client.post(f"/cases/{case.id}/reveal/phone", headers={"Accept": "application/json"})
    assert response.get_json() == {"number": PHONE} and response.headers["Cache-Control"] == "no-store"
    [event] = _audit("reveal_phone")
    assert (event.object_id, event.user_id) == (str(case.id), me.id)


@pytest.mark.parametrize("role,assigned,offered,hidden", [
    ("officer", True, ["签收"], ["移交其他派出所", "指派</button>"]),
    ("officer", False, ["签收并领取"], ["移交其他派出所"]),
    ("lead", False, ["签收", "指派</button>", "移交其他派出所"], ["分派到派出所"]),
    ("center", False, ["移交其他派出所"], ["签收</button>", "指派</button>"]),
])
def test_case_page_offers_only_this_users_actions(client, auth, make_user, make_case, role, assigned, offered, hidden):
    me = make_user(role)
    case = make_case(assignee=me if assigned else None, community="无民警社区" if not assigned else "东门社区")
    auth.login(me)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert all(word in page for word in offered), offered
    assert not any(word in page for word in hidden), hidden


def test_officer_signs_on_the_case_page(client, auth, make_user, make_case):
    me = make_user("officer")
    case = make_case(assignee=me)
    auth.login(me)
    assert client.post(f"/cases/{case.id}/sign").status_code == 302
    db.session.refresh(case)
    assert case.status == CaseStatus.SIGNED
    page = client.post(f"/cases/{case.id}/sign", follow_redirects=True).get_data(as_text=True)
    assert "该任务已签收" in page


def test_transfer_over_http_moves_the_case_between_precinct_lists(client, auth, make_user, make_case, make_precinct):
    lead1, lead2 = make_user("lead", "PCS01"), make_user("lead", "PCS02")
    case = make_case(name="移交对象")
    pcs02 = db.session.scalar(db.select(Precinct).filter_by(code="PCS02"))
    auth.login(lead1)
    response = client.post(f"/cases/{case.id}/transfer", data={"destination": f"p:{pcs02.id}", "reason": ""})
    assert response.status_code == 400 and "请填写移交原因" in response.get_data(as_text=True)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)  # nothing chosen until someone chooses
    select = re.search(r'<select[^>]*name="destination".*?</select>', page, re.S).group(0)
    assert re.search(r'<option[^>]*value=""[^>]*>请选择…</option>', select) and "selected" not in select
    response = client.post(f"/cases/{case.id}/transfer", data={"destination": "", "reason": "人在城西"})
    assert response.status_code == 400 and "请选择接收的派出所" in response.get_data(as_text=True)
    assert db.session.get(Case, case.id).precinct.code == "PCS01"
    client.post(f"/cases/{case.id}/transfer", data={"destination": f"p:{pcs02.id}", "reason": "人在城西"})
    assert "移交对象" not in client.get("/cases/").get_data(as_text=True)
    auth.logout()
    auth.login(lead2)
    assert "移交对象" in client.get("/cases/").get_data(as_text=True)
    assert "移交对象" in client.get("/cases/board").get_data(as_text=True)


def test_lead_board_shows_pool_overdue_with_holder_and_bulk_assigns(client, auth, make_user, make_case, clock):
    import datetime as dt

    from dissuasion.core.timeutil import UTC

    t0 = dt.datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
    clock(t0)
    lead = make_user("lead")
    holder = make_user("officer", display_name="李警官")
    make_case(tier="extra_high", assignee=holder, name="超时的人")
    pool = [make_case(tier="low", community="无民警社区", name=f"池中{i}") for i in range(2)]
    clock(t0 + dt.timedelta(minutes=20))
    auth.login(lead)
    page = client.get("/cases/board").get_data(as_text=True)
    assert "超时的人" in page and "李警官" in page and "池中0" in page and "池中1" in page
    response = client.post("/cases/assign", data={"case_ids": [c.id for c in pool], "officer": str(holder.id)})
    assert response.status_code == 302
    assert {db.session.get(Case, c.id).assignee_id for c in pool} == {holder.id}


def test_bulk_assign_refuses_cases_of_another_precinct(client, auth, make_user, make_case):
    other = make_case(precinct="PCS02")
    lead = make_user("lead", "PCS01")
    auth.login(lead)
    response = client.post("/cases/assign", data={"case_ids": [other.id], "officer": ""})
    assert response.status_code == 404


def test_center_board_lists_the_queue_and_routes_from_it(client, auth, make_user, make_case, make_precinct):
    center = make_user("center")
    case = make_case(precinct=None, name="无处可去")
    pcs02 = make_precinct("PCS02")
    auth.login(center)
    page = client.get("/cases/county").get_data(as_text=True)
    assert "无处可去" in page and "PCS02派出所" in page
    select = page.split('id="bulk-destination"')[1].split("</select>")[0]  # one select, in the action bar
    assert page.count('name="destination"') == 2  # that one and the group's: not one per case
    assert select.split("<option")[1].startswith(' value=""')  # nothing chosen for the center beforehand
    assert '<optgroup label="PCS02派出所">' in select and f'value="c:{pcs02.communities[0].id}"' in select
    refused = client.post("/cases/route-selected", data={"destination": "", "case_ids": [case.id]})
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/cases/county#unrouted")
    assert "再选择要分派到的派出所或社区" in client.get("/cases/county").get_data(as_text=True)
    db.session.refresh(case)
    assert case.precinct_id is None
    response = client.post("/cases/route-selected", data={"destination": f"p:{pcs02.id}", "case_ids": [case.id]})
    assert response.headers["Location"].endswith("/cases/county#unrouted")  # back at the queue, not the top
    db.session.refresh(case)
    assert case.precinct_id == pcs02.id


@pytest.mark.parametrize("query", ["移交", "张", PHONE, "139 1234 5678", ID, ID.lower()])
def test_search_finds_by_name_part_full_phone_or_full_id(client, auth, make_user, make_case, query):
    me = make_user("lead")
    make_case(name="张移交", phone=PHONE, id_number=ID)
    auth.login(me)
    page = client.post("/cases/search", data={"q": query}).get_data(as_text=True)
    assert "找到 1 件任务" in page and "张移交" in page
    [event] = _audit("case_search")
    assert query not in str(event.detail)


def test_search_is_scoped_and_partial_numbers_find_nothing(client, auth, make_user, make_case):
    make_case(precinct="PCS02", name="外所人", phone=PHONE)
    make_case(name="本所人", phone="13700000000")
    auth.login(make_user("lead", "PCS01"))
    assert "找到 0 件任务" in client.post("/cases/search", data={"q": PHONE}).get_data(as_text=True)
    assert "找到 0 件任务" in client.post("/cases/search", data={"q": "1370000"}).get_data(as_text=True)
    assert "找到" not in client.get("/cases/search?q=本所人").get_data(as_text=True)


def test_the_routing_queue_shows_the_most_urgent_first(client, auth, make_user, make_case):
    make_case(precinct=None, tier="low", name="低风险的人")
    make_case(precinct=None, tier="extra_high", name="特高危的人")
    auth.login(make_user("center"))
    queue = client.get("/cases/county").get_data(as_text=True).split('id="unrouted"')[1]
    assert queue.index("特高危的人") < queue.index("低风险的人")


def _queue_push(client, rows: list[tuple[str, str, str]]) -> None:
    """Import (as the logged-in center) one row per (name, precinct, community) as the center wrote them."""
    from dissuasion.imports.pipeline import import_file
    from tests import pushfiles as pf
    data = pf.csv_bytes([pf.row(n, 姓名=name, 所属派出所=precinct, 所属社区=community)
                         for n, (name, precinct, community) in enumerate(rows, start=1)])
    import_file("queue.csv", data)
    db.session.commit()


def test_the_center_routes_a_whole_group_of_the_queue_into_the_communities_it_names(
        client, auth, make_user, make_precinct):
    from dissuasion.cases.models import CaseEvent
    from dissuasion.core.enums import EventKind
    from dissuasion.notifications.models import Notification
    pcs01 = make_precinct("PCS01", name="城东派出所", communities=("东门社区", "朝阳社区"))
    officer = make_user("officer", "PCS01")
    pcs01.communities[0].officer_id = officer.id
    lead = make_user("lead", "PCS01")
    db.session.commit()
    center = make_user("center")
    auth.login(center)
    _queue_push(client, [("甲", "城东分所", "东门社区"), ("乙", "城东分所", "朝阳社区"), ("丙", "城东分所", "新村"),
                         ("丁", "南山派出所", "")])
    page = client.get("/cases/county").get_data(as_text=True)
    groups = page.split('class="groups"')[1].split("</table>")[0]
    assert groups.index("城东分所") < groups.index("南山派出所") and '<td class="num">3</td>' in groups
    refused = client.post("/cases/route-group", data={"precinct_text": "城东分所", "destination": ""},
                          follow_redirects=True)
    assert "请先选择要分派到的派出所或社区" in refused.get_data(as_text=True)
    response = client.post("/cases/route-group", data={"precinct_text": "城东分所", "destination": f"p:{pcs01.id}"},
                           follow_redirects=True)
    assert "已把 3 件分派到城东派出所。其中 2 件按所填社区分到了该所的社区。" in response.get_data(as_text=True)
    cases = {c.person.name: c for c in db.session.scalars(db.select(Case))}
    assert cases["甲"].community.name == "东门社区" and cases["甲"].assignee_id == officer.id
    assert cases["乙"].community.name == "朝阳社区" and cases["乙"].assignee_id is None
    assert cases["丙"].community is None and cases["丙"].precinct_id == pcs01.id
    assert cases["丁"].precinct_id is None  # another group: still queued
    for name in "甲乙丙":
        kinds = [e.kind for e in db.session.scalars(db.select(CaseEvent).filter_by(case_id=cases[name].id))]
        assert EventKind.ROUTED in kinds
    told = {n.user_id: n.text for n in db.session.scalars(db.select(Notification).where(
        Notification.message.contains("中心分派")))}
    assert told == {lead.id: "中心分派了 3 件任务，请及时签收。", officer.id: "中心分派了 1 件任务，请及时签收。"}


def test_after_the_directory_learns_a_precinct_the_queue_is_routed_by_it(client, auth, make_user, make_precinct):
    make_precinct("PCS01", name="城东派出所", communities=("东门社区",))
    auth.login(make_user("center"))
    _queue_push(client, [("甲", "南山派出所", "南山社区"), ("乙", "北山派出所", "")])
    nothing = client.post("/cases/route-by-directory", follow_redirects=True).get_data(as_text=True)
    assert "目录中仍没有能匹配的派出所，队列中的 2 件未变" in nothing
    make_precinct("PCS09", name="南山派出所", communities=("南山社区",))
    page = client.post("/cases/route-by-directory", follow_redirects=True).get_data(as_text=True)
    assert "已按当前目录分派 1 件；仍有 1 件无法匹配" in page
    cases = {c.person.name: c for c in db.session.scalars(db.select(Case))}
    assert cases["甲"].precinct.name == "南山派出所" and cases["甲"].community.name == "南山社区"
    assert cases["乙"].precinct_id is None


def test_a_group_bigger_than_one_press_routes_in_parts(app, client, auth, make_user, make_precinct):
    app.config["ROUTE_AT_ONCE"] = 2
    pcs01 = make_precinct("PCS01", name="城东派出所", communities=("东门社区",))
    auth.login(make_user("center"))
    _queue_push(client, [("甲", "城东分所", ""), ("乙", "城东分所", ""), ("丙", "城东分所", "")])
    form = {"precinct_text": "城东分所", "destination": f"c:{pcs01.communities[0].id}"}
    first = client.post("/cases/route-group", data=form, follow_redirects=True).get_data(as_text=True)
    assert "已把 2 件分派到东门社区。还有 1 件，请再点一次。" in first
    second = client.post("/cases/route-group", data=form, follow_redirects=True).get_data(as_text=True)
    assert "已把 1 件分派到东门社区。" in second and "还有" not in second.split("已把 1 件")[1][:30]
    assert all(c.community_id == pcs01.communities[0].id for c in db.session.scalars(db.select(Case)))


def test_a_queued_case_is_in_the_group_its_newest_warning_names(client, auth, make_user, make_precinct):
    from dissuasion.cases.queries import unrouted_groups
    from dissuasion.imports.pipeline import import_file
    from tests import pushfiles as pf
    pcs01 = make_precinct("PCS01", name="城东派出所", communities=("东门社区",))
    center = make_user("center")
    auth.login(center)
    import_file("a.csv", pf.csv_bytes([pf.row(1, 所属派出所="北山所")]))
    import_file("b.csv", pf.csv_bytes([pf.row(1, 预警编号="YJ9000001", 所属派出所="南山所")]))
    db.session.commit()
    assert unrouted_groups(center) == [("南山所", 1)]
    gone = client.post("/cases/route-group", data={"precinct_text": "北山所", "destination": f"p:{pcs01.id}"},
                       follow_redirects=True).get_data(as_text=True)
    assert "队列中已没有这一组的任务" in gone
