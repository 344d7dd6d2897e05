"""Flask commands (SPEC "Fixed points"). Each parses, calls operations, commits once, and reports."""
import atexit
import gc
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .. import scheduler as jobs
from ..api.tokens import DEFAULT_DAYS, create_api_token, tokens_of
from ..auth.models import ApiToken, User
from ..auth.operations import UserError, create_user, revoke_token, revoke_tokens, update_user
from ..cases.rules import ensure_default_rules
from ..core.enums import Role
from ..core.timeutil import local, now
from ..directory.models import Precinct
from ..directory.operations import DirectoryError, load_directory
from ..extensions import bind_migrations, db
from ..imports.models import COUNTERS, Push
from ..imports.pipeline import ImportRefused, ImportSummary, import_file
from ..privacy.keycheck import check_against_database
from ..privacy.pii import PIIKeyError
from .demodata import load_demo
from .maintenance import BackupError, add_pii_key, backup_database, reencrypt_pii, restore_database

users_cli = AppGroup("users", help="Manage user accounts.")
directory_cli = AppGroup("directory", help="The precinct directory.")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("密码 (至少 12 个字符)", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--precinct", "precinct_code", help="Precinct code (lead and officer).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--no-change", is_flag=True, help="Do not ask for a new password at the first login.")
@click.option("--service", is_flag=True,
              help="A service account (the center's pushing system): no password, cannot log in; use api-token.")
def users_create(name: str, role: str, precinct_code: str | None, password_stdin: bool, no_change: bool,
                 service: bool) -> None:
    """Create a user with a role (and a precinct for leads and officers). The password given here is an initial
    one: it must be changed at the first login unless --no-change is given."""
    precinct = None
    if precinct_code:
        precinct = db.session.scalar(db.select(Precinct).filter_by(code=precinct_code))
        if precinct is None:
            raise click.ClickException(f"派出所代码 {precinct_code} 不在目录中。请先运行 directory load。")
    try:
        create_user(name, Role(role), None if service else _read_password(password_stdin), precinct=precinct,
                    display_name="服务账号（接口）" if service else "", must_change_password=not (no_change or service))
    except UserError as exc:
        hint = "（用 --precinct 派出所代码 指定）" if "precinct" in exc.fields else ""
        raise click.ClickException(str(exc) + hint) from exc
    db.session.commit()
    if service:
        click.echo(f"已创建服务账号 {name}（{Role(role).label}）：不能登录网页，"
                   f"请用 api-token create {name} 为它生成令牌。")
    else:
        click.echo(f"已创建用户 {name}（{Role(role).label}）。"
                   + ("" if no_change else "首次登录时须修改密码。"))


@users_cli.command("disable")
@click.argument("name")
def users_disable(name: str) -> None:
    """Stop an account (someone who left): no login, its sessions and API tokens end, its open cases go back to
    the precinct's pool."""
    _set_active(name, False)


@users_cli.command("enable")
@click.argument("name")
def users_enable(name: str) -> None:
    """Put a stopped account back in use."""
    _set_active(name, True)


def _set_active(name: str, active: bool) -> None:
    user = db.session.scalar(db.select(User).filter_by(username=name))
    if user is None:
        raise click.ClickException(f"没有名为 {name} 的账号。")
    if not active and user.password_hash is None:
        raise click.ClickException(f"{name} 还没有设置密码，本来就无法登录。")
    try:
        changed = update_user(user, None, role=user.role, precinct=user.precinct, display_name=user.display_name,
                              active=active)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    state = "启用" if active else "停用"
    click.echo(f"已{state}账号 {name}。" if changed else f"账号 {name} 本来就是{state}状态，没有改动。")


@directory_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def directory_load(path: str) -> None:
    """Load or update the precinct directory from a CSV file."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        result = load_directory(data)
    except DirectoryError as exc:
        db.session.rollback()
        raise click.ClickException("目录文件有误，未导入任何内容：\n" + "\n".join(exc.problems)) from exc
    db.session.commit()
    click.echo(f"派出所：新增 {result.precincts_created}，更新 {result.precincts_updated}；"
               f"社区：新增 {result.communities_created}；社区民警账号：新建 {result.officers_created}（未启用，"
               f"需管理员设置密码）。")


@click.command("demo")
@click.option("--warnings", default=60, show_default=True)
def demo(warnings: int) -> None:
    """Load demo data into an empty database; does nothing if users exist."""

    if db.session.scalar(db.select(User.id).limit(1)) is not None:
        click.echo("数据库已有数据，保留现有数据，不加载演示数据。")
        return
    passwords = load_demo(warnings)
    db.session.commit()
    click.echo("演示数据已加载。以下账号密码只显示这一次 / demo logins (shown once):")
    for name, password in passwords.items():
        role = db.session.scalar(db.select(User).filter_by(username=name)).role
        click.echo(f"  {role.label:<6} {name:<10} {password}")
    click.echo("管理员和中心民警账号（admin、center01）首次登录时需设置双因素验证：在手机验证器应用"
               "（FreeOTP、Google/Microsoft Authenticator 等）中添加页面显示的密钥，再输入 6 位验证码。")


@click.command("init-rules")
def init_rules() -> None:
    """Insert the default tier rules where none are set."""
    added = ensure_default_rules()
    db.session.commit()
    click.echo(f"默认规则：新增 {added} 条。")


@click.command("scheduler")
@click.option("--run-once", is_flag=True, help="Run every job once, then exit (for cron and tests).")
def scheduler(run_once: bool) -> None:
    """The one scheduler process: overdue cases, due follow-ups, ended watch periods (Ctrl-C stops it)."""
    import logging


    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if run_once:
        for job_id, result in jobs.run_once(current_app._get_current_object()).items():
            click.echo(f"{job_id}: {result}")
        return
    click.echo("调度进程已启动（每分钟运行一次定时任务，并执行排队的导入；"
               "另一个调度进程在运行时本进程待命；Ctrl-C 停止）。")
    jobs.run_forever(current_app._get_current_object())
    click.echo("调度进程已停止。")


@click.command("worker")
@click.option("--once", is_flag=True, help="Run the next queued job, if any, then exit.")
@click.option("--threads", default=1, show_default=True, help="Jobs run at once by this process.")
def worker(once: bool, threads: int) -> None:
    """A job worker: runs queued jobs (pushes committed from the page, big API pushes); start any number, on any
    host, beside the one scheduler (Ctrl-C stops it after its current job)."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    if once:
        click.echo(f"job: {jobs.work_once(app)}")
        return
    click.echo("任务进程已启动（每秒查看一次排队的任务，Ctrl-C 停止）。")
    jobs.work(app, threads)
    click.echo("任务进程已停止。")


class MigrationCommands(click.Group):
    """`flask db …`: Flask-Migrate's commands (upgrade, migrate, downgrade…), imported when one is asked for.
    Flask-Migrate imports Alembic, and Alembic Mako and Pygments: bound in create_app, they were 0.15 s of the start
    of every other command, web worker and scheduler. The real group parses and runs the command line (make_context
    gives its context, and invoke runs that context's command), so `flask db upgrade`, `flask db --help` and their
    options are Flask-Migrate's own. Code that calls flask_migrate's functions itself (`flask shell`, a script) binds
    it first: extensions.bind_migrations(app)."""

    def __init__(self, app: Flask):
        super().__init__("db", help="Perform database migrations (Flask-Migrate).")
        self.app = app

    def make_context(self, info_name, args, parent=None, **extra):
        bind_migrations(self.app)
        from flask_migrate.cli import db as migration_group

        return migration_group.make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx):
        return ctx.command.invoke(ctx)  # the context make_context gave: Flask-Migrate's group (invoked on its own too)


def init_app(app: Flask) -> None:
    app.cli.add_command(MigrationCommands(app))
    for command in (users_cli, directory_cli, demo, init_rules, scheduler, worker):
        app.cli.add_command(command)
    init_security_commands(app)
    app.cli.add_command(api_token_cli)
    app.cli.add_command(import_list)


# --- The API (issue 5): bearer tokens -------------------------------------------------------------------

api_token_cli = AppGroup("api-token", help="Bearer tokens for the JSON API.")


@api_token_cli.command("create")
@click.argument("name")
@click.option("--days", default=DEFAULT_DAYS, show_default=True, type=int, help="Days until the token expires.")
@click.option("--label", default="", help="What the token is for (default: the account's name).")
def api_token_create(name: str, days: int, label: str) -> None:
    """Create a token that acts as the active user NAME; it is printed once and only its sha256 is kept."""

    user = db.session.scalar(db.select(User).filter_by(username=name))
    if user is None or not user.active:
        raise click.ClickException(f"没有名为 {name} 的在用账号。请先运行 users create。")
    try:
        token = create_api_token(user, label or name, days=days)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(token)
    click.echo(f"以上令牌代表 {name}（{user.role.label}），{days} 天后过期，只显示这一次；"
               f"请求时使用 Authorization: Bearer <令牌>。", err=True)


@api_token_cli.command("list")
@click.argument("name", required=False)
def api_token_list(name: str | None) -> None:
    """List the tokens (of user NAME, or everyone's): id, account, name, state, expiry, last use and address."""
    user = None
    if name:
        user = db.session.scalar(db.select(User).filter_by(username=name))
        if user is None:
            raise click.ClickException(f"没有名为 {name} 的账号。")
    at = now()
    for token in tokens_of(user):
        state = ("已吊销" if token.revoked else "账号已停用" if not token.user.active
                 else "有效" if token.usable(at) else "已过期")
        used = f"{local(token.last_used_at):%Y-%m-%d %H:%M} {token.last_used_ip}" if token.last_used_at else "从未使用"
        expires = f"{local(token.expires_at):%Y-%m-%d %H:%M}" if token.expires_at else "长期"
        click.echo(f"{token.id}\t{token.user.username}\t{token.name}\t{state}\t到期 {expires}\t上次使用 {used}")


@api_token_cli.command("revoke")
@click.argument("token_id", type=int, required=False)
@click.option("--user", "username", help="Revoke every token of this account.")
def api_token_revoke(token_id: int | None, username: str | None) -> None:
    """Revoke one token by its id (see list), or every token of --user NAME; it stops working at once."""
    if (token_id is None) == (username is None):
        raise click.ClickException("请给出令牌编号（api-token list 可查），或用 --user 账号 吊销该账号的全部令牌。")
    if username:
        user = db.session.scalar(db.select(User).filter_by(username=username))
        if user is None:
            raise click.ClickException(f"没有名为 {username} 的账号。")
        count = revoke_tokens(user, None, reason="cli")
        db.session.commit()
        click.echo(f"已吊销 {username} 的 {count} 个令牌。")
        return
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"没有编号为 {token_id} 的令牌。")
    done = revoke_token(token, None, reason="cli")
    db.session.commit()
    click.echo(f"已吊销令牌 {token_id}（{token.user.username} · {token.name}）。" if done
               else f"令牌 {token_id} 此前已经吊销。")


# --- Security and maintenance (issue 7): key rotation, backup, restore ---------------------------------

pii_cli = AppGroup("pii", help="Encryption of ID and phone numbers.")


@contextmanager
def _refused_as_click_error():
    """Key, backup and restore failures carry a Chinese message that says what to do: show it, exit 1."""

    try:
        yield
    except (BackupError, PIIKeyError) as exc:
        raise click.ClickException(str(exc)) from exc


@pii_cli.command("rotate")
@click.option("--new-key", is_flag=True, help="Append a new key to instance/config.py and make it current first.")
def pii_rotate(new_key: bool) -> None:
    """Re-encrypt every ID and phone number under the current key (PII_KEY_ID)."""

    if new_key:
        with _refused_as_click_error():
            key_id = add_pii_key(current_app)
            check_against_database(current_app.config)  # the new key recorded before a number is written with it
        click.echo(f"已在 instance/config.py 添加新密钥 {key_id} 并设为当前密钥；旧密钥保留（旧备份仍需要它）。"
                   "请把新的 instance/config.py 复制到其他主机。")
    count = reencrypt_pii(current_app.config["PII_KEY_ID"])
    db.session.commit()
    click.echo(f"已用密钥 {current_app.config['PII_KEY_ID']} 重新加密 {count} 个号码。"
               + ("请重启 Web 和调度进程以使用新密钥。" if new_key else ""))


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The backup file to write.")
def backup(out: str) -> None:
    """Back up the database while it runs (SQLite online backup; PostgreSQL pg_dump -Fc)."""

    with _refused_as_click_error():
        checksum = backup_database(Path(out))
    db.session.commit()
    click.echo(f"备份已写入 {out}（sha256 {checksum}）。请同时备份 instance/config.py（加密密钥），否则号码无法解密。")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(path: str, yes: bool) -> None:
    """Replace the whole database with a backup file; stop the web server and scheduler first."""

    if not yes:
        click.confirm(f"用 {path} 替换当前数据库的全部数据？请先停止 Web 和调度进程。", abort=True)
    with _refused_as_click_error():
        restore_database(Path(path))
    db.session.commit()
    click.echo(f"已从 {path} 恢复数据库。请确认 instance/config.py 中有备份时使用的加密密钥，然后启动服务。")


def init_security_commands(app: Flask) -> None:
    for command in (pii_cli, backup, restore):
        app.cli.add_command(command)


# --- Imports (issue 3): the center's list from the command line ---------------------------------------


#: The text summary lists this many row problems; --json lists them all.
CLI_ERRORS_SHOWN = 50


def _quick_exit(engine) -> None:
    """At this process' exit (atexit; under a test's CLI runner, at the end of the whole test run), close the
    engine's connections, then hand every object still alive to the garbage collector's permanent generation
    (gc.freeze): the interpreter's own collections as it exits then have nothing to walk. They took 0.3-0.45 s
    after a 100,000-row import (the objects it leaves are scattered over memory) and about 0.2 s after any command.
    Only import-list does it: staff run it for every push, and issue 23 counts its whole process. What exit does
    still happens: the other atexit functions, the output flushed, SQLite's connection closed as always (the commit
    has checkpointed its WAL), and the process' memory given back whole; only objects in reference cycles are not
    finalised one by one."""
    def close_and_freeze() -> None:
        engine.dispose()
        gc.freeze()
    atexit.register(close_and_freeze)


@click.command("import-list")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (SPEC \"Fixed points\").")
def import_list(path: str, as_json: bool) -> None:
    """Import a warning list (.xlsx, .xls, .csv); exit 1 when the file is refused (nothing written)."""
    import json


    try:
        summary = import_file(Path(path).name, Path(path).read_bytes())
        db.session.commit()
        code = 0
        push = db.session.get(Push, summary.push_id) if summary.push_id and summary.status == "committed" else None
        ignored = push.unknown_headers() if push is not None else []
    except ImportRefused as exc:
        db.session.rollback()
        summary, code, ignored = ImportSummary(status="refused", message=str(exc)), 1, []
    except BaseException:
        db.session.rollback()
        raise
    _quick_exit(db.engine)
    if as_json:
        data = summary.as_json()
        click.echo(json.dumps({k: data[k] for k in ("status", "message", *COUNTERS, "errors")}, ensure_ascii=False))
    else:
        click.echo(summary.message, err=code != 0)
        if ignored:  # the web preview lists them as 未识别，忽略
            click.echo(f"  未识别的列（其中的内容没有导入）：{'、'.join(ignored)}")
        for error in summary.errors[:CLI_ERRORS_SHOWN]:
            click.echo(f"  第 {error['row']} 行 {error['column']}：{error['message']}")
        if len(summary.errors) > CLI_ERRORS_SHOWN:
            click.echo(f"  ……另有 {len(summary.errors) - CLI_ERRORS_SHOWN} 条问题（--json 列出全部）。")
    click.get_current_context().exit(code)
