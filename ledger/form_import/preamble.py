"""The preamble: title, subtitle, intro and the 填报单位 line; the plan's year, issuer,
rounds and key guessed from them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ledger.deadlines import parse_deadline
from ledger.errors import LedgerError
from ledger.form_import.grid import Para
from ledger.form_import.text import join_short
from ledger.model import RoundSpec

_CONTACT_LABEL = re.compile(
    r"(?P<label>填报单位|联系人|联系电话|电话)\s*(?:[（(][^）)\n]{0,10}[）)])?\s*[:：]"
)
_CONTACT_FIELDS = {"填报单位": "unit", "联系人": "contact", "联系电话": "phone", "电话": "phone"}


@dataclass
class Preamble:
    title: str = ""
    subtitle: str = ""
    intro: str = ""
    unit: str = ""
    contact: str = ""
    phone: str = ""
    has_contact_line: bool = False


def read_preamble(paras: list[Para]) -> Preamble:
    preamble = Preamble()
    intro: list[str] = []
    for para in paras:
        if _CONTACT_LABEL.search(para.text):
            preamble.has_contact_line = True
            _read_contact_line(para.text, preamble)
        elif not preamble.title:
            lines = para.text.split("\n")
            while len(lines) > 1 and _is_bracketed(lines[-1]):
                preamble.subtitle = lines.pop()
            preamble.title = join_short(lines)
        elif _is_bracketed(para.text) and not preamble.subtitle and not intro:
            preamble.subtitle = para.text
        elif para.centered and not preamble.subtitle and not intro:
            preamble.title = join_short([preamble.title, para.text])  # a title on two lines
        else:
            intro.append(para.text)
    preamble.intro = "\n".join(intro)
    return preamble


def _is_bracketed(text: str) -> bool:
    text = text.strip()
    return len(text) >= 2 and text[0] in "（(" and text[-1] in "）)"


def _read_contact_line(text: str, preamble: Preamble) -> None:
    """填报单位：…  联系人：…  联系电话：… with any colons and spacing; blanks stay blank."""
    matches = list(_CONTACT_LABEL.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        value = text[match.end() : end].split("\n")[0]
        value = value.strip().strip("_＿").strip()
        attribute = _CONTACT_FIELDS[match["label"]]
        if value and not getattr(preamble, attribute):
            setattr(preamble, attribute, value)


_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_ROUNDS = re.compile(r"于((?:\d{4}\s*年)?\s*\d{1,2}\s*月[^，。；;]{1,40}?)前?报送")


def guess_year(*texts: str) -> int | None:
    for text in texts:
        match = _YEAR.search(text)
        if match:
            return int(match.group(1))
    return None


def guess_issuer(title: str) -> str:
    """The office named before the year in a title such as 银川市…办公室2023年…台账."""
    match = _YEAR.search(title)
    return title[: match.start()].strip() if match else ""


def guess_rounds(intro: str, year: int | None) -> list[RoundSpec]:
    """Reporting days announced in the intro (…分别于2023年8月10日、12月1日前报送…)."""
    match = _ROUNDS.search(intro)
    if not match:
        return []
    try:
        deadline = parse_deadline(match.group(1), default_year=year)
    except LedgerError:
        return []
    return [RoundSpec(due=day.isoformat()) for day in deadline.dates]


def slug(source: str, year: int | None) -> str:
    """A plan key from the file name: its Latin letters and digits; plan-YEAR without any."""
    stem = Path(source).stem if not source.startswith("<") else ""
    folded = unicodedata.normalize("NFKC", stem).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.encode("ascii", "ignore").decode()).strip("-")
    if slug and not slug.isdigit():
        return slug[:48].strip("-")
    return f"plan-{year}" if year else "plan"
