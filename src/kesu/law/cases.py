"""The case library's data (pure): packaged cases, checks, and anonymising a complaint.

Packaged cases are YAML under data/law/cases/ (seed, court and project
cases); quality staff add closed complaints with one action (service layer).
Every article a case cites must be held by the corpus.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from kesu.data_files import DATA_DIR
from kesu.law.citations import CitationError
from kesu.law.corpus import Corpus

CASES_DIR = DATA_DIR / "law" / "cases"
SOURCES = ("seed", "court", "project", "promoted")
SOURCE_NAMES = {
    "seed": "规范案例",
    "court": "法院判例",
    "project": "典型案例",
    "promoted": "本单位案例",
}

# What quality staff judged a promoted case to be an example of.
VERDICTS = {"good": "正面案例（值得学习）", "bad": "反面案例（引以为戒）"}


class CaseError(ValueError):
    pass


def case_files(directory: Path = CASES_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml")) if directory.is_dir() else []


def load_packaged(
    corpus: Corpus, categories: Iterable[str], directory: Path = CASES_DIR
) -> list[dict[str, Any]]:
    cats = set(categories)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path in case_files(directory):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            case = normalize(raw, corpus, cats, where=path.name)
            if case["id"] in seen:
                raise CaseError(f"{path.name}: duplicate case id {case['id']}")
            seen.add(case["id"])
            out.append(case)
    return out


def normalize(
    raw: Mapping[str, Any], corpus: Corpus, categories: set[str], where: str = ""
) -> dict[str, Any]:
    cid = str(raw.get("id") or "")
    prefix = f"{where}: {cid}" if where else cid
    if not cid:
        raise CaseError(f"{where}: a case without id")
    source = raw.get("source")
    if source not in SOURCES:
        raise CaseError(f"{prefix}: unknown source {source!r}")
    if raw.get("category") not in categories:
        raise CaseError(f"{prefix}: unknown category {raw.get('category')!r}")
    articles = []
    for a in raw.get("articles") or []:
        citation = a["citation"] if isinstance(a, Mapping) else str(a)
        try:
            ref = corpus.resolve(citation)
        except CitationError as err:
            raise CaseError(f"{prefix}: {err}") from None
        articles.append(
            {
                "citation": corpus.format(ref),
                "id": ref.id,
                "why": (a.get("why") if isinstance(a, Mapping) else None),
            }
        )
    for key in ("title", "facts", "outcome"):
        if not str(raw.get(key) or "").strip():
            raise CaseError(f"{prefix}: missing {key}")
    return {
        "id": cid,
        "source": source,
        "title": str(raw["title"]).strip(),
        "category": raw["category"],
        "province": raw.get("province"),
        "court": raw.get("court"),
        "case_no": raw.get("case_no"),
        "date": None if raw.get("date") is None else str(raw.get("date")),
        "facts": str(raw["facts"]).strip(),
        "articles": articles,
        "outcome": str(raw["outcome"]).strip(),
        "lessons": [str(x).strip() for x in raw.get("lessons") or []],
        "tags": [str(x).strip() for x in raw.get("tags") or []],
    }


def cites(articles: Iterable[Mapping[str, Any]], article_id: str) -> bool:
    """Whether a case's articles cite this provision or a part of it (a paragraph, an item)."""
    return any(
        str(a.get("id") or "") == article_id or str(a.get("id") or "").startswith(article_id + "/")
        for a in articles
    )


# -- anonymising a complaint for the library ---------------------------------

_PHONE = re.compile(
    r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"
)
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<!\d)\d{15}(?!\d)")
_LONG_NUMBER = re.compile(r"(?<!\d)\d{8,}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_ADDRESS = re.compile(
    r"[\u4e00-\u9fff]{1,12}(?:路|街|道|巷|弄|胡同|小区|花园|公寓|大厦|村|组)"
    r"[\u4e00-\u9fff\d]{0,10}?(?:\d+号(?:楼|院)?|\d+栋|\d+单元|\d+室|\d+-\d+)+"
)
_TAIL = re.compile(r"(?:尾号|末四位|后四位)\s*\d{3,4}")


def scrub(text: str, names: Sequence[str] = (), extra: Sequence[str] = ()) -> str:
    """The text without personal data: phones, ID numbers, accounts, e-mails, addresses, names."""
    out = text or ""
    for value in sorted({v for v in (*names, *extra) if v and len(v) >= 2}, key=len, reverse=True):
        out = out.replace(value, _mask_name(value) if value in names else "【已隐去】")
    out = _EMAIL.sub("【邮箱】", out)
    out = _ID_CARD.sub("【证件号】", out)
    out = _PHONE.sub("【电话】", out)
    out = _LONG_NUMBER.sub("【号码】", out)
    out = _TAIL.sub("尾号【已隐去】", out)
    out = _ADDRESS.sub("【地址】", out)
    return out


def _mask_name(name: str) -> str:
    return name[0] + "某"
