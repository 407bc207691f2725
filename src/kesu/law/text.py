"""Chinese text for legal search: tokens, and the bridge from how customers speak.

Pure. jieba with the telecom/legal user dictionary (data/law/userdict.txt)
on top of the triage dictionary; a separate tokenizer from triage's, so that
the classifier's features do not move when the law dictionary grows.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from kesu.data_files import DATA_DIR, load_yaml
from kesu.law.bm25 import BM25

_lock = threading.Lock()
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_WORDLIKE = re.compile(r"[\u4e00-\u9fff]|[a-z0-9]")
_STOPWORDS_TEXT = (
    "的 了 是 在 我 你 他 她 它 们 我们 你们 和 与 或 或者 及 以及 "
    "等 也 都 就 还 又 再 吧 呢 吗 啊 呀 么 么样 怎么 怎么办 怎么样 "
    "什么 为什么 能不能 可不可以 可以 能 会 要 想 让 把 被 给 对 向 "
    "从 到 这 那 这个 那个 一个 有 没 没有 不 很 太 说 问 请问 一下 "
    "现在 已经 自己 本 其 之 所 应当 应该 规定 依照 按照 有关 办 做 "
    "去 来 上 下 里 中 个 条 款 项 "
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for path in (DATA_DIR / "triage" / "userdict.txt", DATA_DIR / "law" / "userdict.txt"):
        if path.exists():
            tokenizer.load_userdict(str(path))
    return tokenizer


def words(text: str) -> list[str]:
    """Content words (jieba, search mode), lowercased, without stopwords and punctuation."""
    norm = normalize(text)
    with _lock:
        raw = _jieba().lcut_for_search(norm)
    return [w for w in raw if w.strip() and w not in STOPWORDS and _WORDLIKE.search(w)]


def bigrams(text: str) -> list[str]:
    """Character bigrams inside runs of Chinese characters."""
    out: list[str] = []
    for run in _CJK.findall(normalize(text)):
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


@dataclass(frozen=True)
class Expansion:
    colloquial: str  # what the customer said (the phrase of the synonym list it matched)
    legal: tuple[str, ...]  # the words the law uses
    strength: float = 1.0  # 1.0 when the phrase occurs as it is; less when only mostly


@lru_cache(maxsize=1)
def synonym_groups() -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    path = DATA_DIR / "law" / "synonyms.yaml"
    if not path.exists():
        return ()
    data = load_yaml("law/synonyms.yaml") or {}
    out = []
    for group in data.get("groups", []):
        colloquial = tuple(normalize(str(c)) for c in group.get("colloquial", []) if c)
        legal = tuple(normalize(str(x)) for x in group.get("legal", []) if x)
        if colloquial and legal:
            out.append((colloquial, legal))
    return tuple(out)


def _grams(phrase: str) -> frozenset[str]:
    return frozenset(phrase[i : i + 2] for i in range(len(phrase) - 1))


@lru_cache(maxsize=1)
def _phrase_index() -> tuple[list[tuple[int, str, frozenset[str]]], dict[str, list[int]]]:
    """Phrases of four or more characters by their bigrams, for near matches."""
    phrases: list[tuple[int, str, frozenset[str]]] = []
    by_gram: dict[str, list[int]] = {}
    for g, (colloquial, _legal) in enumerate(synonym_groups()):
        for phrase in colloquial:
            grams = _grams(phrase)
            if len(phrase) < 4 or len(grams) < 3:
                continue
            phrases.append((g, phrase, grams))
            for gram in grams:
                by_gram.setdefault(gram, []).append(len(phrases) - 1)
    return phrases, by_gram


NEAR = 0.9  # share of a phrase's bigrams the query must hold for a near match


def expand(query: str) -> list[Expansion]:
    """The legal wording for the colloquial expressions found in a query.

    A phrase found as it is counts fully; a longer phrase most of whose
    character pairs occur in the query ("单独办个宽带" for "单独办宽带")
    counts by the share found.
    """
    norm = normalize(query)
    groups = synonym_groups()
    best: dict[int, Expansion] = {}
    for g, (colloquial, legal) in enumerate(groups):
        hit = next((c for c in colloquial if c in norm), None)
        if hit is not None:
            best[g] = Expansion(hit, legal, 1.0)
    phrases, by_gram = _phrase_index()
    query_grams = _grams(norm)
    counts: dict[int, int] = {}
    for gram in query_grams:
        for i in by_gram.get(gram, ()):
            counts[i] = counts.get(i, 0) + 1
    for i, n in counts.items():
        g, phrase, grams = phrases[i]
        share = n / len(grams)
        if share >= NEAR and (g not in best or best[g].strength < share):
            best[g] = Expansion(phrase, groups[g][1], round(share, 3))
    # The groups whose phrases, taken together, read most like the query.
    for g, strength in _closest_groups(norm):
        if g not in best:
            best[g] = Expansion("≈" + groups[g][0][0], groups[g][1], strength)
    return [best[g] for g in sorted(best)]


GROUP_TOP = 2  # at most this many groups by resemblance
# Words that name the parties or the product rather than the situation: they
# do not make a query resemble one group more than another.
_GENERIC_TEXT = (
    "运营商 营业厅 营业员 客服 电信 移动 联通 广电 公司 手机 电话 号码 手机号 "
    "宽带 用户 我们 他们 人家 东西 事情 时候 今天 昨天 现在 一直 还是 结果"
)
GENERIC = frozenset(_GENERIC_TEXT.split())
GROUP_RELATIVE = 0.5  # a group must score at least half the best one
GROUP_MIN = 4.0  # and this much in absolute BM25 terms


@lru_cache(maxsize=1)
def _group_index() -> BM25:
    docs = []
    for colloquial, _legal in synonym_groups():
        doc: list[str] = []
        for phrase in colloquial:
            doc += [w for w in words(phrase) if w not in GENERIC]
        docs.append(doc)
    return BM25(docs)


def _closest_groups(norm: str) -> list[tuple[int, float]]:
    scores: dict[int, float] = {}
    _group_index().scores({w: 1.0 for w in words(norm) if w not in GENERIC}, scores)
    top = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:GROUP_TOP]
    if not top:
        return []
    best = top[0][1]
    return [
        (g, round(s / best, 3)) for g, s in top if s >= GROUP_RELATIVE * best and s >= GROUP_MIN
    ]
