"""The pinyin search keys of a Chinese name, so that a place can be found by typing its pinyin
("renminguangchang") or its initials ("rmgc") on a phone keyboard without a Chinese IME.

``pypinyin`` works offline from its own dictionary (with phrases, so 长乐路 is "changlelu" and 重庆
南路 "chongqingnanlu"). Characters that are not Chinese are kept as they are, so "3号线" gives
"3haoxian" and "3hx". Names without a Chinese character have no pinyin keys.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["has_han", "pinyin_keys"]

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NOT_ALNUM = re.compile(r"[\W_]+")


def has_han(text: str) -> bool:
    """True when ``text`` holds a Chinese (Han) character."""
    return bool(_HAN.search(text))


@lru_cache(maxsize=65536)
def pinyin_keys(name: str) -> tuple[str, str] | None:
    """(full pinyin, initials) of ``name``, lower case, letters and digits only; None when the name
    has no Chinese character."""
    if not has_han(name):
        return None
    from pypinyin import Style, lazy_pinyin

    full = "".join(lazy_pinyin(name, errors="default"))
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default"))
    clean = (_NOT_ALNUM.sub("", full.lower()), _NOT_ALNUM.sub("", initials.lower()))
    return clean if clean[0] else None
