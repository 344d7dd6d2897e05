"""Demo data for `make run` on an empty database: a directory, one user per role, a push.

The push is a file made here as a center exports it (title row, a few damaged rows, a totals row) and
imported through the same pipeline as a real upload, so its push page shows real row errors.

Everything here is invented: names are random draws, ID numbers carry a valid GB 11643 check
digit on random birth dates, phone numbers are random. Tests use the same generator.
"""
import csv
import datetime as dt
import io
import random
import secrets

from ..auth.operations import create_user, set_password
from ..cases.rules import ensure_default_rules
from ..core.auditlog import record
from ..core.enums import FraudType, Role, Tier
from ..core.timeutil import local, now
from ..directory.models import Community, Precinct
from ..directory.operations import load_directory
from ..extensions import db
from ..imports.pipeline import import_file
from ..prevention.operations import record_activity, set_app_target
from ..prevention.validation import parse_activity
from ..privacy.pii import id_check_digit
from ..watch.operations import EntryInput, create_entry, find_or_create_person, kind_by_code

#: The demo's directory numbers its community officers as ../shared/samples/directory.csv does (officer01-06 in
#: PCS01, officer07-12 in PCS02, officer13-18 in PCS03), so a county's own file of that shape loads over the demo:
#: with officer03 in PCS02 here it was refused (officer03 is PCS01's there).
DEMO_DIRECTORY = """precinct_code,precinct_name,community,community_officer
PCS01,城东派出所,东门社区,officer01
PCS01,城东派出所,朝阳社区,officer02
PCS01,城东派出所,枫树村,
PCS02,城西派出所,西门社区,officer07
PCS02,城西派出所,新华社区,
PCS03,南湖派出所,南湖社区,officer13
PCS03,南湖派出所,湖滨村,
"""

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华玉萍红玲芬燕彬建国志海春梅德淑珍凤永金文晓东子涵雨桐欣怡浩然"
PHONE_PREFIXES = ("130", "133", "135", "138", "139", "150", "158", "166", "177", "186", "189", "199")
REASONS = ("安装涉诈APP", "与涉诈电话通话", "接收涉诈短信", "向涉诈账户转账", "96110来电预警")


def fake_id_number(rng: random.Random, area: str = "339901") -> str:
    birth = dt.date(1945, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 60))
    body = f"{area}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return body + id_check_digit(body)


def fake_person(rng: random.Random) -> dict:
    return {
        "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
        "sex": rng.choice("男女"),
        "id_number": fake_id_number(rng),
        "phone": rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}",
    }


#: The center's export as a Chinese Excel saves it: these headers, tiers written the way centers write them.
PUSH_HEADER = ("预警编号", "推送时间", "姓名", "性别", "身份证号", "手机号", "风险等级", "预警原因", "疑似诈骗类型",
               "拟转账金额(元)", "户籍地址", "现住址", "所属派出所", "所属社区", "是否外出务工", "备注")
TIER_WORDS = {Tier.EXTRA_HIGH: "特高危", Tier.HIGH: "高风险", Tier.MEDIUM: "中", Tier.LOW: "低"}
DEMO_PUSH_NAME = "预警名单-演示.csv"


def demo_push_rows(count: int, seed: int = 1) -> list[list[str]]:
    """Realistic rows spread over the demo directory's communities, in PUSH_HEADER order."""
    rng = random.Random(seed)
    communities = db.session.scalars(db.select(Community).join(Precinct).order_by(Community.id)).all()
    start = local(now() - dt.timedelta(hours=3))
    rows = []
    for i in range(count):
        person, community = fake_person(rng), rng.choice(communities)
        tier = rng.choices(list(Tier), weights=[3, 15, 35, 47])[0]
        away = rng.random() < 0.1
        address = f"清河县{community.precinct.name[:2]}镇{community.name}{rng.randrange(1, 200)}号"
        amount = f"{rng.randrange(10, 5000) * 100}.00" if rng.random() < 0.4 else ""
        rows.append([f"DEMO{start:%Y%m%d}{i + 1:05d}", f"{start + dt.timedelta(minutes=2 * i):%Y-%m-%d %H:%M:%S}",
                     person["name"], person["sex"], person["id_number"], person["phone"], TIER_WORDS[tier],
                     rng.choice(REASONS), str(rng.choice(list(FraudType)).label), amount, address,
                     "浙江省杭州市（务工）" if away else address, community.precinct.name, community.name,
                     "是" if away else "否", ""])
    return rows


def _damage(rows: list[list[str]]) -> None:
    """What real pushes carry: a wrong check digit, a short ID, a bad phone, no tier, an unknown precinct."""
    id_col, phone_col, tier_col, precinct_col = (PUSH_HEADER.index(h) for h in ("身份证号", "手机号", "风险等级",
                                                                                 "所属派出所"))
    good = rows[1][id_col]
    rows[1][id_col] = good[:17] + ("0" if good[17] != "0" else "1")
    rows[3][id_col] = rows[3][id_col][:15]
    rows[5][phone_col] = "1380013"
    rows[7][tier_col] = ""
    rows[9][precinct_col], rows[9][precinct_col + 1] = "北山派出所", "北山村"


def demo_push_file(count: int, seed: int = 1) -> bytes:
    """A push as a center sends it (CSV from a Chinese Excel, with BOM): a title row, damaged rows, a totals row."""
    rows = demo_push_rows(count, seed)
    if count >= 10:
        _damage(rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"清河县反诈中心预警名单（{local(now()):%Y年%m月%d日}）"])
    writer.writerow([])
    writer.writerow(PUSH_HEADER)
    writer.writerows(rows)
    writer.writerow(["合计", f"{len(rows)} 条"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _demo_prevention(officer, lead, admin) -> None:
    """Last week's publicity work of 城东派出所 and an APP registration target for 东门社区, so the 宣传工作 page, the
    report's 宣传防范 section and the boards' progress have something to show."""
    today = local(now()).date()
    monday = today - dt.timedelta(days=today.weekday() + 7)
    for by, fields in ((officer, {"kind": "lecture", "community": "东门社区", "participants": "社区民警、网格员",
                                  "people": "120", "materials": "300", "app_registrations": "15"}),
                       (officer, {"kind": "banner", "community": "朝阳社区", "banners": "6", "officers": "2"}),
                       (lead, {"kind": "street", "place": "城东农贸市场", "people": "260", "materials": "800",
                               "app_registrations": "32", "officers": "4"})):
        record_activity(parse_activity({"held_on": (monday + dt.timedelta(days=2)).isoformat(), **fields},
                                       officer.precinct), by)
    community = db.session.scalar(db.select(Community).filter_by(name="东门社区"))
    set_app_target(community, 200, monday, admin)


def _demo_watch(precinct: Precinct, officer, lead) -> None:
    """A person back from abroad on the 东门社区 officer's watch list, with a cadre, their weekly meeting overdue."""
    community = db.session.scalar(db.select(Community).filter_by(name="东门社区"))
    person = find_or_create_person("吴回流", phone="13912340001")
    create_entry(person, EntryInput(kind_id=kind_by_code("returnee").id, precinct_id=precinct.id,
                                    officer_id=officer.id, community_id=community.id, cadre_name="钱书记",
                                    cadre_phone="13800002222",
                                    starts_on=local(now()).date() - dt.timedelta(days=8)), lead)


def load_demo(warnings: int = 60) -> dict[str, str]:
    """Fill an empty database; returns {username: password} to print once."""
    ensure_default_rules()
    load_directory(DEMO_DIRECTORY.encode())
    first = db.session.scalar(db.select(Precinct).filter_by(code="PCS01"))
    passwords = {}
    users = {}
    for username, role, precinct in (("admin", Role.ADMIN, None), ("center01", Role.CENTER, None),
                                     ("lead01", Role.LEAD, first)):
        passwords[username] = secrets.token_urlsafe(12)
        users[username] = create_user(username, role, passwords[username], precinct=precinct)
    officer = db.session.scalar(db.select(Community).filter_by(name="东门社区")).officer
    passwords[officer.username] = secrets.token_urlsafe(12)
    set_password(officer, passwords[officer.username])
    officer.must_change_password = False
    import_file(DEMO_PUSH_NAME, demo_push_file(warnings), by=users["center01"])
    _demo_prevention(officer, users["lead01"], users["admin"])
    _demo_watch(first, officer, users["lead01"])
    record("demo_load", "database", "", warnings=warnings)
    return passwords
