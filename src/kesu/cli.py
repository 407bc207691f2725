"""The `kesu` command."""

from __future__ import annotations

import json
import os
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.table import Table

from kesu.settings import Settings

app = typer.Typer(
    help="kesu 客诉：电信客户投诉处理系统。Complaint handling for telecom operators.",
    no_args_is_help=True,
    add_completion=False,
)
calendar_app = typer.Typer(help="工作日日历 Working-day calendar", no_args_is_help=True)
db_app = typer.Typer(help="数据库 Database", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")
app.add_typer(db_app, name="db")
triage_app = typer.Typer(help="投诉文本分类 Complaint text triage", no_args_is_help=True)
app.add_typer(triage_app, name="triage")
law_app = typer.Typer(help="法规条文、检索与案例 Regulations, search, cases", no_args_is_help=True)
app.add_typer(law_app, name="law")
user_app = typer.Typer(help="用户与角色 Users and roles", no_args_is_help=True)
app.add_typer(user_app, name="user")
token_app = typer.Typer(help="API 令牌 Bearer tokens", no_args_is_help=True)
app.add_typer(token_app, name="token")
keys_app = typer.Typer(help="个人信息加密密钥 Encryption keys", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
console = Console()


def _runtime():
    from kesu.runtime import Runtime

    return Runtime.start(Settings.from_env())


def _describe_db(url: str) -> str:
    if url.startswith("sqlite"):
        return f"SQLite（{url.split(':///', 1)[-1]}）"
    return "PostgreSQL"


@app.command()
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
    rt = _runtime()
    console.print(f"[green]数据库已就绪[/]：{_describe_db(settings.database_url)}")
    _ensure_law_index(rt)
    _first_admin(rt)
    if demo:
        _demo_users(rt)
        from kesu.complaints import demo as demo_data

        if demo_data.has_data(rt):
            console.print("已有投诉数据，跳过演示数据载入。")
        else:
            _load_demo(rt, demo_data.DEFAULT_COUNT, 2026)
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


def _demo_users(rt) -> None:
    from kesu.accounts import bootstrap, tokens

    table = Table(title="演示账号 Demo users（仅演示模式 demo mode only）")
    for col in ("用户名", "角色", "密码"):
        table.add_column(col)
    from kesu.accounts import roles as r

    for username, password, org in bootstrap.demo_users(rt):
        role = username.removeprefix("demo-")
        name = r.roles()[role]["name"] + (f"（{org}）" if org else "")
        table.add_row(username, name, password)
    console.print(table)
    token, _ = tokens.create_token(rt, "kesu-demo", "demo-supervisor", "demo", expires_days=1)
    console.print(
        "API 文档 /docs 右上角 Authorize 填入演示令牌（demo-supervisor，1 天有效）：\n" + token
    )


def _load_demo(rt, count: int, seed: int) -> None:
    from rich.progress import Progress

    from kesu.complaints import demo as demo_data

    with Progress(console=console) as progress:
        task = progress.add_task("载入演示数据 Loading demo data", total=count)
        summary = demo_data.load(
            rt, count=count, seed=seed, progress=lambda n: progress.update(task, completed=n)
        )
    console.print(
        f"[green]演示数据已载入[/]：{summary['complaints']} 件投诉，"
        f"其中未结 {summary['open']} 件、超期 {summary['overdue']} 件、"
        f"重开 {summary['reopened']} 件、合并 {summary['merged']} 件。"
    )


@app.command()
def demo(
    count: Annotated[int, typer.Option(help="投诉数量 Number of complaints")] = 320,
    seed: Annotated[int, typer.Option(help="随机种子 Random seed")] = 2026,
    force: Annotated[
        bool, typer.Option(help="已有数据时仍然载入 Load even if data exists")
    ] = False,
) -> None:
    """载入演示数据（最近90天）。Load demo data spread over the last 90 days."""
    from kesu.complaints import demo as demo_data

    rt = _runtime()
    if demo_data.has_data(rt) and not force:
        console.print("[yellow]数据库中已有投诉，未载入。加 --force 仍然载入。[/]")
        raise typer.Exit(1)
    _load_demo(rt, count, seed)


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="只运行一轮 Run one pass and exit")] = False,
    interval: Annotated[float | None, typer.Option(help="间隔秒数 Seconds between passes")] = None,
) -> None:
    """运行时限监控：标记超期并写入事件。Mark breached deadlines (safe with several workers)."""
    from kesu.complaints import service

    rt = _runtime()
    _ensure_law_index(rt)
    wait = interval if interval is not None else rt.settings.watch_interval
    from kesu.accounts import customers, retention

    while True:
        n = service.watch_once(rt)
        w = service.warn_once(rt)
        kept = retention.run_daily(rt)
        if kept is not None:
            console.print(
                f"保存期限：匿名化 {kept['anonymised']} 件，法律保全跳过 {len(kept['held'])} 件。"
            )
        customers.deliver(rt)
        if n or w or once:
            console.print(f"本轮标记超期时限 {n} 个，发出临期预警 {w} 个。")
        if once:
            return
        time.sleep(wait)


@calendar_app.command("load")
def calendar_load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="YAML 或 JSON 文件")],
) -> None:
    """载入某年日历（国务院放假安排或运营商调整），并重算受影响的时限。"""
    from kesu.complaints import service
    from kesu.deadlines.service import parse_year_file

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("日历文件应为一个映射（year、holidays、workdays ...）。")
        override = parse_year_file(data)
    except (ValueError, yaml.YAMLError) as err:
        console.print(f"[red]日历文件有误[/]：{err}")
        raise typer.Exit(2) from None
    rt = _runtime()
    result = service.load_calendar_year(rt, override, _cli_actor())
    console.print(
        f"[green]已载入 {result['year']} 年日历[/]"
        f"（{'官方完整安排' if result['official'] else '局部调整'}），"
        f"日历版本 {result['calendar_version']}，"
        f"重算了 {result['complaints_recomputed']} 件投诉的时限。"
    )


@calendar_app.command("show")
def calendar_show(year: int) -> None:
    """显示某年的节假日与调休上班日。"""
    rt = _runtime()
    cal = rt.calendar()
    table = Table(title=f"{year} 年（{'推定' if cal.is_estimated(year) else '已公布'}）")
    table.add_column("日期")
    table.add_column("星期")
    table.add_column("安排")
    weekdays = "一二三四五六日"
    for d in cal.year_days(year):
        weekend = d.day.weekday() >= 5
        if (d.working and weekend) or (not d.working and (d.name or not weekend)):
            kind = "调休上班" if d.working else (d.name or "休息")
            table.add_row(d.day.isoformat(), "周" + weekdays[d.day.weekday()], kind)
    console.print(table)
    console.print(f"全年工作日 {sum(1 for d in cal.year_days(year) if d.working)} 天。")


@calendar_app.command("workdays")
def calendar_workdays(start: str, add: int) -> None:
    """START 之后第 ADD 个工作日。"""
    try:
        day = date.fromisoformat(start)
    except ValueError:
        console.print("[red]日期格式应为 YYYY-MM-DD[/]")
        raise typer.Exit(2) from None
    cal = _runtime().calendar()
    result = cal.add_working_days(day, add)
    estimated = "（含推定年份）" if cal.estimated_between(day, result) else ""
    console.print(f"{day} 之后第 {add} 个工作日：[bold]{result}[/]{estimated}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """把数据库结构升级到最新版本。"""
    settings = Settings.from_env()
    _runtime().close()
    console.print(f"[green]数据库已是最新结构[/]：{_describe_db(settings.database_url)}")


@app.command()
def rules(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出时限规则及其依据。"""
    from kesu.complaints import vocabulary as vocab
    from kesu.runtime import load_rules

    loaded = load_rules()
    if as_json:
        console.print_json(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "name": r.name,
                        "length": r.length,
                        "unit": r.unit,
                        "basis": [b.citation for b in r.basis],
                    }
                    for r in loaded.values()
                ],
                ensure_ascii=False,
            )
        )
        return
    units = {"hours": "小时", "calendar_days": "日", "working_days": "个工作日"}
    kinds = {k: v["name"] for k, v in vocab.KINDS.items()}
    console.print("[bold]时限规则[/]（法定时限引用所持条文；运营商政策另行注明）\n")
    for r in loaded.values():
        scope = "、".join(kinds[k] for k in sorted(r.kinds))
        when = "；".join("、".join(sorted(v)) for v in r.when.values())
        tag = "[green]法定[/]" if r.statutory else "[yellow]政策[/]"
        console.print(
            f"{tag} [bold]{r.id}[/]  {r.name}  {r.length}{units[r.unit]}  "
            f"适用：{scope}{'（' + when + '）' if when else ''}"
        )
        for b in r.basis:
            console.print(f"      依据：{b.citation}", soft_wrap=True)
    console.print()


def _examples(path: Path | None):
    from kesu.triage import model

    try:
        return model.read_examples(path) if path else model.project_corpus()
    except (ValueError, UnicodeDecodeError) as err:
        console.print(f"[red]训练数据有误[/]：{err}")
        raise typer.Exit(2) from None


def _print_report(title: str, rep: dict) -> None:
    console.print(
        f"[bold]{title}[/]：macro-F1 [bold]{rep['macro_f1']:.3f}[/]，"
        f"准确率 {rep['accuracy']:.3f}，样本 {rep['n']} 条"
    )
    table = Table(show_edge=False)
    for col in ("类别", "精确率", "召回率", "F1", "样本"):
        table.add_column(col, justify="right" if col != "类别" else "left")
    for label, m in rep["per_class"].items():
        table.add_row(
            label,
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            f"{m['f1']:.3f}",
            str(m["support"]),
        )
    console.print(table)
    labels = list(rep["confusion"])
    matrix = Table(title="混淆矩阵（行：真实，列：预测）", show_edge=False)
    matrix.add_column("")
    for label in labels:
        matrix.add_column(label[:6], justify="right")
    for t in labels:
        matrix.add_row(t, *(str(rep["confusion"][t][p]) for p in labels))
    console.print(matrix)


@triage_app.command("train")
def triage_train(
    data: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="CSV：text,category[,kind]；默认用项目语料"),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="模型目录；默认为随包发布的模型")] = None,
) -> None:
    """训练分类模型（相同数据得到相同模型）。Train the classifier."""
    from kesu.triage import model

    examples = _examples(data)
    share = model.config()["dev_share"]
    train_set, dev = model.split(examples, share)
    if len({e.category for e in train_set}) < 2:
        console.print("[red]训练数据至少需要两个类别。[/]")
        raise typer.Exit(2)
    # The dev split stays out of the model, so that its figures stay honest.
    with console.status(f"训练中（{len(train_set)} 条；开发集 {len(dev)} 条留作评估）…"):
        clf = model.train(train_set)
    if dev:
        preds = clf.predict([e.text for e in dev], threshold=0)
        _print_report(
            f"开发集（{share:.0%}，按文本散列划分，未参与训练）",
            model.report([e.category for e in dev], [p.category for p in preds]),
        )
    target = out or model.MODEL_DIR
    clf.save(target)
    model.shipped.cache_clear()
    console.print(
        f"[green]模型已保存[/]：{target}（版本 {clf.meta['version']}，特征 {len(clf.vocab)} 个）"
    )


@triage_app.command("classify")
def triage_classify(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV：id,text")],
) -> None:
    """对 CSV 中的文本分类，结果 CSV 写到标准输出。Classify texts; CSV to stdout."""
    import csv
    import sys

    from rich.progress import Progress

    from kesu.triage import model

    try:
        clf = model.shipped()
    except model.ModelMissing as err:
        Console(stderr=True).print(f"[red]{err}[/]")
        raise typer.Exit(2) from None
    with file.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not {"id", "text"} <= set(reader.fieldnames or ()):
            Console(stderr=True).print("[red]输入须有 id,text 两列[/]")
            raise typer.Exit(2)
        rows = list(reader)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["id", "category", "kind", "confidence"])
    err = Console(stderr=True)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("分类中", total=len(rows))
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            for row, p in zip(chunk, clf.predict([r["text"] or "" for r in chunk]), strict=True):
                category = model.NEEDS_REVIEW if p.needs_review else p.category
                writer.writerow([row["id"], category, p.kind or "", f"{p.confidence:.4f}"])
            progress.advance(task, len(chunk))


@triage_app.command("export-corrections")
def triage_export_corrections() -> None:
    """导出人工更正过分类的投诉（text,category,kind），可用于再训练。Corrections as CSV."""
    import csv
    import sys

    from kesu.complaints import service

    rows = service.corrections(_runtime(), _cli_actor())
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["text", "category", "kind"])
    for r in rows:
        writer.writerow([r["text"], r["category"], r["kind"]])
    Console(stderr=True).print(f"已导出 {len(rows)} 条人工更正。")


@triage_app.command("eval")
def triage_eval(
    data: Annotated[
        Path | None,
        typer.Option(
            exists=True, dir_okay=False, help="CSV：text,category[,kind]；默认用项目语料的开发集"
        ),
    ] = None,
    folds: Annotated[int | None, typer.Option(min=2, max=20, help="K 折交叉验证训练流程")] = None,
) -> None:
    """评估：随包模型在数据上的表现，或 --folds 交叉验证。Evaluate the classifier."""
    from kesu.triage import model

    examples = _examples(data)
    if folds:
        with console.status(f"{folds} 折交叉验证 …"):
            rep = model.cross_validate(examples, folds)
        _print_report(f"{folds} 折交叉验证（{len(examples)} 条）", rep)
        return
    if data is None:
        _, examples = model.split(examples, model.config()["dev_share"])
    try:
        model.shipped()
    except model.ModelMissing as err:
        console.print(f"[red]{err}[/]")
        raise typer.Exit(2) from None
    preds = model.shipped().predict([e.text for e in examples], threshold=0)
    _print_report(
        f"随包模型 {model.shipped().meta['version']}",
        model.report([e.category for e in examples], [p.category for p in preds]),
    )


@user_app.command("add")
def user_add(
    username: str,
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

    rt = _runtime()
    try:
        user, generated = users.create_user(
            rt, _cli_actor(), username, role, password, org, team, name
        )
    except Problem as err:
        _problem_exit(err)
        return
    console.print(f"[green]已创建用户[/] {user['username']}（{user['role_name']}）")
    if generated:
        console.print(f"一次性密码（只显示这一次）：[bold]{generated}[/]")


@user_app.command("role")
def user_role(
    username: str,
    role: str,
    org: Annotated[str | None, typer.Option(help="代理商 Reseller organisation")] = None,
) -> None:
    """修改用户角色。Change a user's role."""
    from kesu.accounts import users
    from kesu.problems import Problem

    try:
        user = users.set_role(_runtime(), _cli_actor(), username, role, org)
    except Problem as err:
        _problem_exit(err)
        return
    console.print(f"[green]已修改[/] {user['username']} → {user['role_name']}")


@user_app.command("disable")
def user_disable(username: str) -> None:
    """停用用户（立即结束其会话）。Disable a user; their sessions end at once."""
    from kesu.accounts import users
    from kesu.problems import Problem

    try:
        users.set_active(_runtime(), _cli_actor(), username, False)
    except Problem as err:
        _problem_exit(err)
        return
    console.print(f"[green]已停用[/] {username}")


@user_app.command("enable")
def user_enable(username: str) -> None:
    """重新启用用户。Enable a user again."""
    from kesu.accounts import users
    from kesu.problems import Problem

    try:
        users.set_active(_runtime(), _cli_actor(), username, True)
    except Problem as err:
        _problem_exit(err)
        return
    console.print(f"[green]已启用[/] {username}")


@user_app.command("list")
def user_list() -> None:
    """列出用户。List users."""
    from kesu.accounts import users

    table = Table(title="用户 Users")
    for col in ("用户名", "角色", "代理商", "状态", "最近登录"):
        table.add_column(col)
    for u in users.list_users(_runtime(), _cli_actor()):
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
    username: str,
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
            _runtime(), _cli_actor(), username, name, expires, scope or None
        )
    except Problem as err:
        _problem_exit(err)
        return
    until = view["expires_at"] or "不过期"
    console.print(f"[green]已创建令牌[/] #{view['id']}（{username}，有效期至 {until}）")
    console.print("令牌（只显示这一次，请妥善保存）：")
    typer.echo(raw)


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """吊销令牌。Revoke a token."""
    from kesu.accounts import tokens
    from kesu.problems import Problem

    try:
        tokens.revoke_token(_runtime(), _cli_actor(), token_id)
    except Problem as err:
        _problem_exit(err)
        return
    console.print(f"[green]已吊销令牌[/] #{token_id}")


retention_app = typer.Typer(help="保存期限与匿名化 Retention", no_args_is_help=True)
app.add_typer(retention_app, name="retention")


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只报告，不修改 Report only")] = False,
) -> None:
    """按保存期限匿名化已归档投诉的个人信息。Anonymise closed complaints past their period."""
    from kesu.accounts import retention

    rt = _runtime()
    result = retention.run(rt, _cli_actor(), dry_run=dry_run)
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

    rt = _runtime()
    with console.status("正在重新加密…"):
        result = keys.rotate(rt, _cli_actor())
    console.print(
        f"[green]完成[/]：当前密钥 {result['key']}，重新加密投诉 {result['complaints']} 件、"
        f"通知 {result['notifications']} 条。"
    )


def _cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"[:64]
    except Exception:
        return "cli"


def _ensure_law_index(rt) -> None:
    from kesu.law import service as law

    with console.status("检查法规索引 Checking the regulations index…"):
        result = law.ensure_indexed(rt)
    if result:
        console.print(
            f"[green]法规索引已更新[/]：{result['regulations']} 部法规、"
            f"{result['articles']} 条条文、{result['cases']} 个案例。"
        )


def _law_runtime():
    from kesu.law import service as law

    rt = _runtime()
    _ensure_law_index(rt)
    return rt, law


def _problem_exit(err) -> None:
    console.print(f"[red]{err.detail}[/]")
    raise typer.Exit(1)


@law_app.command("reindex")
def law_reindex() -> None:
    """重建法规索引（放入新的法规文件后运行）。Re-read the regulation files and cases."""
    from kesu.law import service as law

    rt = _runtime()
    console.print(
        f"法规目录：{law.law_corpus.REGULATIONS_DIR}（随包） 与 {rt.settings.law_dir}（本地）"
    )
    with console.status("正在建立索引…") as status:
        result = law.reindex(rt, "cli", progress=lambda msg: status.update(msg))
    assert result is not None
    console.print(
        f"[green]完成[/]：{result['regulations']} 部法规、{result['articles']} 条条文、"
        f"{result['cases']} 个案例（指纹 {result['fingerprint'][:12]}）。"
    )


@law_app.command("list")
def law_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出收录的法规及完整程度。List the regulations held and how complete they are."""
    rt, law = _law_runtime()
    regs = law.regulations(rt)
    if as_json:
        console.print_json(json.dumps(regs, ensure_ascii=False))
        return
    table = Table(title="收录的法规 Regulations held")
    table.add_column("法规", overflow="fold")
    table.add_column("地域", no_wrap=True)
    table.add_column("收录情况", overflow="fold")
    for r in regs:
        table.add_row(
            f"{r['title']}\n[dim]简称：{r['short_title']}[/]",
            r["province"] or "全国",
            r["held"] if r["complete"] else f"[yellow]{r['held']}[/]",
        )
    console.print(table)
    console.print(
        "[dim]节录：系统只收录了部分条文，未收录的条文不会被引用。"
        "kesu law show 法规 条号 查看原文。[/]"
    )


@law_app.command("show")
def law_show(
    regulation: Annotated[str, typer.Argument(help="法规名称或简称，如 电信条例、消法")],
    article: Annotated[str, typer.Argument(help="条号，如 32、第三十二条、32条第1款")],
) -> None:
    """显示一条条文。Print one article, e.g. `kesu law show 电信条例 32`."""
    from kesu.problems import Problem

    rt, law = _law_runtime()
    try:
        a = law.article(rt, f"{regulation} {article}")
    except Problem as err:
        _problem_exit(err)
        return
    console.print(
        f"[bold]{a['citation']}[/]"
        + ("  [yellow]（不完整：仅收录部分原文）[/]" if a["partial"] else "")
    )
    if a.get("chapter"):
        console.print(f"[dim]{a['regulation']} › {a['chapter']}[/]")
    console.print(a["text"], markup=False, highlight=False)


@law_app.command("search")
def law_search(
    query: Annotated[str, typer.Argument(help="口语化的问题，如：宽带坏了三天没人修")],
    limit: Annotated[int, typer.Option(help="条数 Results")] = 5,
    province: Annotated[str | None, typer.Option(help="省份 Province")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """用大白话查找适用的条文。Find the governing articles from colloquial Chinese."""
    from kesu.problems import Problem

    rt, law = _law_runtime()
    try:
        result = law.search(rt, query, limit, province)
    except Problem as err:
        _problem_exit(err)
        return
    if as_json:
        console.print_json(json.dumps(result, ensure_ascii=False))
        return
    if result["understood_as"]:
        said = "；".join(
            f"“{u['said']}”→{'、'.join(u['law_terms'])}" for u in result["understood_as"]
        )
        console.print(f"[dim]理解为：{said}[/]")
    if not result["results"]:
        console.print(
            "[yellow]没有找到相关条文。换个说法试试，或用 kesu law list 查看收录范围。[/]"
        )
    for i, r in enumerate(result["results"], 1):
        flag = " [yellow]（不完整）[/]" if r["partial"] else ""
        console.print(f"[bold]{i}. {r['citation']}[/]{flag}  [dim]相关度 {r['score']:.2f}[/]")
        console.print("   " + _marked(r["highlight"]))


def _marked(highlight: str) -> str:
    """The search highlight (escaped HTML with <mark>) as Rich markup."""
    import html
    import re

    from rich.markup import escape

    out = []
    for part in re.split(r"(<mark>.*?</mark>)", highlight):
        if part.startswith("<mark>"):
            out.append(f"[reverse]{escape(html.unescape(part[6:-7]))}[/reverse]")
        else:
            out.append(escape(html.unescape(part)))
    return "".join(out)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
