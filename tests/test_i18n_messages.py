"""Timeline entries and notifications are read in the reader's language, whoever wrote them and in which."""
import datetime as dt

from flask_babel import force_locale

from dissuasion.cases.dispatch import assign
from dissuasion.cases.models import CaseEvent
from dissuasion.core.enums import EventKind
from dissuasion.core.i18n import said_text, say
from dissuasion.core.timeutil import UTC
from dissuasion.extensions import db
from dissuasion.notifications.models import Notification

T0 = dt.datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


def _timeline(page: str) -> str:
    return page.split('class="timeline"')[1].split("</ol>")[0]


def test_a_contact_logged_in_english_reads_in_chinese_and_the_other_way(client, auth, make_user, make_case, clock):
    clock(T0)
    officer, lead = make_user("officer"), make_user("lead")
    case = make_case(tier="medium", assignee=officer)
    clock(T0 + dt.timedelta(minutes=20))
    auth.login(officer)
    client.post("/lang/en")
    response = client.post(f"/cases/{case.id}/contact", data={
        "method": "phone", "reached": "self", "contacted_at": "2026-11-16T09:10", "version": str(case.version),
        "action": "again"})
    assert response.status_code == 302
    stored = db.session.scalar(db.select(CaseEvent).filter_by(case_id=case.id, kind=EventKind.CONTACT))
    assert stored.message == "电话 · 本人"  # stored (and exported) in Chinese, whoever wrote it
    english = _timeline(client.get(f"/cases/{case.id}").get_data(as_text=True))
    assert "Phone · The person" in english and "First contact" in english and "电话" not in english
    auth.logout()
    auth.login(lead)
    client.post("/lang/zh_CN")
    chinese = _timeline(client.get(f"/cases/{case.id}").get_data(as_text=True))
    assert "电话 · 本人" in chinese and "首次联系" in chinese and "Phone" not in chinese


def test_a_notification_is_in_the_recipients_language_not_the_senders(client, auth, make_user, make_case):
    officer, lead = make_user("officer", display_name="王警官"), make_user("lead")
    case = make_case(tier="high", name="张三")
    with force_locale("en"):  # the lead works in English
        assign(case, officer, lead)
    db.session.commit()
    note = db.session.scalar(db.select(Notification).filter_by(user_id=officer.id))
    assert note.message == "新指派任务：张三（高风险）"
    auth.login(officer)
    assert "新指派任务：张三（高风险）" in client.get("/notifications").get_data(as_text=True)
    assert "指派给 王警官" in _timeline(client.get(f"/cases/{case.id}").get_data(as_text=True))
    client.post("/lang/en")
    assert "New case assigned: 张三 (High risk)" in client.get("/notifications").get_data(as_text=True)
    assert "Assigned to 王警官" in _timeline(client.get(f"/cases/{case.id}").get_data(as_text=True))


def test_sentences_nest_and_fall_back_to_what_was_stored(app):
    from dissuasion.core.enums import Method, Reached
    said = say("%(method)s · %(who)s", method=Method.PHONE, who=say("%(who)s（%(detail)s）", who=Reached.RELATIVE,
                                                                   detail="母亲"))
    assert said == "电话 · 亲友（母亲）"
    with app.test_request_context(), force_locale("en"):
        assert said_text(said.spec, said) == "Phone · Relative (母亲)"
        assert said_text(None, "旧的记录") == "旧的记录"  # written before sentences were kept
        assert said_text({"m": "%(gone)s", "a": {}}, "存的文字") == "存的文字"  # a value missing: the stored text
        assert said_text({"m": "x", "a": {"t": {"enum": "NoSuchEnum", "value": "x"}}}, "存的") == "存的"


def test_every_row_problem_has_english_words_with_the_same_places(app):
    import re

    from dissuasion.imports.rows import MESSAGES, said

    values = {"value": "X9", "first": 7, "other": "李四", "joined": "城东派出所"}
    with app.test_request_context():
        for key, chinese in MESSAGES.items():
            spec = {"k": str(key), **values}
            with force_locale("zh_CN"):
                assert said(spec) == chinese.format(**values)
            with force_locale("en"):
                english = said(spec, stored="stored")
            assert english != "stored" and not re.search(r"[\u4e00-\u9fff]{4}", english.replace("城东派出所", "")
                                                         .replace("李四", "")), (key, english)
            assert set(re.findall(r"{(\w+)}", chinese)) == set(re.findall(r"{(\w+)}", gettext_of(key))), key


def gettext_of(key) -> str:
    from dissuasion.imports.rows import MESSAGES
    with force_locale("en"):
        from flask_babel import gettext
        return gettext(MESSAGES[key])
