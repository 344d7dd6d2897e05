"""Demo data for `make run` on an empty database: a directory, one user per role, a push.

Everything here is invented: names are random draws, ID numbers carry a valid GB 11643 check
digit on random birth dates, phone numbers are random. Tests use the same generator.
"""
import datetime as dt
import random
import secrets
from decimal import Decimal

from .audit.operations import record
from .auth.operations import create_user
from .cases.operations import WarningInput, register_warning
from .cases.rules import ensure_default_rules
from .directory.models import Community, Precinct
from .directory.operations import load_directory
from .enums import FraudType, Role, Tier
from .extensions import db
from .pii import id_check_digit
from .timeutil import now

DEMO_DIRECTORY = """precinct_code,precinct_name,community,community_officer
PCS01,城东派出所,东门社区,officer01
PCS01,城东派出所,朝阳社区,officer02
PCS01,城东派出所,枫树村,
PCS02,城西派出所,西门社区,officer03
PCS02,城西派出所,新华社区,
PCS03,南湖派出所,南湖社区,officer04
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


def demo_warnings(count: int, seed: int = 1) -> list[WarningInput]:
    """Realistic warnings spread over the demo directory's communities."""
    rng = random.Random(seed)
    communities = db.session.scalars(db.select(Community).join(Precinct).order_by(Community.id)).all()
    start = now() - dt.timedelta(hours=3)
    items = []
    for i in range(count):
        person, community = fake_person(rng), rng.choice(communities)
        tier = rng.choices(list(Tier), weights=[3, 15, 35, 47])[0]
        away = rng.random() < 0.1
        address = f"清河县{community.precinct.name[:2]}镇{community.name}{rng.randrange(1, 200)}号"
        items.append(WarningInput(
            warning_no=f"DEMO{start:%Y%m%d}{i + 1:05d}", tier=tier, pushed_at=start + dt.timedelta(minutes=2 * i),
            name=person["name"], sex=person["sex"], id_number=person["id_number"], id_valid=True,
            phone=person["phone"], phone_valid=True, reason=rng.choice(REASONS),
            fraud_type=rng.choice(list(FraudType)),
            amount_at_risk=Decimal(rng.randrange(10, 5000) * 100) if rng.random() < 0.4 else None,
            registered_address=address, current_address="浙江省杭州市（务工）" if away else address,
            precinct=community.precinct, community=community, precinct_text=community.precinct.name,
            community_text=community.name, away_from_home=away))
    return items


def load_demo(warnings: int = 60) -> dict[str, str]:
    """Fill an empty database; returns {username: password} to print once."""
    ensure_default_rules()
    load_directory(DEMO_DIRECTORY.encode())
    first = db.session.scalar(db.select(Precinct).filter_by(code="PCS01"))
    passwords = {}
    for username, role, precinct in (("admin", Role.ADMIN, None), ("center01", Role.CENTER, None),
                                     ("lead01", Role.LEAD, first)):
        passwords[username] = secrets.token_urlsafe(12)
        create_user(username, role, passwords[username], precinct=precinct)
    officer = db.session.scalar(db.select(Community).filter_by(name="东门社区")).officer
    passwords[officer.username] = secrets.token_urlsafe(12)
    from .auth.operations import set_password
    set_password(officer, passwords[officer.username])
    officer.must_change_password = False
    for item in demo_warnings(warnings):
        register_warning(item)
    record("demo_load", "database", "", warnings=warnings)
    return passwords
