"""Column mappings of work-order files (pure): which header carries which field.

A mapping (data/channels/import_mappings.yaml, or one an admin saved) lists, per field,
the headers that carry it. `plan(mapping, headers)` matches a file's header row against
it: the column of each field, the fields required but missing, the headers left over.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as MappingABC
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kesu.complaints import vocabulary as vocab
from kesu.data_files import load_yaml

FILE = "channels/import_mappings.yaml"

# The fields a row is registered from, with the Chinese name the report uses for each.
FIELDS: dict[str, str] = {
    "work_order": "工单号",
    "received_at": "受理时间",
    "phone": "来电号码",
    "name": "客户姓名",
    "location": "归属地",
    "province": "省份",
    "city": "地市",
    "account": "客户账号",
    "description": "投诉内容",
    "title": "标题",
    "demands": "客户诉求",
    "kind": "工单类型",
    "category": "投诉分类",
    "channel": "受理渠道",
    "area": "城乡",
    "resolution": "处理结果",
    "closed_at": "办结时间",
    "root_cause": "原因分类",
}
ALWAYS_REQUIRED = ("work_order", "received_at", "phone", "description")
NAME_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
SOURCE_PATTERN = r"^[a-z][a-z0-9_-]{1,39}$"


class MappingError(ValueError):
    """A mapping that cannot be used; the message is Chinese."""


@dataclass(frozen=True)
class Mapping:
    name: str
    label: str
    source: str
    channel: str
    columns: dict[str, tuple[str, ...]]
    province: str | None = None
    required: tuple[str, ...] = ALWAYS_REQUIRED
    packaged: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "source": self.source,
            "channel": self.channel,
            "province": self.province,
            "columns": {k: list(v) for k, v in self.columns.items()},
            "packaged": self.packaged,
        }


@dataclass
class ColumnPlan:
    """Where each field is in a file: field → column index; what is missing or left over."""

    index: dict[str, int]
    headers: list[str]
    missing: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)

    def column_name(self, name: str) -> str:
        """The file's own header of a field (what the report names), else its Chinese name."""
        i = self.index.get(name)
        return self.headers[i] if i is not None else FIELDS.get(name, name)


_NOISE = re.compile(r"[\s\u3000*＊]+|[(（\[【].*?[)）\]】]")


def normalise(header: Any) -> str:
    """A header as matched: spaces, a required marker "*" and bracketed notes removed."""
    text = "" if header is None else str(header)
    return _NOISE.sub("", text.replace("\ufeff", "")).strip().lower()


def build(name: str, spec: MappingABC[str, Any], packaged: bool) -> Mapping:
    """A mapping from its description (the data file's entry or an admin's form)."""
    if not re.fullmatch(NAME_PATTERN, name or ""):
        raise MappingError(
            f"映射名称“{name}”不合规：须以小写字母开头，由小写字母、数字、下划线组成（2–40位）。"
        )
    source = str(spec.get("source") or "")
    if not re.fullmatch(SOURCE_PATTERN, source):
        raise MappingError(
            f"来源“{source}”不合规：须以小写字母开头，由小写字母、数字、-、_ 组成（2–40位）。"
        )
    channel = str(spec.get("channel") or "hotline")
    if channel not in vocab.CHANNELS:
        raise MappingError(f"未知的渠道“{channel}”，可选：{'、'.join(vocab.CHANNELS)}")
    raw = spec.get("columns") or {}
    columns: dict[str, tuple[str, ...]] = {}
    for key, headers in raw.items():
        if key not in FIELDS:
            raise MappingError(f"未知的字段“{key}”，可选：{'、'.join(FIELDS)}")
        names = [headers] if isinstance(headers, str) else list(headers or [])
        clean = tuple(h for h in (normalise(h) for h in names) if h)
        if clean:
            columns[key] = clean
    required = tuple(dict.fromkeys([*ALWAYS_REQUIRED, *(spec.get("required") or [])]))
    for key in required:
        if key not in FIELDS:
            raise MappingError(f"未知的必填字段“{key}”")
        if key not in columns:
            raise MappingError(f"映射没有给必填字段“{FIELDS[key]}”（{key}）指定列名。")
    province = spec.get("province") or None
    if province is not None:
        full = vocab.normalize_province(str(province))
        if full is None:
            raise MappingError(f"未知的省份“{province}”")
        province = full
    label = str(spec.get("label") or name)[:100]
    return Mapping(name, label, source, channel, columns, province, required, packaged)


def packaged() -> dict[str, Mapping]:
    """The mappings shipped in the data file."""
    data = load_yaml(FILE)
    return {name: build(name, spec, True) for name, spec in data["mappings"].items()}


def default_name() -> str:
    return str(load_yaml(FILE)["default"])


def plan(mapping: Mapping, headers: Sequence[Any]) -> ColumnPlan:
    """Match a header row: each field's column (by the mapping's order of names)."""
    shown = ["" if h is None else str(h).replace("\ufeff", "").strip() for h in headers]
    keys = [normalise(h) for h in headers]
    where: dict[str, int] = {}
    for i, key in enumerate(keys):
        where.setdefault(key, i)
    index: dict[str, int] = {}
    taken: set[int] = set()
    for name, names in mapping.columns.items():
        for candidate in names:
            at = where.get(candidate)
            if at is not None and at not in taken:
                index[name] = at
                taken.add(at)
                break
    missing = [name for name in mapping.required if name not in index]
    unmapped = [shown[i] for i in range(len(keys)) if i not in taken and keys[i]]
    return ColumnPlan(index, shown, missing, unmapped)


def describe_missing(mapping: Mapping, cols: ColumnPlan) -> str:
    """The Chinese sentence for required columns the file lacks."""
    parts = [
        f"{FIELDS[n]}（可用列名：{'、'.join(mapping.columns.get(n, ()))}）" for n in cols.missing
    ]
    return "文件缺少必需的列：" + "；".join(parts) + "。"
