"""Text features for the complaint classifier (pure).

One tokenizer used both when training (through scikit-learn) and when
predicting (in numpy alone), so the shipped model behaves the same everywhere:
normalised text → character 1–3-grams + jieba words (with a telecom user
dictionary). Digits are folded to 0, so that amounts and dates do not become
vocabulary.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

from kesu.data_files import DATA_DIR

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_lock = threading.Lock()
FEATURE_VERSION = 1


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(str(DATA_DIR / "triage" / "userdict.txt"))
    return tokenizer


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = _DIGITS.sub("0", text)
    return _SPACE.sub(" ", text).strip()


def tokens(text: str) -> list[str]:
    """The features of one text: c:<char n-gram> and w:<word>."""
    norm = normalize(text)
    compact = norm.replace(" ", "")
    out = [f"c:{compact[i : i + n]}" for n in (1, 2, 3) for i in range(len(compact) - n + 1)]
    with _lock:  # jieba's tokenizer is not thread-safe while it initialises
        words = [w for w in _jieba().lcut(norm) if w.strip()]
    out += [f"w:{w}" for w in words if len(w) > 1]
    return out
