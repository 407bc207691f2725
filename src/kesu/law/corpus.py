"""The regulations we hold, as a tree: regulation → article → paragraph (款) → item (项).

Pure values. Ids are stable and readable: ``dianxin-tiaoli/a32`` (article),
``dianxin-tiaoli/a32/p1`` (paragraph), ``dianxin-tiaoli/a32/p1/i2`` (item),
``dianxin-fuwu-guifan/x6.6`` (annex item). `Corpus` holds every regulation and
answers for a citation: which provision it means and whether we hold it
(`resolve`, CitationError when not), its formatted citation, its text and a
quote. Reading the files into a Corpus is law/loader.py; the citation forms are
law/citations.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kesu.law.citations import Citation, CitationError, Ref, article_label, parse, regulation_id
from kesu.law.numerals import int_to_cn


@dataclass(frozen=True)
class Item:
    number: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    number: int
    text: str
    items: tuple[Item, ...] = ()

    @property
    def full_text(self) -> str:
        return "\n".join([self.text, *(it.text for it in self.items)])


@dataclass(frozen=True)
class Article:
    regulation: str
    number: int
    label: str  # 第三十二条
    chapter: str
    paragraphs: tuple[Paragraph, ...]
    partial: bool
    note: str = ""  # e.g. （后半部分）

    @property
    def id(self) -> str:
        return f"{self.regulation}/a{self.number}"

    @property
    def text(self) -> str:
        """The article as printed: 第N条 followed by its paragraphs and items."""
        lines = []
        for i, p in enumerate(self.paragraphs):
            lines.append(f"{self.label}{self.note} {p.text}" if i == 0 else p.text)
            lines.extend(f"（{int_to_cn(it.number)}）{it.text}" for it in p.items)
        return "\n".join(lines)


@dataclass(frozen=True)
class AnnexItem:
    regulation: str
    label: str  # 6.6
    heading: str
    text: str
    partial: bool

    @property
    def id(self) -> str:
        return f"{self.regulation}/x{self.label}"


@dataclass
class Regulation:
    id: str
    title: str  # 中华人民共和国电信条例 (without the excerpt note)
    short_title: str
    aliases: tuple[str, ...]
    province: str | None
    complete: bool
    files: list[str]
    meta: dict[str, Any]
    articles: dict[int, Article] = field(default_factory=dict)
    annex: dict[str, AnnexItem] = field(default_factory=dict)

    @property
    def held(self) -> str:
        """How much we hold, in words a user reads."""
        if self.complete:
            return f"全文（{len(self.articles)}条）"
        partial = sum(1 for a in self.articles.values() if a.partial)
        held = "、".join(_ranges(sorted(self.articles)))
        more = f"，其中{partial}条不完整" if partial else ""
        return f"节录：第{held}条{more}"


def _ranges(numbers: Sequence[int]) -> list[str]:
    out: list[str] = []
    start = prev = None
    for n in [*numbers, None]:
        if start is None:
            start = prev = n
        elif n is not None and prev is not None and n == prev + 1:
            prev = n
        else:
            assert prev is not None
            out.append(
                int_to_cn(start) if start == prev else f"{int_to_cn(start)}至{int_to_cn(prev)}"
            )
            start = prev = n
    return out


class Corpus:
    """Every regulation held, with a resolver from citations to provisions."""

    def __init__(self, regulations: Iterable[Regulation], fingerprint: str = ""):
        self.regulations: dict[str, Regulation] = {r.id: r for r in regulations}
        self.fingerprint = fingerprint
        self._aliases: list[tuple[str, str]] = sorted(
            ((alias, r.id) for r in self.regulations.values() for alias in r.aliases),
            key=lambda pair: -len(pair[0]),
        )

    def regulation(self, name: str) -> Regulation | None:
        rid = regulation_id(name, self._aliases, self.regulations)
        return None if rid is None else self.regulations[rid]

    def article(self, regulation: str, number: int) -> Article | None:
        reg = self.regulation(regulation)
        return None if reg is None else reg.articles.get(number)

    def articles(self) -> Iterable[Article]:
        for reg in self.regulations.values():
            yield from reg.articles.values()

    def resolve(self, citation: str | Ref) -> Ref:
        """A citation checked against what we hold: CitationError when we do not hold it."""
        ref = (
            citation
            if isinstance(citation, Ref)
            else parse(citation, self._aliases, self.regulations)
        )
        reg = self.regulations.get(ref.regulation)
        if reg is None:
            raise CitationError(str(citation), "unknown_regulation")
        if ref.annex is not None:
            if ref.annex not in reg.annex:
                raise CitationError(str(citation), "not_held")
            return ref
        art = reg.articles.get(ref.article or -1)
        if art is None:
            raise CitationError(str(citation), "not_held")
        if ref.paragraph is not None:
            if ref.paragraph > len(art.paragraphs):
                raise CitationError(str(citation), "not_held")
            para = art.paragraphs[ref.paragraph - 1]
            if ref.item is not None and ref.item not in {it.number for it in para.items}:
                raise CitationError(str(citation), "not_held")
        elif ref.item is not None and ref.item not in {
            it.number for p in art.paragraphs for it in p.items
        }:
            raise CitationError(str(citation), "not_held")
        return ref

    def format(self, ref: Ref) -> str:
        return Citation.of(self.regulations[ref.regulation].title, ref).text

    def text(self, ref: Ref) -> str:
        reg = self.regulations[ref.regulation]
        if ref.annex is not None:
            item = reg.annex[ref.annex]
            return f"{item.label} {item.text}"
        art = reg.articles[ref.article or 0]
        if ref.item is not None:
            paras = [art.paragraphs[ref.paragraph - 1]] if ref.paragraph else art.paragraphs
            [it] = [i for p in paras for i in p.items if i.number == ref.item][:1]
            return f"（{int_to_cn(it.number)}）{it.text}"
        if ref.paragraph is None:
            return art.text
        para = art.paragraphs[ref.paragraph - 1]
        lines = [para.text, *(f"（{int_to_cn(i.number)}）{i.text}" for i in para.items)]
        if ref.paragraph == 1:
            lines[0] = f"{art.label}{art.note} {para.text}"
        return "\n".join(lines)

    def partial(self, ref: Ref) -> bool:
        reg = self.regulations[ref.regulation]
        if ref.annex is not None:
            return reg.annex[ref.annex].partial
        return reg.articles[ref.article or 0].partial

    def quote(self, citation: str | Ref) -> dict[str, Any]:
        """A checked citation with its text: what a reply or an obligation shows."""
        ref = self.resolve(citation)
        reg = self.regulations[ref.regulation]
        return {
            "id": ref.id,
            "citation": self.format(ref),
            "regulation": reg.title,
            "article": None if ref.article is None else article_label(ref.article),
            "text": self.text(ref),
            "partial": self.partial(ref),
            "province": reg.province,
        }
