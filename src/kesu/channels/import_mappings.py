"""The column mappings of work-order files: the packaged ones (data file, read-only) and
those admins saved on the import page (table import_mappings). A saved mapping cannot
take a packaged one's name."""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.channels import file_mapping
from kesu.channels.file_mapping import Mapping, MappingError
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

M = t.import_mappings.c


def _saved(row) -> Mapping:
    spec = {"source": row.source, "channel": row.channel, "label": row.label, **row.columns}
    return file_mapping.build(row.name, spec, packaged=False)


def listing(rt: Runtime) -> list[Mapping]:
    """Every mapping: the packaged ones first, then the saved ones by name."""
    out = list(file_mapping.packaged().values())
    with read(rt.engine) as conn:
        rows = conn.execute(select(t.import_mappings).order_by(M.name)).all()
    for row in rows:
        try:
            out.append(_saved(row))
        except MappingError:  # saved under rules since tightened: not offered
            continue
    return out


def get(rt: Runtime, name: str | None) -> Mapping:
    """The mapping called `name` (the default one when None); 422 unknown_mapping."""
    name = name or file_mapping.default_name()
    found = file_mapping.packaged().get(name)
    if found is not None:
        return found
    with read(rt.engine) as conn:
        row = conn.execute(select(t.import_mappings).where(M.name == name)).first()
    if row is None:
        names = "、".join(m.name for m in listing(rt))
        raise Problem(
            422, "unknown_mapping", "Unknown mapping", f"未知的列映射“{name}”，可选：{names}。"
        )
    return _saved(row)


def save(rt: Runtime, actor: Actor, name: str, spec: MappingABC[str, Any]) -> Mapping:
    """Create or replace an admin's mapping (complaint.import); audited."""
    p = as_principal(actor)
    require(p, "complaint.import")
    if name in file_mapping.packaged():
        raise Problem(
            422,
            "mapping_packaged",
            "Packaged mapping",
            f"“{name}”是系统自带的映射，不能修改；请换一个名称保存。",
        )
    try:
        mapping = file_mapping.build(name, spec, packaged=False)
    except MappingError as err:
        raise Problem(422, "invalid_mapping", "Invalid mapping", str(err)) from None
    now = rt.clock()
    values = {
        "label": mapping.label,
        "source": mapping.source,
        "channel": mapping.channel,
        "columns": {
            "columns": {k: list(v) for k, v in mapping.columns.items()},
            "province": mapping.province,
        },
        "updated_at": now,
        "updated_by": p.name,
    }
    with write(rt.engine) as conn:
        conn.execute(delete(t.import_mappings).where(M.name == name))
        conn.execute(t.import_mappings.insert().values(name=name, **values))
        audit(conn, p, now, "import.mapping", "import_mapping", name, {"source": mapping.source})
    return mapping
