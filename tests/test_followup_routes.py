"""Adding and moving follow-ups from the case page: who may, what is checked, what the case shows."""
import datetime as dt

import pytest

from dissuasion.core.enums import FollowUpKind, FollowUpStatus, Method
from dissuasion.core.timeutil import SHANGHAI, now
from dissuasion.extensions import db
from dissuasion.followups.models import FollowUp
from dissuasion.followups.rules import schedule


def local_text(at: dt.datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def tomorrow():
    return (now() + dt.timedelta(days=1)).replace(second=0, microsecond=0)


def test_the_holder_adds_a_follow_up_in_local_time(client, auth, make_user, make_case, tomorrow):
    me = make_user("officer", precinct="PCS01")
    case = make_case(tier="medium", assignee=me)
    auth.login(me)
    response = client.post(f"/cases/{case.id}/followups", data={
        "due_at": local_text(tomorrow), "method": "visit", "note": "上门看看", "version": case.version})
    assert response.status_code == 302
    followup = db.session.scalar(db.select(FollowUp))
    assert followup.due_at == tomorrow and followup.method == Method.VISIT and followup.kind == FollowUpKind.MANUAL
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "上门看看" in page and "已安排回访" in page


def test_a_follow_up_decades_ahead_is_refused_as_a_mistyped_year(client, auth, make_user, make_case):
    me = make_user("officer", precinct="PCS01")
    case = make_case(assignee=me)
    auth.login(me)
    far = client.post(f"/cases/{case.id}/followups", data={"due_at": "2099-01-01T09:00", "method": "visit",
                                                           "version": case.version})
    assert far.status_code == 400 and "请检查年份" in far.get_data(as_text=True)
    assert db.session.scalar(db.select(FollowUp).filter_by(kind=FollowUpKind.MANUAL)) is None
    soon = client.post(f"/cases/{case.id}/followups", data={
        "due_at": local_text(now() + dt.timedelta(days=60)), "method": "visit", "version": case.version})
    assert soon.status_code == 302


def test_a_follow_up_in_the_past_or_without_a_method_is_refused(client, auth, make_user, make_case):
    me = make_user("officer", precinct="PCS01")
    case = make_case(assignee=me)
    auth.login(me)
    past = client.post(f"/cases/{case.id}/followups", data={
        "due_at": local_text(now() - dt.timedelta(hours=1)), "method": "visit", "note": "带上宣传册",
        "version": case.version})
    vague = client.post(f"/cases/{case.id}/followups", data={"due_at": "明天", "method": "", "note": "再打一次",
                                                             "version": case.version})
    assert db.session.scalar(db.select(FollowUp)) is None
    assert past.status_code == vague.status_code == 400
    page = past.get_data(as_text=True)  # the page comes back with what was typed, beside the problem
    assert "不能早于现在" in page and 'value="带上宣传册"' in page and '<option value="visit" selected>' in page
    page = vague.get_data(as_text=True)
    assert "请填写回访时间" in page and "请选择回访方式" in page and 'value="再打一次"' in page
    assert 'value="明天"' in page


def test_a_direct_close_refused_keeps_the_reason_typed(client, auth, make_user, make_case):
    me = make_user("officer", precinct="PCS01")
    case = make_case(assignee=me)
    auth.login(me)
    response = client.post(f"/cases/{case.id}/close", data={"outcome": "", "reason": "中心来电说是误报",
                                                            "version": case.version})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "请选择处置结果" in page and 'value="中心来电说是误报"' in page
    response = client.post(f"/cases/{case.id}/close", data={"outcome": "dissuaded", "reason": "已劝住",
                                                            "version": case.version})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'value="已劝住"' in page and 'class="error" role="alert"' in page


def test_a_pending_follow_up_is_moved_and_announced_again(client, auth, make_user, make_case, tomorrow):
    lead = make_user("lead", precinct="PCS01")
    case = make_case(tier="medium")
    followup = schedule(case, FollowUpKind.MANUAL, Method.PHONE, tomorrow)
    followup.notified_at = now()
    db.session.commit()
    auth.login(lead)
    later = tomorrow + dt.timedelta(days=2)
    response = client.post(f"/cases/{case.id}/followups/{followup.id}/move",
                           data={"due_at": local_text(later), "version": case.version})
    assert response.status_code == 302
    db.session.expire_all()
    moved = db.session.get(FollowUp, followup.id)
    assert moved.due_at == later and moved.notified_at is None and moved.status == FollowUpStatus.PENDING


def test_the_center_may_not_schedule_and_a_colleague_sees_no_case(client, auth, make_user, make_case, tomorrow):
    case = make_case(assignee=make_user("officer", precinct="PCS01"))
    auth.login(make_user("center"))
    refused = client.post(f"/cases/{case.id}/followups", data={"due_at": local_text(tomorrow), "method": "phone",
                                                               "version": case.version})
    assert db.session.scalar(db.select(FollowUp)) is None
    assert refused.status_code == 400 and "只有责任民警或本所领导" in refused.get_data(as_text=True)
    assert "只有责任民警或本所领导" not in client.get(f"/cases/{case.id}").get_data(as_text=True)  # said once
    auth.logout()
    auth.login(make_user("officer", precinct="PCS01"))
    assert client.post(f"/cases/{case.id}/followups", data={"due_at": local_text(tomorrow),
                                                            "method": "phone"}).status_code == 404


def test_a_follow_up_of_another_case_is_404(client, auth, make_user, make_case, tomorrow):
    me = make_user("officer", precinct="PCS01")
    mine, other = make_case(assignee=me), make_case(assignee=me)
    followup = schedule(other, FollowUpKind.MANUAL, Method.PHONE, tomorrow)
    db.session.commit()
    auth.login(me)
    assert client.post(f"/cases/{mine.id}/followups/{followup.id}/move",
                       data={"due_at": local_text(tomorrow)}).status_code == 404


def test_a_stale_page_moves_nothing(client, auth, make_user, make_case, tomorrow):
    me = make_user("lead", precinct="PCS01")
    case = make_case(tier="medium")
    followup = schedule(case, FollowUpKind.MANUAL, Method.PHONE, tomorrow)
    db.session.commit()
    stale = case.version - 1
    auth.login(me)
    client.post(f"/cases/{case.id}/followups/{followup.id}/move",
                data={"due_at": local_text(tomorrow + dt.timedelta(days=1)), "version": stale})
    db.session.expire_all()
    assert db.session.get(FollowUp, followup.id).due_at == tomorrow
