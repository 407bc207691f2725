"""Facts in complaint text (pure): phone numbers, money, dates, durations, products, accounts.

Chinese forms are read as well as Arabic ones: 三天、两个小时、一千二百元、8月份、
上个月、11月3号. Values are returned with the text they came from, so a page can
highlight them; masking for display is done where every output is masked
(accounts slice), not here. Numbers are read by kesu.law.numerals, the one reader
of Chinese numerals.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from kesu.law.numerals import cn_number

# A number starts where a run of digits (or numerals) starts: matching from inside a
# long run would make each pattern quadratic in the run's length.
_CN = "零〇一二两三四五六七八九十百千万"
NUM = rf"(?:(?<![\d.])\d+(?:\.\d+)?|(?<![{_CN}])[{_CN}]+)"


_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
_TAIL = re.compile(r"尾号\s*(\d{3,4})")
_MONEY = re.compile(rf"({NUM})\s*(元|块钱|块|圆)(?!/?(?:月|G|M))")
_DATE_MD = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_DATE_M = re.compile(r"(\d{1,2}|[一二三四五六七八九十]{1,2})\s*月份")
_RELATIVE = {
    "上个月": "last_month",
    "上月": "last_month",
    "本月": "this_month",
    "这个月": "this_month",
    "昨天": "yesterday",
    "前天": "day_before_yesterday",
    "今天": "today",
    "上周": "last_week",
    "去年": "last_year",
}
_RELATIVE_RE = re.compile("|".join(sorted(map(re.escape, _RELATIVE), key=len, reverse=True)))
_DURATION = re.compile(rf"({NUM}|半|几)\s*(个)?\s*(小时|钟头|天|日|周|星期|个月|月|年)(?!份)")
_HOURS = {
    "小时": 1,
    "钟头": 1,
    "天": 24,
    "日": 24,
    "周": 168,
    "星期": 168,
    "个月": 720,
    "月": 720,
    "年": 8760,
}
_PRODUCT = re.compile(
    r"([\u4e00-\u9fa5A-Za-z0-9]{0,8}?(?:\d{1,7}元)?[\u4e00-\u9fa5A-Za-z0-9]{0,6}"
    r"(?:套餐|流量包|会员|彩铃|宽带|合约机|融合|副卡|权益包))"
)
_ACCOUNT = re.compile(r"(?:宽带|账号|帐号|账户|合同号)[号：:\s]*([A-Za-z0-9]{6,20})")


def extract(text: str) -> dict[str, Any]:
    norm = unicodedata.normalize("NFKC", text)
    out: dict[str, Any] = {
        "phones": list(dict.fromkeys(_PHONE.findall(norm))),
        "phone_tails": list(dict.fromkeys(_TAIL.findall(norm))),
        "amounts": [],
        "dates": [],
        "durations": [],
        "products": [],
        "accounts": list(dict.fromkeys(_ACCOUNT.findall(norm))),
    }
    for m in _MONEY.finditer(norm):
        value = cn_number(m.group(1))
        if value is not None:
            out["amounts"].append({"text": m.group(0), "yuan": value})
    for m in _DATE_MD.finditer(norm):
        month, day = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12 and 1 <= day <= 31:
            out["dates"].append({"text": m.group(0), "month": month, "day": day})
    for m in _DATE_M.finditer(norm):
        month = cn_number(m.group(1))
        if month is not None and 1 <= month <= 12:
            out["dates"].append({"text": m.group(0), "month": int(month)})
    for m in _RELATIVE_RE.finditer(norm):
        out["dates"].append({"text": m.group(0), "relative": _RELATIVE[m.group(0)]})
    for m in _DURATION.finditer(norm):
        raw, unit = m.group(1), m.group(3)
        if unit == "月" and not m.group(2):
            continue  # "3月" is a date, "3个月" a duration
        count = 0.5 if raw == "半" else None if raw == "几" else cn_number(raw)
        item: dict[str, Any] = {"text": m.group(0)}
        if count is not None:
            item["hours"] = count * _HOURS[unit]
        out["durations"].append(item)
    out["products"] = list(dict.fromkeys(m.group(1) for m in _PRODUCT.finditer(norm)))
    return out
