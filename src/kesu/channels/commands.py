"""The channels' commands: `kesu mail listen|poll|held|register` (mail in). kesu/cli.py
registers them."""

from __future__ import annotations

import threading
from typing import Annotated

import typer
from rich.table import Table

from kesu.cli_common import console, open_runtime, problem_exit

mail_app = typer.Typer(help="邮件接入 Email in", no_args_is_help=True)


@mail_app.command("listen")
def mail_listen(
    host: Annotated[str, typer.Option(help="监听地址 Host to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 Port")] = 2525,
) -> None:
    """接收邮件的 SMTP 服务（收到即登记投诉）。An SMTP listener taking complaints by email."""
    from kesu.channels import mail_in, mail_smtp

    rt = open_runtime()
    server = mail_smtp.listener(rt, host, port)
    server.start()
    console.print(f"[bold]邮件接入已启动[/]：smtp://{host}:{port}（Ctrl+C 停止）")
    stop = threading.Event()
    try:
        while not stop.wait(60):
            mail_in.retry_pending(rt)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        console.print("邮件接入已停止。")


@mail_app.command("poll")
def mail_poll(
    url: Annotated[
        str | None, typer.Option(help="邮箱 imaps://用户:密码@主机/INBOX（默认 KESU_IMAP_URL）")
    ] = None,
) -> None:
    """收取一次 IMAP 邮箱。Poll the IMAP mailbox once."""
    from kesu.channels import mail_imap

    rt = open_runtime()
    url = url or rt.settings.imap_url
    if not url:
        console.print("[red]没有配置邮箱：请设置 KESU_IMAP_URL 或使用 --url。[/]")
        raise typer.Exit(1)
    counts = mail_imap.poll_once(rt, url)
    console.print(
        f"收取邮件 {counts['fetched']} 封：已保存 {counts['stored']} 封，"
        f"失败 {counts['failed']} 封。"
    )


@mail_app.command("held")
def mail_held() -> None:
    """列出待人工处理的邮件（没有找到电话号码等）。Mail held for an agent."""
    from kesu.channels import mail_held

    rows = mail_held.held(open_runtime())
    if not rows:
        console.print("没有待人工处理的邮件。")
        return
    table = Table(title="待人工处理的邮件 Mail held for an agent")
    for col in ("编号", "收到时间", "发件人", "主题", "原因"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["id"]), str(r["received_at"]), r["from"], r["subject"], r["note"])
    console.print(table)


@mail_app.command("register")
def mail_register(
    mail_id: Annotated[int, typer.Argument(help="邮件编号（kesu mail held）Mail id")],
    phone: Annotated[str, typer.Option(help="客户电话 The customer's phone number")],
) -> None:
    """补充电话后登记待处理的邮件。Register a held mail with the phone number given."""
    from kesu.channels import mail_held
    from kesu.problems import Problem

    try:
        out = mail_held.register_held(open_runtime(), mail_id, phone)
    except Problem as err:
        problem_exit(err)
        return
    if out.number:
        console.print(f"[green]已登记[/]：邮件 {mail_id} → 投诉单 {out.number}")
    else:
        console.print(f"邮件 {mail_id}：{out.note or out.status}")
