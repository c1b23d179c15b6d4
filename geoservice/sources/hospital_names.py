"""Chinese hospital names reduced to a comparison key, so that the same hospital written two ways
compares equal while two different hospitals never do.

Health commissions publish certification lists by name; OpenStreetMap and registries name the
same hospital differently (full-width brackets, spaces, ``上海市`` vs ``上海``, a university
prefix). Every rule below removes only what does not tell two hospitals apart; anything that
could (a city, a campus in brackets, an unknown university) is kept, so a rule can merge two
spellings of one hospital but never two hospitals. Where the rules are not enough, the alias
table (``certification_aliases.csv``) says so explicitly.

* NFKC: full-width letters, digits and brackets become half-width (``（`` → ``(``);
  ``【】〔〕[]`` become ``()``; whitespace and the middle dot are dropped.
* A trailing legal form (``有限公司``, ``有限责任公司``, ``股份有限公司``): private hospitals are
  registered as companies and sometimes listed under that name; the legal form names no site.
* ``X大学(医学院)附属`` + name: for the universities of ``UNIVERSITY_CITY`` (Shanghai's medical
  schools) the prefix is replaced by the university's city, so ``上海交通大学医学院附属瑞金医院``
  and ``上海瑞金医院`` compare equal while ``复旦大学附属中山医院`` (上海) and
  ``厦门大学附属中山医院`` do not. Other universities keep their prefix: ``X大学附属第一医院``
  names no hospital without its university.
* A leading city's ``市`` (``上海市胸科医院`` = ``上海胸科医院``; the city itself is kept) and the
  ``区`` of a Shanghai district after it (``上海市徐汇区中心医院`` = ``上海徐汇中心医院``). A
  district is not read as a city: ``普陀区`` is in Shanghai and in Zhoushan.
* Brackets are kept in the key (``上海市第十人民医院(虬江路院区)`` is another site than
  ``上海市第十人民医院``); ``bracket_keys`` gives the name outside and each full name inside the
  brackets, for a second, weaker comparison.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["UNIVERSITY_CITY", "SHANGHAI_DISTRICTS", "name_key", "bracket_keys", "clean_name"]

# Universities whose affiliated hospitals are in one city; extend for another province.
UNIVERSITY_CITY: Final[dict[str, str]] = {
    "上海交通大学": "上海",
    "复旦大学": "上海",
    "同济大学": "上海",
    "上海中医药大学": "上海",
    "海军军医大学": "上海",
    "第二军医大学": "上海",  # the former name of 海军军医大学
}
# The 16 districts of Shanghai and three merged away since 2000 (still in hospital names).
SHANGHAI_DISTRICTS: Final = (
    "黄浦",
    "徐汇",
    "长宁",
    "静安",
    "普陀",
    "虹口",
    "杨浦",
    "闵行",
    "宝山",
    "嘉定",
    "浦东新",
    "金山",
    "松江",
    "青浦",
    "奉贤",
    "崇明",
    "卢湾",
    "闸北",
    "南汇",
)

_BRACKETS: Final = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")"})
_DROP: Final = re.compile(r"[\s·•・]+")
_LEGAL_FORM: Final = re.compile(r"(股份有限公司|有限责任公司|有限公司)$")
_UNIVERSITY: Final = re.compile("^(" + "|".join(map(re.escape, UNIVERSITY_CITY)) + r")(医学院|医学部)?附属(?=[^()]{2})")
_CITY_SHI: Final = re.compile(r"^([\u4e00-\u9fff]{2,4}?)市(?=[^()]{2})")
_DISTRICT_QU: Final = re.compile(r"^(上海)?(" + "|".join(SHANGHAI_DISTRICTS) + r")区(?=[^()]{2})")
_BRACKETED: Final = re.compile(r"\(([^()]*)\)")
_FULL_NAME: Final = re.compile(r"(医院|中心)$")


def clean_name(name: str) -> str:
    """The name as written, in one width: NFKC, ``()`` brackets, no spaces or middle dots."""
    return _DROP.sub("", unicodedata.normalize("NFKC", name).translate(_BRACKETS))


def name_key(name: str) -> str:
    """The comparison key of a hospital name (see the module docstring for each rule)."""
    key = _LEGAL_FORM.sub("", clean_name(name))
    m = _UNIVERSITY.match(key)
    if m:
        key = UNIVERSITY_CITY[m.group(1)] + key[m.end() :]
    key = _CITY_SHI.sub(r"\1", key)
    return _DISTRICT_QU.sub(r"\1\2", key)


def bracket_keys(name: str) -> tuple[str, ...]:
    """Weaker keys for a name with brackets: the name outside them, and every bracketed part that
    is a full name itself (ends in 医院 or 中心, 4+ characters: ``(上海长征医院)``, not ``(北院)``).
    Empty for a name without brackets."""
    clean = clean_name(name)
    inner = _BRACKETED.findall(clean)
    if not inner:
        return ()
    outside = _BRACKETED.sub("", clean)
    keys = [name_key(outside)] if outside else []
    keys += [name_key(p) for p in inner if len(p) >= 4 and _FULL_NAME.search(p)]
    return tuple(dict.fromkeys(k for k in keys if k))
