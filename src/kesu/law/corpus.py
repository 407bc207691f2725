"""The regulations we hold, parsed into regulation → article → paragraph (款) → item (项).

Pure: reads Markdown files (front matter + text) and returns values. The
files are the ones copied from ../shared/regulations (packaged under
data/regulations/) plus any an operator drops into the extra directory.

Ids are stable and readable: ``dianxin-tiaoli/a32`` (article),
``dianxin-tiaoli/a32/p1`` (paragraph), ``dianxin-tiaoli/a32/p1/i2`` (item),
``dianxin-fuwu-guifan/x6.6`` (annex item). A citation is formatted the way
Chinese documents cite law: 《中华人民共和国电信条例》第三十二条第一款第（二）项.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from kesu.data_files import DATA_DIR, load_yaml
from kesu.law.numerals import cn_to_int, int_to_cn

REGULATIONS_DIR = DATA_DIR / "regulations"

_CN = "一二三四五六七八九十百千零〇两"
_ARTICLE = re.compile(rf"^第([{_CN}]+)条((?:（[^）]*）)?)[\s　]*(.*)$")
_ITEM = re.compile(rf"^[（(]([{_CN}]+)[)）]\s*(.*)$")
_ANNEX_ITEM = re.compile(r"^(\d+(?:\.\d+)+)\s+(.*)$")
_EXCERPT_SUFFIX = re.compile(r"（节录[^）]*）$")
_GAP = "〔"


class CorpusError(ValueError):
    """A regulation file that cannot be read as one."""


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


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end > 0:
            meta = yaml.safe_load(text[3:end]) or {}
            return (meta if isinstance(meta, dict) else {}), text[end + 4 :]
    return {}, text


@dataclass
class ParsedFile:
    file: str
    meta: dict[str, Any]
    title: str
    articles: list[Article]
    annex: list[AnnexItem]


def parse_file(name: str, text: str, regulation_id: str) -> ParsedFile:
    meta, body = split_front_matter(text)
    title = str(meta.get("title") or "").strip()
    headings: dict[int, str] = {}
    articles: list[Article] = []
    annex: list[AnnexItem] = []
    in_annex = False
    annex_heading = ""
    current: dict[str, Any] | None = None

    def close() -> None:
        nonlocal current
        if current is not None:
            articles.append(_article(regulation_id, current))
            current = None

    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            heading = line.lstrip("#").strip()
            if level == 1:
                title = title or heading
                continue
            close()
            if "附" in heading[:3] or in_annex:
                in_annex = True
                annex_heading = heading
                continue
            headings = {k: v for k, v in headings.items() if k < level}
            headings[level] = re.sub(r"[\s　]+", " ", heading)
            continue
        if line.startswith(">"):
            continue
        if line in ("附：", "附:", "附件", "附件：") or line.startswith("附件："):
            close()
            in_annex = True
            continue
        if in_annex:
            m = _ANNEX_ITEM.match(line)
            if m:
                annex.append(
                    AnnexItem(regulation_id, m.group(1), annex_heading, m.group(2), _GAP in line)
                )
            elif annex and not _ITEM.match(line) and "附件节录" in annex_heading:
                last = annex[-1]
                annex[-1] = AnnexItem(
                    last.regulation,
                    last.label,
                    last.heading,
                    last.text + "\n" + line,
                    last.partial or _GAP in line,
                )
            continue
        m = _ARTICLE.match(line)
        if m:
            close()
            current = {
                "number": cn_to_int(m.group(1)),
                "label": f"第{m.group(1)}条",
                "note": m.group(2),
                "chapter": " › ".join(headings[k] for k in sorted(headings)),
                "lines": [m.group(3)] if m.group(3) else [],
            }
            continue
        if line.startswith(_GAP):
            close()  # a note of what is missing, not text of an article
            continue
        if current is not None:
            current["lines"].append(line)
    close()
    if not title:
        raise CorpusError(f"{name}: no title (front matter `title:` or a # heading)")
    return ParsedFile(name, meta, title, articles, annex)


def _article(regulation_id: str, data: dict[str, Any]) -> Article:
    paragraphs: list[Paragraph] = []
    for line in data["lines"]:
        m = _ITEM.match(line)
        if m and paragraphs:
            last = paragraphs[-1]
            item = Item(cn_to_int(m.group(1)), m.group(2))
            paragraphs[-1] = Paragraph(last.number, last.text, (*last.items, item))
        else:
            paragraphs.append(Paragraph(len(paragraphs) + 1, line))
    note = data["note"]
    partial = bool(note) or any(_GAP in line for line in data["lines"])
    return Article(
        regulation_id,
        data["number"],
        data["label"],
        data["chapter"],
        tuple(paragraphs),
        partial,
        note,
    )


def base_title(title: str) -> str:
    return _EXCERPT_SUFFIX.sub("", title.strip())


def _default_id(stem: str) -> str:
    stem = re.sub(r"-excerpt$", "", stem)
    return re.sub(r"-\d{4}$", "", stem)


@lru_cache(maxsize=1)
def _provinces() -> tuple[tuple[str, str], ...]:
    return tuple((p["name"], p["short"]) for p in load_yaml("provinces.yaml"))


def province_of(title: str, meta: dict[str, Any]) -> str | None:
    if meta.get("province"):
        return str(meta["province"])
    for name, _short in _provinces():
        if title.startswith(name):
            return name
    return None


class Corpus:
    """Every regulation held, with a resolver from citations to provisions."""

    def __init__(self, regulations: Iterable[Regulation], fingerprint: str = ""):
        self.regulations: dict[str, Regulation] = {r.id: r for r in regulations}
        self.fingerprint = fingerprint
        self._aliases: list[tuple[str, str]] = sorted(
            ((alias, r.id) for r in self.regulations.values() for alias in r.aliases),
            key=lambda pair: -len(pair[0]),
        )

    # -- lookup ---------------------------------------------------------
    def regulation(self, name: str) -> Regulation | None:
        name = name.strip().strip("《》")
        if name in self.regulations:
            return self.regulations[name]
        for alias, rid in self._aliases:
            if alias == name:
                return self.regulations[rid]
        return None

    def article(self, regulation: str, number: int) -> Article | None:
        reg = self.regulation(regulation)
        return None if reg is None else reg.articles.get(number)

    def articles(self) -> Iterable[Article]:
        for reg in self.regulations.values():
            yield from reg.articles.values()

    def parse_citation(self, citation: str) -> Ref:
        """《电信条例》第三十二条第一款, 电信条例 32, 消法第55条 … → Ref.

        CitationError when the regulation or the form is unknown.
        """
        text = re.sub(r"\s+", " ", citation.strip())
        reg_id = None
        rest = ""
        m = re.match(r"^《([^》]+)》(.*)$", text)
        if m:
            reg = self.regulation(base_title(m.group(1)))
            reg_id, rest = (reg.id if reg else None), m.group(2)
        else:
            for alias, rid in self._aliases:
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
            rf"第?\s*([{_CN}]+|\d+)\s*条?"
            rf"(?:第\s*([{_CN}]+|\d+)\s*款)?"
            rf"(?:第\s*[（(]?([{_CN}]+|\d+)[)）]?\s*项)?",
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

    def resolve(self, citation: str | Ref) -> Ref:
        """A citation checked against what we hold: CitationError when we do not hold it."""
        ref = citation if isinstance(citation, Ref) else self.parse_citation(citation)
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
        reg = self.regulations[ref.regulation]
        out = f"《{reg.title}》"
        if ref.annex is not None:
            return out + f"附件{ref.annex}"
        out += f"第{int_to_cn(ref.article or 0)}条"
        if ref.paragraph is not None:
            out += f"第{int_to_cn(ref.paragraph)}款"
        if ref.item is not None:
            out += f"第（{int_to_cn(ref.item)}）项"
        return out

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
            "article": None if ref.article is None else f"第{int_to_cn(ref.article)}条",
            "text": self.text(ref),
            "partial": self.partial(ref),
            "province": reg.province,
        }


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


# -- loading ----------------------------------------------------------------


def source_files(dirs: Sequence[Path]) -> list[Path]:
    seen: dict[str, Path] = {}
    for d in dirs:
        if d.is_dir():
            for path in sorted(d.glob("*.md")):
                if path.name.lower() in ("readme.md", "claims-verification.md"):
                    continue
                seen[path.name] = path  # a later directory overrides a packaged file
    return [seen[k] for k in sorted(seen)]


def fingerprint_input(dirs: Sequence[Path]) -> bytes:
    """The bytes a corpus is made of (file names and contents, manifests)."""
    parts = []
    for path in source_files(dirs):
        parts.append(path.name.encode() + b"\0" + path.read_bytes())
    for d in dirs:
        mf = Path(d) / "manifest.json"
        if mf.exists():
            parts.append(mf.read_bytes())
    return b"\0".join(parts)


def fingerprint(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _titles() -> dict[str, dict[str, Any]]:
    path = DATA_DIR / "law" / "titles.yaml"
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def load(dirs: Sequence[Path] | None = None) -> Corpus:
    paths = source_files(list(dirs) if dirs else [REGULATIONS_DIR])
    manifest: dict[str, dict[str, Any]] = {}
    for d in dirs or [REGULATIONS_DIR]:
        mf = Path(d) / "manifest.json"
        if mf.exists():
            import json

            for entry in json.loads(mf.read_text(encoding="utf-8")).get("files", []):
                manifest[entry["file"]] = entry
    titles = _titles()
    regs: dict[str, Regulation] = {}
    for path in paths:
        text = path.read_text(encoding="utf-8")
        meta, _ = split_front_matter(text)
        title = base_title(str(meta.get("title") or ""))
        conf = titles.get(title, {})
        rid = conf.get("id") or _default_id(path.stem)
        parsed = parse_file(path.name, text, rid)
        title = base_title(parsed.title)
        info = {**manifest.get(path.name, {}), **meta}
        complete = bool(info.get("complete", True))
        reg = regs.get(rid)
        if reg is None:
            short = conf.get("short") or [title.removeprefix("中华人民共和国")]
            aliases = tuple(dict.fromkeys([title, *short, title.removeprefix("中华人民共和国")]))
            reg = Regulation(
                id=rid,
                title=title,
                short_title=short[0],
                aliases=aliases,
                province=province_of(title, meta),
                complete=complete,
                files=[],
                meta={k: v for k, v in info.items() if isinstance(v, str | int | bool)},
            )
            regs[rid] = reg
        else:
            reg.complete = reg.complete and complete
        reg.files.append(path.name)
        for art in parsed.articles:
            if art.number in reg.articles:
                raise CorpusError(f"{path.name}: {art.label} appears twice in {title}")
            reg.articles[art.number] = art
        for annex_item in parsed.annex:
            reg.annex[annex_item.label] = annex_item
    for reg in regs.values():
        reg.articles = dict(sorted(reg.articles.items()))
    # National texts first in the order of titles.yaml, then local ones, then the rest.
    order = {conf.get("id"): i for i, conf in enumerate(titles.values())}
    ranked = sorted(
        regs.values(), key=lambda r: (r.province is not None, order.get(r.id, len(order)), r.title)
    )
    return Corpus(ranked, fingerprint(paths))


NOTES_DIR = DATA_DIR / "law" / "article_notes"


def notes_files(directory: Path = NOTES_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml")) if directory.is_dir() else []


def load_notes(c: Corpus, directory: Path = NOTES_DIR) -> dict[str, list[str]]:
    """Article id → colloquial notes (how people describe what the article governs).

    A note for an article we do not hold is an error, like any citation.
    """
    out: dict[str, list[str]] = {}
    for path in notes_files(directory):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for citation, notes in data.items():
            try:
                ref = c.resolve(str(citation))
            except CitationError as err:
                raise CorpusError(f"{path.name}: {err}") from None
            out.setdefault(ref.id, []).extend(str(n) for n in notes or [])
    return out


@lru_cache(maxsize=1)
def packaged() -> Corpus:
    """The regulations shipped in the package (used to check data files at start-up)."""
    return load([REGULATIONS_DIR])


# -- the minimal reader the deadline rules use -------------------------------


@lru_cache(maxsize=32)
def articles(filename: str) -> dict[str, str]:
    """Map 第N条 → its full text, for one regulation file."""
    path = REGULATIONS_DIR / filename
    parsed = parse_file(filename, path.read_text(encoding="utf-8"), _default_id(path.stem))
    return {a.label: a.text for a in parsed.articles}


def article_text(filename: str, article: str) -> str | None:
    try:
        return articles(filename).get(article)
    except FileNotFoundError:
        return None
