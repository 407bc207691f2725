"""Reading the regulation files into a Corpus, and the article notes that go with it.

Pure: reads Markdown files (front matter + text) and returns values. The
files are the ones copied from ../shared/regulations (packaged under
data/regulations/) plus any an operator drops into the extra directory. Ids of
regulations, titles and aliases come from the file names and
data/law/titles.yaml, provinces from data/provinces.yaml; article notes (how
people describe what an article governs) from data/law/article_notes/. A
minimal reader (`article_text`) serves the rules files that quote articles.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from kesu.data_files import DATA_DIR, load_yaml
from kesu.law.citations import CN_NUMERALS, CitationError, base_title
from kesu.law.corpus import AnnexItem, Article, Corpus, Item, Paragraph, Regulation
from kesu.law.numerals import cn_to_int

REGULATIONS_DIR = DATA_DIR / "regulations"
NOTES_DIR = DATA_DIR / "law" / "article_notes"

_ARTICLE = re.compile(rf"^第([{CN_NUMERALS}]+)条((?:（[^）]*）)?)[\s　]*(.*)$")
_ITEM = re.compile(rf"^[（(]([{CN_NUMERALS}]+)[)）]\s*(.*)$")
_ANNEX_ITEM = re.compile(r"^(\d+(?:\.\d+)+)\s+(.*)$")
_GAP = "〔"


class CorpusError(ValueError):
    """A regulation file that cannot be read as one."""


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
