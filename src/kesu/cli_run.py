"""The running system's commands: `kesu serve` (with `--demo`), `kesu demo`, `kesu worker`
and `kesu db upgrade`; first admin and demo users printed at start. kesu/cli.py registers
them."""

from __future__ import annotations

import os
import threading
import time
from typing import Annotated

import typer
from rich.table import Table

from kesu.cli_common import console, describe_db, ensure_law_index, open_runtime, progress
from kesu.settings import Settings

db_app = typer.Typer(help="数据库 Database", no_args_is_help=True)


def serve(
    host: Annotated[str, typer.Option(help="监听地址 Host to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 Port")] = 8000,
    workers: Annotated[int, typer.Option(help="进程数 Server processes")] = 1,
    demo: Annotated[
        bool, typer.Option("--demo", help="首次启动时载入演示数据 Load demo data")
    ] = False,
    worker: Annotated[
        bool | None,
        typer.Option(help="内置时限监控 Run the deadline watcher (default: KESU_EMBEDDED_WORKER)"),
    ] = None,
    access_log: Annotated[
        bool,
        typer.Option(
            help="逐条记录请求（在反向代理后可关闭）Log every request (off behind a proxy)"
        ),
    ] = True,
) -> None:
    """启动 kesu 服务（首次启动自动建库）。Start the server; creates the database on first start."""
    import uvicorn

    if demo:
        os.environ["KESU_DEMO"] = "1"
        # Plain HTTP on a LAN address would drop Secure cookies; demo mode allows them.
        os.environ.setdefault("KESU_COOKIE_SECURE", "0")
    settings = Settings.from_env()
    rt = open_runtime()
    console.print(f"[green]数据库已就绪[/]：{describe_db(settings.database_url)}")
    ensure_law_index(rt)
    _first_admin(rt)
    if demo:
        _demo_users(rt, settings.mode)
        demo_data(rt, settings.mode)
    rt.close()
    if worker is not None:
        os.environ["KESU_EMBEDDED_WORKER"] = "1" if worker else "0"
    console.print(
        f"[bold]kesu 已启动[/]：http://{host}:{port}/ （登录页 Sign in）  "
        f"http://{host}:{port}/portal （客户门户 Portal）  "
        f"http://{host}:{port}/docs （API 文档）"
    )
    uvicorn.run(
        "kesu.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=access_log,
        http="httptools",
        loop="uvloop",
    )


def _first_admin(rt) -> None:
    from kesu.accounts import bootstrap

    password = bootstrap.bootstrap_admin(rt)
    if password:
        console.print(
            "[bold yellow]首次启动：已创建管理员 admin，一次性密码（只显示这一次）：[/]"
            f"[bold]{password}[/]\n登录后请立即修改密码（POST /api/v1/auth/password）。"
        )


CENTRE_ROLES = ("appeal_officer", "appeal_supervisor")


def _demo_users(rt, mode: str = "operator") -> None:
    """The demo users of the sides this installation runs (KESU_MODE), and a token."""
    from kesu.accounts import bootstrap, tokens

    table = Table(title="演示账号 Demo users（仅演示模式 demo mode only）")
    for col in ("用户名", "角色", "密码"):
        table.add_column(col)
    from kesu.accounts import roles as r

    for username, password, org in bootstrap.demo_users(rt):
        role = username.removeprefix("demo-")
        if (role in CENTRE_ROLES) != (mode == "centre") and mode != "both":
            continue
        name = r.roles()[role]["name"] + (f"（{org}）" if org else "")
        table.add_row(username, name, password)
    console.print(table)
    who = "demo-appeal_supervisor" if mode == "centre" else "demo-supervisor"
    token, _ = tokens.create_token(rt, "kesu-demo", who, "demo", expires_days=1)
    console.print(f"API 文档 /docs 右上角 Authorize 填入演示令牌（{who}，1 天有效）：\n" + token)


def demo_data(rt, mode: str, count: int | None = None) -> None:
    """The demo data of the sides KESU_MODE runs: the operator's complaints (operator,
    both), the appeal centre's operators and appeals (centre, both); each once."""
    from kesu.demo import replay

    if mode in ("operator", "both"):
        if replay.has_data(rt):
            console.print("已有投诉数据，跳过演示数据载入。")
        else:
            _load_demo(rt, count or replay.DEFAULT_COUNT, 2026)
    if mode in ("centre", "both"):
        _load_centre_demo(rt)


def _load_centre_demo(rt) -> None:
    from kesu.demo import appeals

    if appeals.has_data(rt):
        console.print("已有申诉数据，跳过申诉中心演示数据载入。")
        return
    with progress("载入申诉中心演示数据 Loading the appeal centre demo", appeals.count()) as m:
        summary = appeals.load(rt, progress=m.update)
    console.print(
        f"[green]申诉中心演示数据已载入[/]：{summary['appeals']} 件申诉，"
        f"其中办理中 {summary['open']} 件。"
    )


def _load_demo(rt, count: int, seed: int) -> None:
    from kesu.demo import replay

    with progress("载入演示数据 Loading demo data", count) as meter:
        summary = replay.load(rt, count=count, seed=seed, progress=meter.update)
    console.print(
        f"[green]演示数据已载入[/]：{summary['complaints']} 件投诉，"
        f"其中未结 {summary['open']} 件、超期 {summary['overdue']} 件、"
        f"重开 {summary['reopened']} 件、合并 {summary['merged']} 件。"
    )


def demo(
    count: Annotated[int, typer.Option(help="投诉数量 Number of complaints")] = 320,
    seed: Annotated[int, typer.Option(help="随机种子 Random seed")] = 2026,
    force: Annotated[
        bool, typer.Option("--force", help="已有数据时仍然载入 Load even if data exists")
    ] = False,
) -> None:
    """载入演示数据（最近90天）。Load demo data spread over the last 90 days."""
    from kesu.demo import replay

    rt = open_runtime()
    if replay.has_data(rt) and not force:
        console.print("[yellow]数据库中已有投诉，未载入。加 --force 仍然载入。[/]")
        raise typer.Exit(1)
    _load_demo(rt, count, seed)


def worker(
    once: Annotated[bool, typer.Option("--once", help="只运行一轮 Run one pass and exit")] = False,
    interval: Annotated[float | None, typer.Option(help="间隔秒数 Seconds between passes")] = None,
) -> None:
    """运行时限监控并发送外发消息。Watch deadlines and send the outbox (several may run)."""
    from kesu.deadlines import watcher

    rt = open_runtime()
    ensure_law_index(rt)
    wait = interval if interval is not None else rt.settings.watch_interval
    from kesu.channels import delivery, digest
    from kesu.complaints import retention
    from kesu.corrective import overdue

    stop = threading.Event()
    if not once:  # messages go out every second or so, whatever the watch interval
        threading.Thread(
            target=delivery.run, args=(rt, stop), name="kesu-outbox", daemon=True
        ).start()
        _mail_in(rt, stop)
    while True:
        n = watcher.watch_once(rt)
        w = watcher.warn_once(rt)
        kept = retention.run_daily(rt)
        if told := digest.send_due(rt):
            console.print(f"每日摘要已发给 {len(told)} 位班组长。")
        if late := overdue.tell_overdue(rt):
            console.print(f"整改任务逾期提醒 {len(late)} 件。")
        if kept is not None:
            console.print(
                f"保存期限：匿名化 {kept['anonymised']} 件，法律保全跳过 {len(kept['held'])} 件。"
            )
        if once:
            sent = delivery.deliver(rt)
            console.print(
                f"本轮标记超期时限 {n} 个，发出临期预警 {w} 个；消息发出 {sent['sent']} 条，"
                f"待重试 {sent['retry']} 条，失败 {sent['dead']} 条。"
            )
            return
        if n or w:
            console.print(f"本轮标记超期时限 {n} 个，发出临期预警 {w} 个。")
        time.sleep(wait)


def _mail_in(rt, stop: threading.Event) -> None:
    """Mail in, when configured: the SMTP listener (KESU_SMTP_INBOUND) and the IMAP
    poller (KESU_IMAP_URL, which also retries mail left pending)."""
    from kesu.channels import mail_imap, mail_in, mail_smtp

    if rt.settings.smtp_inbound:
        try:
            host, port = mail_smtp.parse_hostport(rt.settings.smtp_inbound)
            mail_smtp.listener(rt, host, port).start()
            console.print(f"邮件接入（SMTP）已启动：{host}:{port}")
        except Exception as e:  # a port taken by another worker: this one goes on without
            console.print(f"[red]邮件接入（SMTP）未能启动[/]：{e}")
        if not rt.settings.imap_url:  # the poller retries pending mail; else this thread
            threading.Thread(
                target=mail_in.retry_loop, args=(rt, stop), name="kesu-mail", daemon=True
            ).start()
    if rt.settings.imap_url:
        args = (rt, rt.settings.imap_url, stop, rt.settings.imap_interval)
        threading.Thread(target=mail_imap.run, args=args, name="kesu-imap", daemon=True).start()
        console.print(f"邮件接入（IMAP）已启动：{mail_imap.mailbox(rt.settings.imap_url).source}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """把数据库结构升级到最新版本。Migrate the database to the latest schema."""
    settings = Settings.from_env()
    with progress("升级数据库结构 Migrating the database"):
        open_runtime().close()
    console.print(f"[green]数据库已是最新结构[/]：{describe_db(settings.database_url)}")
