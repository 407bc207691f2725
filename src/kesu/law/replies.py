"""Reply drafts (答复函草稿) from templates that are data (pure).

A template is chosen by category and outcome (data/law/replies.yaml); the
draft is: opening, the problem as the customer stated it, the facts found,
the resolution and remedy, the articles relied on quoted from the corpus, the
customer's next recourse, closing. Every citation is checked against the
corpus; an article we do not hold is never quoted.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kesu.law.citations import CitationError
from kesu.law.corpus import Corpus

OUTCOMES = {
    "upheld": "诉求成立",
    "partial": "部分成立",
    "not_upheld": "诉求不成立",
    "explained": "已解释说明",
}
PLACEHOLDERS = frozenset(
    {
        "customer",
        "number",
        "received_date",
        "problem",
        "demands",
        "findings",
        "remedy",
        "company",
        "hotline",
    }
)
FILL_FINDINGS = "【请填写核查情况】"
FILL_REMEDY = "【请填写处理结果】"
FILL_AMOUNT = "【请填写金额】"
# A lead-in the templates already write before {findings} ("经核查，{findings}"): one typed
# at the start of the handler's findings is dropped, so the draft never says it twice.
_LEAD_IN = re.compile(
    r"^(?:经(?:过)?(?:我们|我公司|我司)?(?:认真|仔细|详细)?(?:核查|核实|调查|查实|查询|了解|查)"
    r"(?:后|发现|得知)?|核查发现|核实发现|查实)[，,：:\s]*"
)
# A clause said twice in a row ("经核查，经核查，", "非常抱歉，非常抱歉。").
_REPEATED = re.compile(r"([^，,。；\n]{2,20}[，,；])(?:\s*\1)+")
_INLINE_CITATION = re.compile(
    r"《[^》]+》第[一二三四五六七八九十百零〇\d]+条(?:第[一二三四五六七八九十\d]+款)?"
    r"(?:第[（(][一二三四五六七八九十\d]+[)）]项)?"
)


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Template:
    id: str
    category: str
    outcome: str
    title: str
    findings: str
    resolution: str
    citations: tuple[str, ...]


@dataclass(frozen=True)
class Templates:
    common: Mapping[str, Any]
    templates: tuple[Template, ...]

    def pick(self, category: str | None, outcome: str) -> Template:
        for t in self.templates:
            if t.category == category and t.outcome == outcome:
                return t
        for t in self.templates:
            if t.category == "*" and t.outcome == outcome:
                return t
        fallback_outcome = "not_upheld" if outcome == "not_upheld" else "upheld"
        for t in self.templates:
            if t.category == "*" and t.outcome == fallback_outcome:
                return t
        raise TemplateError(f"no template for {category}/{outcome}")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def parse_templates(
    data: Mapping[str, Any],
    corpus: Corpus,
    categories: Sequence[str],
    remedy_kinds: Sequence[str] = (),
) -> Templates:
    common = data.get("common") or {}
    for key in ("opening", "problem", "basis_intro", "recourse", "closing"):
        if key not in common:
            raise TemplateError(f"common.{key} missing")
    remedies = common.get("remedies") or {}
    for kind in (*remedy_kinds, "unnamed"):
        text = remedies.get(kind)
        if not isinstance(text, str) or _fields(text) != {"amount"}:
            raise TemplateError(f"common.remedies.{kind}: a text with {{amount}} is needed")
    texts: list[tuple[str, str]] = [
        (f"common.{k}", v) for k, v in common.items() if isinstance(v, str)
    ]
    citations: list[tuple[str, str]] = [("common", c) for c in common.get("recourse_citations", [])]
    out: list[Template] = []
    seen: set[str] = set()
    for raw in data.get("templates", []):
        tid = raw.get("id")
        if not tid or tid in seen:
            raise TemplateError(f"template without a unique id: {tid!r}")
        seen.add(tid)
        if raw.get("outcome") not in OUTCOMES:
            raise TemplateError(f"{tid}: unknown outcome {raw.get('outcome')!r}")
        if raw.get("category") != "*" and raw.get("category") not in categories:
            raise TemplateError(f"{tid}: unknown category {raw.get('category')!r}")
        t = Template(
            id=tid,
            category=raw["category"],
            outcome=raw["outcome"],
            title=raw.get("title", ""),
            findings=raw["findings"],
            resolution=raw["resolution"],
            citations=tuple(raw.get("citations", [])),
        )
        texts += [(f"{tid}.findings", t.findings), (f"{tid}.resolution", t.resolution)]
        citations += [(tid, c) for c in t.citations]
        out.append(t)
    for where, text in texts:
        unknown = _fields(text) - PLACEHOLDERS
        if unknown:
            raise TemplateError(f"{where}: unknown placeholders {sorted(unknown)}")
    # An article named in the running text is held too, like the ones quoted under 处理依据.
    for where, text in texts + [(f"common.remedies.{k}", v) for k, v in remedies.items()]:
        citations += [(where, m.group(0)) for m in _INLINE_CITATION.finditer(text)]
    for where, citation in citations:
        try:
            corpus.resolve(citation)
        except CitationError as err:
            raise TemplateError(f"{where}: {err}") from None
    return Templates(common, tuple(out))


@dataclass(frozen=True)
class DraftInput:
    number: str
    category: str | None
    outcome: str
    customer: str
    received_date: str
    problem: str
    demands: str
    findings: str
    remedy: str
    company: str
    hotline: str
    extra_citations: tuple[str, ...] = ()
    province: str | None = None
    # The remedy when the handler typed none: its kind (refund, reduction, damages,
    # goodwill) and amount in yuan ("30.00"), worded by common.remedies.
    remedy_kind: str | None = None
    amount: str | None = None


def remedy_text(templates: Templates, kind: str | None, amount: str | None) -> str:
    """The remedy as a sentence naming what it is (退费 is not 补偿); "" without either."""
    if kind is None and amount is None:
        return ""
    remedies = templates.common["remedies"]
    return remedies.get(kind or "unnamed", remedies["unnamed"]).format(amount=amount or FILL_AMOUNT)


def without_lead_in(findings: str) -> str:
    """The findings without the lead-in the template already writes before them."""
    return _LEAD_IN.sub("", findings.strip(), count=1)


def without_repeats(text: str) -> str:
    """The text with a clause said twice in a row said once."""
    return _REPEATED.sub(r"\1", text)


def _fill(text: str, values: Mapping[str, str]) -> str:
    return text.format_map(values)


def render(templates: Templates, corpus: Corpus, d: DraftInput) -> dict[str, Any]:
    t = templates.pick(d.category, d.outcome)
    c = templates.common
    values = {
        "customer": d.customer,
        "number": d.number,
        "received_date": d.received_date,
        "problem": d.problem,
        "demands": d.demands,
        "findings": without_lead_in(d.findings) or FILL_FINDINGS,
        "remedy": d.remedy or remedy_text(templates, d.remedy_kind, d.amount) or FILL_REMEDY,
        "company": d.company,
        "hotline": d.hotline,
    }
    # Values are inserted as they are: braces typed by people are not placeholders.
    safe = values
    quoted: list[dict[str, Any]] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for citation in (*t.citations, *d.extra_citations):
        try:
            q = corpus.quote(citation)
        except CitationError as err:
            warnings.append(f"{err}；该条未写入草稿。")
            continue
        if q["id"] in seen:
            continue
        seen.add(q["id"])
        q["verified"] = True
        quoted.append(q)
        if q["partial"]:
            warnings.append(f"{q['citation']}：本系统仅收录该条的部分原文，请核对全文后再引用。")
    local = (c.get("recourse_by_province") or {}).get(d.province or "")
    recourse_text = _fill(c["recourse"], safe)
    recourse_citations = list(c.get("recourse_citations", []))
    if local:
        recourse_text += "\n" + _fill(local["text"], safe)
        recourse_citations += local["citations"]
    recourse_quoted = []
    for citation in recourse_citations:
        q = corpus.quote(citation)
        q["verified"] = True
        recourse_quoted.append(q)
    basis_lines = [_fill(c["basis_intro"], safe)]
    for i, q in enumerate(quoted, 1):
        basis_lines.append(f"{i}. {q['citation']}：{_strip_label(q['text'])}")
    sections = [
        {"key": "opening", "text": _fill(c["opening"], safe)},
        {"key": "problem", "text": _fill(c["problem"], safe)},
    ]
    if d.demands and c.get("demands"):
        sections.append({"key": "demands", "text": _fill(c["demands"], safe)})
    sections += [
        {"key": "findings", "text": _fill(t.findings, safe)},
        {"key": "resolution", "text": _fill(t.resolution, safe)},
        {"key": "basis", "text": "\n".join(basis_lines)},
        {"key": "recourse", "text": recourse_text},
        {"key": "closing", "text": _fill(c["closing"], safe)},
    ]
    for s in sections:
        s["text"] = without_repeats(s["text"])
    text = "\n\n".join(s["text"].strip("\n") for s in sections) + "\n"
    if "【请填写" in text or "【请注明" in text:  # left for the handler
        warnings.append("草稿中【】处需由处理人员填写后再发送。")
    return {
        "template": t.id,
        "template_title": t.title,
        "category": d.category,
        "outcome": d.outcome,
        "outcome_name": OUTCOMES[d.outcome],
        "text": text,
        "sections": sections,
        "citations": quoted,
        "recourse_citations": recourse_quoted,
        "warnings": warnings,
    }


def _strip_label(text: str) -> str:
    return re.sub(r"^第[一二三四五六七八九十百千零〇]+条(?:（[^）]*）)?\s*", "", text).replace(
        "\n", " "
    )
