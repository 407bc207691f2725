"""Citations of law: the one Citation type, its Chinese form, and reading it back.

Pure. A citation is written the way Chinese documents cite law:
《中华人民共和国电信条例》第三十二条第一款第（二）项 — the regulation's title, the
article, optionally the paragraph (款) and the item (项); an item of an annex is
《电信服务规范》附件6.6. `Citation` is that written form (the corpus formats with
it; the deadline rules cite their basis with it). `Ref` is a citation resolved to
the corpus' stable ids (dianxin-tiaoli/a32/p1/i2). `parse` reads the forms people
type (电信条例 32, 消法第55条, 个保法 13条第1款第(2)项, 《…（节录）》第三条) given
the names of the regulations held; whether the provision itself is held is the
corpus' check (Corpus.resolve), which raises CitationError like `parse`.
"""

from __future__ import annotations

import re
from collections.abc import Container, Sequence
from dataclasses import dataclass

from kesu.law.numerals import cn_to_int, int_to_cn

# The characters of a Chinese article, paragraph or item number (第一百零一条).
CN_NUMERALS = "一二三四五六七八九十百千零〇两"
_EXCERPT_SUFFIX = re.compile(r"（节录[^）]*）$")


class CitationError(ValueError):
    def __init__(self, citation: str, code: str):
        self.citation = citation
        self.code = code
        reasons = {
            "unknown_regulation": "未收录该法规",
            "not_held": "本系统未收录该条文的原文",
            "bad_citation": "无法识别的条文引用",
        }
        super().__init__(f"{reasons.get(code, code)}：{citation}")


@dataclass(frozen=True)
class Ref:
    """A resolved citation: an article, optionally one paragraph and one item."""

    regulation: str
    article: int | None = None
    paragraph: int | None = None
    item: int | None = None
    annex: str | None = None

    @property
    def id(self) -> str:
        if self.annex is not None:
            return f"{self.regulation}/x{self.annex}"
        out = f"{self.regulation}/a{self.article}"
        if self.paragraph is not None:
            out += f"/p{self.paragraph}"
        if self.item is not None:
            out += f"/i{self.item}"
        return out


@dataclass(frozen=True)
class Citation:
    """An article (or annex item) cited as Chinese documents cite it."""

    regulation: str  # the title, without 《》: 中华人民共和国电信条例
    article: str  # 第三十二条, or 附件6.6 for an item of an annex
    paragraph: str | None = None  # 第一款
    item: str | None = None  # 第（二）项

    @property
    def text(self) -> str:
        """《中华人民共和国电信条例》第三十二条第一款第（二）项"""
        return f"《{self.regulation}》{self.article}{self.paragraph or ''}{self.item or ''}"

    @classmethod
    def of(cls, title: str, ref: Ref) -> Citation:
        """The written form of a resolved citation, for the regulation titled `title`."""
        if ref.annex is not None:
            return cls(title, f"附件{ref.annex}")
        return cls(
            title,
            article_label(ref.article or 0),
            None if ref.paragraph is None else f"第{int_to_cn(ref.paragraph)}款",
            None if ref.item is None else f"第（{int_to_cn(ref.item)}）项",
        )


def article_label(number: int) -> str:
    """32 → 第三十二条"""
    return f"第{int_to_cn(number)}条"


def base_title(title: str) -> str:
    """A regulation's title without the note that the text is an excerpt (（节录）)."""
    return _EXCERPT_SUFFIX.sub("", title.strip())


def regulation_id(name: str, aliases: Sequence[tuple[str, str]], ids: Container[str]) -> str | None:
    """The id of the regulation a name (an id, a title or a short title) means."""
    name = name.strip().strip("《》")
    if name in ids:
        return name
    for alias, rid in aliases:
        if alias == name:
            return rid
    return None


def parse(citation: str, aliases: Sequence[tuple[str, str]], ids: Container[str]) -> Ref:
    """《电信条例》第三十二条第一款, 电信条例 32, 消法第55条 … → Ref.

    `aliases` are (name, regulation id) pairs, longest name first; `ids` the
    regulation ids. CitationError when the regulation or the form is unknown.
    """
    text = re.sub(r"\s+", " ", citation.strip())
    reg_id = None
    rest = ""
    m = re.match(r"^《([^》]+)》(.*)$", text)
    if m:
        reg_id, rest = regulation_id(base_title(m.group(1)), aliases, ids), m.group(2)
    else:
        for alias, rid in aliases:
            if text.startswith(alias):
                reg_id, rest = rid, text[len(alias) :]
                break
    if reg_id is None:
        raise CitationError(citation, "unknown_regulation")
    rest = rest.strip()
    annex = re.fullmatch(r"附件\s*(\d+(?:\.\d+)+)", rest)
    if annex:
        return Ref(reg_id, annex=annex.group(1))
    m = re.fullmatch(
        rf"第?\s*([{CN_NUMERALS}]+|\d+)\s*条?"
        rf"(?:第\s*([{CN_NUMERALS}]+|\d+)\s*款)?"
        rf"(?:第\s*[（(]?([{CN_NUMERALS}]+|\d+)[)）]?\s*项)?",
        rest,
    )
    if not m or not rest:
        raise CitationError(citation, "bad_citation")
    return Ref(
        reg_id,
        cn_to_int(m.group(1)),
        cn_to_int(m.group(2)) if m.group(2) else None,
        cn_to_int(m.group(3)) if m.group(3) else None,
    )
