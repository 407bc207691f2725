"""The accounts' commands: `kesu user …` (users, roles, the permission matrix),
`kesu token create|revoke`, `kesu keys rotate`, `kesu retention run`. kesu/cli.py registers
them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from kesu.cli_common import cli_actor, console, open_runtime, problem_exit, progress

user_app = typer.Typer(help="用户与角色 Users and roles", no_args_is_help=True)
token_app = typer.Typer(help="API 令牌 Bearer tokens", no_args_is_help=True)
keys_app = typer.Typer(help="个人信息加密密钥 Encryption keys", no_args_is_help=True)
retention_app = typer.Typer(help="保存期限与匿名化 Retention", no_args_is_help=True)


USERNAME = Annotated[str, typer.Argument(help="用户名 Username")]


@user_app.command("add")
def user_add(
    username: USERNAME,
    role: Annotated[str, typer.Option(help="角色 Role: agent, handler, supervisor, …")],
    password: Annotated[
        str | None, typer.Option(help="密码（省略则生成一次性密码） Password")
    ] = None,
    org: Annotated[str | None, typer.Option(help="代理商 Reseller organisation")] = None,
    team: Annotated[str | None, typer.Option(help="班组 Team")] = None,
    name: Annotated[str | None, typer.Option(help="姓名 Display name")] = None,
) -> None:
    """新建用户。Add a user (a one-time password is printed when none is given)."""
    from kesu.accounts import users
    from kesu.problems import Problem

    rt = open_runtime()
    try:
        user, generated = users.create_user(
            rt, cli_actor(), username, role, password, org, team, name
        )
    except Problem as err:
        problem_exit(err)
        return
    console.print(f"[green]已创建用户[/] {user['username']}（{user['role_name']}）")
    if generated:
        console.print(f"一次性密码（只显示这一次）：[bold]{generated}[/]")


@user_app.command("role")
def user_role(
    username: USERNAME,
    role: Annotated[str, typer.Argument(help="新角色 New role: agent, handler, supervisor, …")],
    org: Annotated[str | None, typer.Option(help="代理商 Reseller organisation")] = None,
) -> None:
    """修改用户角色。Change a user's role."""
    from kesu.accounts import users
    from kesu.problems import Problem

    try:
        user = users.set_role(open_runtime(), cli_actor(), username, role, org)
    except Problem as err:
        problem_exit(err)
        return
    console.print(f"[green]已修改[/] {user['username']} → {user['role_name']}")


@user_app.command("disable")
def user_disable(username: USERNAME) -> None:
    """停用用户（立即结束其会话）。Disable a user; their sessions end at once."""
    from kesu.accounts import users
    from kesu.problems import Problem

    try:
        users.set_active(open_runtime(), cli_actor(), username, False)
    except Problem as err:
        problem_exit(err)
        return
    console.print(f"[green]已停用[/] {username}")


@user_app.command("enable")
def user_enable(username: USERNAME) -> None:
    """重新启用用户。Enable a user again."""
    from kesu.accounts import users
    from kesu.problems import Problem

    try:
        users.set_active(open_runtime(), cli_actor(), username, True)
    except Problem as err:
        problem_exit(err)
        return
    console.print(f"[green]已启用[/] {username}")


@user_app.command("list")
def user_list() -> None:
    """列出用户。List users."""
    from kesu.accounts import users

    table = Table(title="用户 Users")
    for col in ("用户名", "角色", "代理商", "状态", "最近登录"):
        table.add_column(col)
    for u in users.list_users(open_runtime(), cli_actor()):
        table.add_row(
            u["username"],
            u["role_name"],
            u["org"] or "",
            "启用" if u["active"] else "[red]停用[/]",
            u["last_login_at"] or "",
        )
    console.print(table)


@user_app.command("roles")
def user_roles(
    markdown: Annotated[bool, typer.Option("--markdown", help="输出权限矩阵 Markdown")] = False,
) -> None:
    """角色与权限矩阵。The roles and what each may do."""
    from kesu.accounts import roles as r

    if markdown:
        typer.echo(permission_matrix_markdown(), nl=False)
        return
    table = Table(title="角色与权限 Roles and permissions")
    table.add_column("权限")
    for role in r.roles().values():
        table.add_column(role["name"])
    for code, perm in r.permissions().items():
        table.add_row(
            perm["name"],
            *("✓" if code in role["permissions"] else "" for role in r.roles().values()),
        )
    console.print(table)


def permission_matrix_markdown() -> str:
    from kesu.accounts import roles as r

    roles = r.roles()
    lines = [
        "| 权限 permission | " + " | ".join(f"{v['name']} {k}" for k, v in roles.items()) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for code, perm in r.permissions().items():
        marks = " | ".join("✓" if code in v["permissions"] else "" for v in roles.values())
        lines.append(f"| {perm['name']} `{code}` | {marks} |")
    scope = " | ".join("本代理商" if v.get("scope") == "org" else "全部" for v in roles.values())
    lines.append(f"| 可见范围 scope | {scope} |")
    return "\n".join(lines) + "\n"


@token_app.command("create")
def token_create(
    username: Annotated[str, typer.Argument(help="令牌所属用户 The token's user")],
    expires: Annotated[int | None, typer.Option(help="有效天数 Days until it expires")] = 90,
    name: Annotated[str, typer.Option(help="用途 What it is for")] = "cli",
    scope: Annotated[
        list[str] | None, typer.Option(help="限定权限（可多次） Limit to permissions")
    ] = None,
) -> None:
    """为用户创建 API 令牌（只显示一次）。Create a bearer token; it is printed once."""
    from kesu.accounts import tokens
    from kesu.problems import Problem

    try:
        raw, view = tokens.create_token(
            open_runtime(), cli_actor(), username, name, expires, scope or None
        )
    except Problem as err:
        problem_exit(err)
        return
    until = view["expires_at"] or "不过期"
    console.print(f"[green]已创建令牌[/] #{view['id']}（{view['user']}，有效期至 {until}）")
    console.print("令牌（只显示这一次，请妥善保存）：")
    typer.echo(raw)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="令牌编号 Token id")],
) -> None:
    """吊销令牌。Revoke a token."""
    from kesu.accounts import tokens
    from kesu.problems import Problem

    try:
        tokens.revoke_token(open_runtime(), cli_actor(), token_id)
    except Problem as err:
        problem_exit(err)
        return
    console.print(f"[green]已吊销令牌[/] #{token_id}")


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只报告，不修改 Report only")] = False,
) -> None:
    """按保存期限匿名化已归档投诉的个人信息。Anonymise closed complaints past their period."""
    from kesu.complaints import retention

    rt = open_runtime()
    with progress("保存期限检查 Retention"):
        result = retention.run(rt, cli_actor(), dry_run=dry_run)
    pol = result["policy"]
    console.print(
        f"保存期限：归档后 {pol['default_years']} 年"
        + "".join(f"，{k} {v} 年" for k, v in pol["by_kind"].items())
    )
    verb = "将匿名化" if dry_run else "已匿名化"
    count = result["due"] if dry_run else result["anonymised"]
    console.print(f"[green]{verb} {count} 件投诉[/]" + ("（未做任何修改）" if dry_run else ""))
    if result["numbers"]:
        console.print(
            "  " + "、".join(result["numbers"][:20]) + (" …" if result["due"] > 20 else "")
        )
    for h in result["held"]:
        console.print(f"  [yellow]法律保全，跳过[/] {h['number']}：{h['reason']}")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """用当前密钥重新加密全部个人信息。Re-encrypt personal fields with the current key.

    Put the new key first in KESU_DATA_KEYS (keeping the old ones), run this,
    then the old keys may be removed.
    """
    from kesu.accounts import keys

    rt = open_runtime()
    with progress("重新加密 Re-encrypting"):
        result = keys.rotate(rt, cli_actor())
    console.print(
        f"[green]完成[/]：当前密钥 {result['key']}，重新加密投诉 {result['complaints']} 件、"
        f"通知 {result['notifications']} 条。"
    )
