"""An incident made directly (for tests about the API, pages and permissions, not
about the detector): an open incident of a cell of its own, optionally with a draft."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from kesu.accounts.roles import for_role
from kesu.incidents import records, service
from kesu.store import tables as t
from kesu.store.db import write

_CELLS = itertools.count(1)


def incident(rt, *, drafted: bool = False, numbers=()) -> int:
    now = rt.clock()
    with write(rt.engine) as conn:
        iid = records.create(
            conn,
            {
                "category": "network",
                "area_kind": "city",
                "area": f"测试市{next(_CELLS)}",
                "opened_at": now,
                "window_start": now,
                "opened_by": "TS20261128000001",
                "decision": {"k": 9, "lam": 0.5, "p": 1e-8},
                "explanation": "测试用事件：近6小时同类投诉9件。",
            },
        )
        assert iid is not None
        records.record(conn, iid, now, "opened", "system", "测试用事件")
        if numbers:
            c = t.complaints.c
            rows = conn.execute(select(c.id, c.number).where(c.number.in_(list(numbers)))).all()
            records.link(conn, iid, [(r.id, r.number) for r in rows], now, "window")
    if drafted:
        service.draft(rt, for_role("t-drafter", "agent"), iid, "您好，相关故障已修复，请重启设备。")
    return iid
