"""The fixed CLI commands of SPEC: users create, directory load, demo."""
from dissuasion.auth.models import User
from dissuasion.cases.models import Case
from dissuasion.core.enums import Role
from dissuasion.directory.models import Community, Precinct
from dissuasion.extensions import db

DIRECTORY = """precinct_code,precinct_name,community,community_officer
PCS01,城东派出所,东门社区,officer01
PCS01,城东派出所,朝阳社区,officer02
PCS02,城西派出所,西门社区,officer03
PCS02,城西派出所,新华社区,
"""


def _write(tmp_path, text: str, name: str = "directory.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_users_create_reads_password_from_stdin(runner, make_precinct):
    make_precinct("PCS01")
    result = runner.invoke(args=["users", "create", "zhang", "--role", "lead", "--precinct", "PCS01",
                                 "--password-stdin"], input="a-long-enough-password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User).filter_by(username="zhang"))
    assert user.role == Role.LEAD and user.precinct.code == "PCS01"
    assert user.password_hash.startswith("$argon2id$")


def test_users_create_refuses_a_short_password_and_writes_nothing(runner):
    result = runner.invoke(args=["users", "create", "li", "--role", "center", "--password-stdin"], input="short\n")
    assert result.exit_code != 0
    assert "至少需要 12 个字符" in result.output
    assert db.session.scalar(db.select(User).filter_by(username="li")) is None


def test_users_create_needs_a_known_precinct_for_officers(runner):
    result = runner.invoke(args=["users", "create", "wang", "--role", "officer", "--precinct", "NOPE",
                                 "--password-stdin"], input="a-long-enough-password\n")
    assert result.exit_code != 0
    assert "NOPE" in result.output and "不在目录中" in result.output
    result = runner.invoke(args=["users", "create", "wang", "--role", "officer", "--password-stdin"],
                           input="a-long-enough-password\n")
    assert result.exit_code != 0 and "必须属于一个派出所" in result.output


def test_directory_load_creates_precincts_communities_and_inactive_officers(runner, tmp_path):
    result = runner.invoke(args=["directory", "load", _write(tmp_path, DIRECTORY)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Precinct)) == 2
    assert db.session.scalar(db.select(db.func.count()).select_from(Community)) == 4
    officer = db.session.scalar(db.select(User).filter_by(username="officer01"))
    assert officer.role == Role.OFFICER and officer.precinct.code == "PCS01"
    assert officer.active is False and officer.password_hash is None
    east = db.session.scalar(db.select(Community).filter_by(name="东门社区"))
    assert east.officer == officer


def test_directory_load_again_updates_and_never_duplicates(runner, tmp_path):
    runner.invoke(args=["directory", "load", _write(tmp_path, DIRECTORY)])
    renamed = DIRECTORY.replace("城西派出所", "城西新区派出所") + "PCS03,南湖派出所,南湖社区,\n"
    result = runner.invoke(args=["directory", "load", _write(tmp_path, renamed, "v2.csv", "gb18030")])
    assert result.exit_code == 0, result.output
    assert [p.name for p in db.session.scalars(db.select(Precinct).order_by(Precinct.code))] == \
        ["城东派出所", "城西新区派出所", "南湖派出所"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Community)) == 5
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 3


def test_directory_with_errors_is_refused_whole_with_row_numbers(runner, tmp_path):
    bad = DIRECTORY + "PCS03,,南湖社区,\nPCS01,另一个名字,北门社区,\n"
    result = runner.invoke(args=["directory", "load", _write(tmp_path, bad)])
    assert result.exit_code != 0
    assert "第 6 行" in result.output and "precinct_name 为空" in result.output
    assert "第 7 行" in result.output and "两个名称" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Precinct)) == 0


def test_directory_naming_another_precincts_officer_says_whose_and_how_to_fix(runner, tmp_path):
    runner.invoke(args=["directory", "load", _write(tmp_path, DIRECTORY)])
    moved = DIRECTORY + "PCS02,城西派出所,河西社区,officer01\n"
    result = runner.invoke(args=["directory", "load", _write(tmp_path, moved, "v2.csv")])
    assert result.exit_code != 0
    assert "第 6 行" in result.output and "officer01 属于城东派出所（PCS01）" in result.output
    assert "用户管理" in result.output and "河西社区" not in {c.name for c in db.session.scalars(db.select(Community))}


def test_demo_fills_an_empty_database_once_and_keeps_data(runner):
    result = runner.invoke(args=["demo", "--warnings", "20"])
    assert result.exit_code == 0, result.output
    for name in ("admin", "center01", "lead01", "officer01"):
        assert name in result.output
        assert db.session.scalar(db.select(User).filter_by(username=name)).active
    users = db.session.scalar(db.select(db.func.count()).select_from(User))
    again = runner.invoke(args=["demo"])
    assert "保留现有数据" in again.output
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == users


def test_demo_logins_work(app, runner):
    output = runner.invoke(args=["demo", "--warnings", "10"]).output
    passwords = {line.split()[1]: line.split()[2] for line in output.splitlines() if line.startswith("  ")}
    client = app.test_client()
    response = client.post("/login", data={"username": "officer01", "password": passwords["officer01"]})
    assert response.status_code == 302
    assert "我的任务" in client.get("/cases/").get_data(as_text=True)


def test_users_disable_stops_an_account_and_frees_its_cases_and_enable_puts_it_back(runner, make_user, make_case,
                                                                                  auth):
    officer = make_user("officer")
    case = make_case(assignee=officer)
    result = runner.invoke(args=["users", "disable", officer.username])
    assert result.exit_code == 0 and "已停用" in result.output
    db.session.expire_all()
    assert not db.session.get(User, officer.id).active and db.session.get(Case, case.id).assignee_id is None
    assert "用户名或密码错误" in auth.login(officer).get_data(as_text=True)
    again = runner.invoke(args=["users", "disable", officer.username])
    assert again.exit_code == 0 and "没有改动" in again.output
    assert runner.invoke(args=["users", "enable", officer.username]).exit_code == 0
    assert auth.login(officer).status_code == 302
    missing = runner.invoke(args=["users", "disable", "nobody"])
    assert missing.exit_code != 0 and "没有名为 nobody 的账号" in missing.output


SAMPLES_STYLE = """precinct_code,precinct_name,community,community_officer
PCS01,城东派出所,东门社区,officer01
PCS01,城东派出所,朝阳社区,officer02
PCS01,城东派出所,和平社区,officer03
PCS01,城东派出所,东溪村,officer04
PCS02,城西派出所,西门社区,officer07
PCS02,城西派出所,河西社区,officer08
PCS03,城南派出所,南湖社区,officer13
PCS04,城北派出所,北关社区,officer19
"""


def test_a_county_directory_numbered_like_the_samples_loads_over_the_demo_and_back(runner, tmp_path):
    """../shared/samples/directory.csv numbers officer01-06 in PCS01, officer07-12 in PCS02...: the demo's
    community officers follow it, so neither file is refused after the other."""
    from dissuasion.cli.demodata import DEMO_DIRECTORY

    assert runner.invoke(args=["demo", "--warnings", "5"]).exit_code == 0
    county, demo = tmp_path / "county.csv", tmp_path / "demo.csv"
    county.write_text(SAMPLES_STYLE, encoding="utf-8")
    demo.write_text(DEMO_DIRECTORY, encoding="utf-8")
    for path in (county, demo, county):
        result = runner.invoke(args=["directory", "load", str(path)])
        assert result.exit_code == 0, result.output
    officer = db.session.scalar(db.select(User).filter_by(username="officer03"))
    assert officer.precinct.code == "PCS01"
