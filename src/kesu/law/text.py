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
    colloquial: str  # what the customer said
    legal: tuple[str, ...]  # the words the law uses


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


def expand(query: str) -> list[Expansion]:
    """The legal wording for the colloquial expressions found in a query."""
    norm = normalize(query)
    found: list[Expansion] = []
    for colloquial, legal in synonym_groups():
        hit = next((c for c in colloquial if c in norm), None)
        if hit is not None:
            found.append(Expansion(hit, legal))
    return found
