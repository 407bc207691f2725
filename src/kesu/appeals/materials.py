"""What an appeal must contain (pure): 电信用户申诉处理办法 第十二条.

"申诉采用书面形式。申诉材料应当包括下列内容：（一）申诉人姓名或名称、地址、电话号码、
邮政编码；（二）被申诉人名称、地址；（三）申诉要求、理由、事实根据；（四）申诉日期。"

`missing(appeal)` names each required item that is absent, with the 项 that asks
for it, so the appellant can be told exactly what to add; the acceptance clock
(第十四条, 5 working days from receiving the materials) waits for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REGULATION = "电信用户申诉处理办法"
ARTICLE = "第十二条"


@dataclass(frozen=True)
class Item:
    field: str  # dotted path in the appeal's data, e.g. "appellant.postcode"
    name: str  # what the appellant is told (Chinese)
    name_en: str
    item: str  # the 项 of 第十二条 that requires it


ITEMS: tuple[Item, ...] = (
    Item("appellant.name", "申诉人姓名或名称", "appellant's name", "（一）"),
    Item("appellant.address", "申诉人地址", "appellant's address", "（一）"),
    Item("appellant.phone", "申诉人电话号码", "appellant's phone number", "（一）"),
    Item("appellant.postcode", "申诉人邮政编码", "appellant's postcode", "（一）"),
    Item("respondent.name", "被申诉人名称", "name of the operator appealed against", "（二）"),
    Item("respondent.address", "被申诉人地址", "address of the operator", "（二）"),
    Item("request", "申诉要求", "what the appellant asks for", "（三）"),
    Item("reasons", "申诉理由", "the reasons", "（三）"),
    Item("facts", "事实根据", "the facts it rests on", "（三）"),
    Item("date", "申诉日期", "date of the appeal", "（四）"),
)


def _value(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def missing(appeal: Mapping[str, Any]) -> list[dict[str, str]]:
    """The required items an appeal lacks (empty or blank), each with its citation."""
    out = []
    for it in ITEMS:
        value = _value(appeal, it.field)
        if value is None or (isinstance(value, str) and not value.strip()):
            out.append(
                {
                    "field": it.field,
                    "name": it.name,
                    "name_en": it.name_en,
                    "citation": f"{REGULATION}{ARTICLE}{it.item}",
                }
            )
    return out


def notice(appeal: Mapping[str, Any]) -> str | None:
    """The sentence that tells the appellant what to add (None when complete)."""
    lacking = missing(appeal)
    if not lacking:
        return None
    names = "、".join(m["name"] for m in lacking)
    return (
        f"根据《{REGULATION}》{ARTICLE}，申诉材料还缺少：{names}。"
        "请补充后我们再作出是否受理的决定；受理时限自收到完整材料之日起计算。"
    )
