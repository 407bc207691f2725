"""Shared helpers for the kesu benchmarks: data generator, machine description, runtime.

Only the public service layer of kesu is used; nothing here changes src/.
"""

from __future__ import annotations

import os
import platform
import random
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from importlib import metadata
from typing import Any

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kesu_bench"
SQLITE_URL = "sqlite:////tmp/kesu_bench.sqlite"

TEAMS = ["frontline", "billing", "network", "marketing", "escalation", "legal"]
# Weighted so that every team has a real queue; frontline is the biggest.
TEAM_WEIGHTS = [30, 20, 20, 12, 10, 8]

PROVINCES = [
    ("河南省", ["郑州市", "洛阳市", "南阳市", "新乡市"], 20),
    ("重庆市", ["渝中区", "江北区", "万州区", "沙坪坝区"], 14),
    ("广东省", ["广州市", "深圳市", "佛山市", "东莞市"], 12),
    ("江苏省", ["南京市", "苏州市", "无锡市"], 9),
    ("四川省", ["成都市", "绵阳市"], 8),
    ("浙江省", ["杭州市", "宁波市"], 8),
    ("北京市", ["朝阳区", "海淀区"], 7),
    ("上海市", ["浦东新区", "徐汇区"], 7),
    ("湖北省", ["武汉市", "宜昌市"], 6),
    ("山东省", ["济南市", "青岛市"], 6),
    ("安徽省", ["合肥市", "芜湖市"], 3),
]
KINDS = [("complaint", 60), ("consultation", 12), ("fault", 13), ("inquiry", 10), ("appeal", 5)]
CHANNELS = [
    ("hotline", 45),
    ("app", 12),
    ("web", 6),
    ("wechat", 8),
    ("store", 8),
    ("chat", 6),
    ("sms", 3),
    ("email", 2),
    ("letter", 1),
    ("weibo", 2),
    ("group_hotline", 4),
    ("regulator", 2),
    ("media", 1),
]
CATEGORIES = [
    "network",
    "billing",
    "unauthorized",
    "marketing",
    "handling",
    "usage",
    "service",
    "security",
    "other",
]
SUBJECTS = [
    "用户来电反映",
    "客户在营业厅表示",
    "用户通过App留言称",
    "客户致电10000号称",
    "用户微信留言反映",
]
ISSUES = [
    "本月话费比上月多扣了三十元，未收到任何短信提醒",
    "家中宽带晚上经常掉线，报修两次仍未解决",
    "被开通了不知情的视频会员包月业务",
    "营业员办理套餐时承诺的优惠未兑现",
    "手机在小区内信号很差，通话经常中断",
    "携号转网申请被无故拒绝",
    "查询积分兑换规则，客服答复前后不一致",
    "停机保号后仍被收取月租费",
    "光猫更换后网速明显下降",
    "营销短信过多，退订后仍然收到",
]
DEMANDS = ["要求退还多收费用", "要求尽快修复", "要求取消业务并退费", "要求书面答复", "要求赔偿"]


def pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def complaint_body(rng: random.Random, received_at: datetime | None = None) -> dict[str, Any]:
    """One raw request body (what an integration would POST)."""
    province, cities, _ = rng.choices(PROVINCES, [p[2] for p in PROVINCES])[0]
    kind = pick(rng, KINDS)
    body: dict[str, Any] = {
        "channel": pick(rng, CHANNELS),
        "customer": {
            "phone": f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
            "province": province,
            "city": rng.choice(cities),
            "area": "rural" if rng.random() < 0.2 else "urban",
        },
        "kind": kind,
        "category": rng.choice(CATEGORIES),
        "description": f"{rng.choice(SUBJECTS)}{rng.choice(ISSUES)}，{rng.choice(DEMANDS)}。"
        f"（工单 {rng.randrange(10**6):06d}）",
        "team": rng.choices(TEAMS, TEAM_WEIGHTS)[0],
    }
    if received_at is not None:
        body["received_at"] = received_at
    return body


def validated_items(
    n: int, rng: random.Random, now: datetime, days: int = 90
) -> list[dict[str, Any]]:
    """n dicts shaped like ComplaintIn.model_dump(), received over the last `days` days."""
    from kesu.complaints.schemas import ComplaintIn

    span = days * 86400
    out = []
    for _ in range(n):
        received = now - timedelta(seconds=rng.uniform(60, span))
        out.append(ComplaintIn.model_validate(complaint_body(rng, received)).model_dump())
    return out


def start_runtime(url: str):
    from kesu.runtime import Runtime
    from kesu.settings import Settings

    return Runtime.start(Settings(database_url=url, embedded_worker=False))


def ensure_pg_database(url: str = PG_URL, drop: bool = False) -> None:
    """Create the PostgreSQL database named in `url` (drop it first if asked)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).scalar()
        if exists and drop:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            exists = False
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(f.readline().split()[1])
        return f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def pg_version(url: str = PG_ADMIN_URL) -> str:
    try:
        from sqlalchemy import create_engine, text

        eng = create_engine(url)
        with eng.connect() as conn:
            v = conn.execute(text("SHOW server_version")).scalar()
            sb = conn.execute(text("SHOW shared_buffers")).scalar()
            sc = conn.execute(text("SHOW synchronous_commit")).scalar()
        eng.dispose()
        return f"PostgreSQL {v} (shared_buffers={sb}, synchronous_commit={sc})"
    except Exception as err:  # noqa: BLE001 - only a description
        return f"PostgreSQL unavailable ({err.__class__.__name__})"


def wrk_version() -> str:
    try:
        out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=5)
        return (out.stdout or out.stderr).splitlines()[0].strip()
    except (OSError, IndexError, subprocess.SubprocessError):
        return "wrk not installed"


def _v(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "-"


def kesu_root() -> str:
    """The checkout whose kesu this interpreter imports (not necessarily this script's).

    A benchmark script may be run with another worktree's virtualenv (to measure
    that worktree's code); the code under test is then that worktree's.
    """
    import importlib.util

    spec = importlib.util.find_spec("kesu")
    if spec is not None and spec.origin:
        # <root>/src/kesu/__init__.py
        return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(spec.origin))))
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def kesu_version() -> str:
    """The commit of the code under test, and whether src/ differs from it."""
    root = kesu_root()
    try:
        head = subprocess.run(
            ["git", "-C", root, "log", "-1", "--format=%h %ad", "--date=iso"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "src"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + (" + uncommitted changes in src/" if dirty else " (src/ clean)") + f" at {root}"


def machine() -> dict[str, str]:
    return {
        "kesu": kesu_version(),
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": mem_total(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg_version(),
        "wrk": wrk_version(),
        "packages": ", ".join(
            f"{p} {_v(p)}"
            for p in (
                "fastapi",
                "uvicorn",
                "uvloop",
                "httptools",
                "sqlalchemy",
                "psycopg",
                "pydantic",
            )
        ),
    }


def print_machine() -> None:
    print("machine:")
    for k, v in machine().items():
        print(f"  {k:10} {v}")


def now_utc() -> datetime:
    return datetime.now(UTC)


# ---- interference: CPU used by processes that are not part of the benchmark ------


def _cpu_ticks() -> dict[int, tuple[int, str]]:
    out: dict[int, tuple[int, str]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
            fields = stat[stat.rindex(")") + 2 :].split()
            ticks = int(fields[11]) + int(fields[12])  # utime + stime
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            out[int(name)] = (ticks, cmd or stat[stat.index("(") : stat.rindex(")") + 1])
        except (OSError, ValueError, IndexError):
            continue
    return out


class Interference:
    """CPU seconds used during a measurement by processes outside it.

    'Ours' = this process, its descendants (server, wrk), and PostgreSQL backends
    of the benchmark database (their command line names it)."""

    def __init__(self, db_marker: str = "kesu_bench") -> None:
        self.db_marker = db_marker
        self.start = _cpu_ticks()
        self.t0 = __import__("time").monotonic()

    def _ours(self) -> set[int]:
        me = os.getpid()
        parent: dict[int, int] = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open(f"/proc/{name}/stat", encoding="utf-8", errors="replace") as f:
                        s = f.read()
                    parent[int(name)] = int(s[s.rindex(")") + 2 :].split()[1])
                except (OSError, ValueError, IndexError):
                    pass
        ours, changed = {me}, True
        while changed:
            changed = False
            for pid, ppid in parent.items():
                if ppid in ours and pid not in ours:
                    ours.add(pid)
                    changed = True
        return ours

    def report(self) -> str:
        import time as _time

        end = _cpu_ticks()
        wall = _time.monotonic() - self.t0
        hz = os.sysconf("SC_CLK_TCK")
        ours = self._ours()
        foreign = []
        for pid, (ticks, cmd) in end.items():
            used = (ticks - self.start.get(pid, (0, ""))[0]) / hz
            if pid in ours or self.db_marker in cmd or used < 0.05 * wall:
                continue
            foreign.append((used, pid, cmd[:80]))
        foreign.sort(reverse=True)
        total = sum(u for u, _, _ in foreign)
        if not foreign:
            return f"interference: none (no outside process used >5% of a core over {wall:.0f} s)"
        top = "; ".join(f"{u:.1f}s pid {p} {c}" for u, p, c in foreign[:4])
        return (
            f"interference: outside processes used {total:.1f} CPU-s over {wall:.0f} s "
            f"({total / wall:.2f} cores): {top}"
        )
