"""The preamble: title, subtitle, intro and the 填报单位 line, or a notice (通知) in front of
the table; the plan's year, issuer, rounds and key guessed from them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
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
    notice: Notice | None = None


@dataclass
class Notice:
    """The 通知 that sends the table out: 文号, title, 主送机关, issuing office and date."""

    number: str = ""  # 文号, e.g. 兴政办发〔2021〕15号
    title: str = ""  # 关于印发《…》的通知
    addressees: str = ""  # 主送机关, without the final colon
    issuer: str = ""  # the office that signs it
    date: str = ""  # as printed, e.g. 2021年4月2日
    day: str = ""  # the same as YYYY-MM-DD, when it reads as a date
    document: str = ""  # the name in 《…》 of the title: what the notice sends out

    def as_dict(self) -> dict[str, str]:
        return {
            "number": self.number,
            "title": self.title,
            "addressees": self.addressees,
            "issuer": self.issuer,
            "date": self.date,
            "day": self.day,
            "document": self.document,
        }


_DOC_NUMBER = re.compile(
    r"\S{1,16}?\s*[〔\[［【(（]\s*(?:19|20)\d{2}\s*[〕\]］】)）]\s*第?\s*\d{1,5}\s*号"
)
_NOTICE_TITLE = re.compile(r"(?:关于|印发|转发).*(?:通知|通报|函)$", re.DOTALL)
_SIGN_DATE = re.compile(
    r"^[（(]?\s*(?:(?:19|20)\d{2}|[〇零一二三四五六七八九]{4})\s*年\s*[\d一二三四五六七八九十]{1,3}\s*月"
    r"\s*[\d一二三四五六七八九十]{1,3}\s*日\s*[）)]?$"
)
_ATTACHMENT = re.compile(r"^附\s*件\s*\d*\s*[:：]?\s*(?:\d+\s*[.．、]?)?")
_QUOTED = re.compile(r"《([^》]{2,80})》")
_ORG_END = ("办公室", "政府", "局", "委员会", "厅", "委", "办", "院", "中心", "部", "处", "会")


def read_preamble(paras: list[Para]) -> Preamble:
    notice_at = _notice_start(paras)
    if notice_at is not None:
        return _read_notice(paras, notice_at)
    return _read_plain(paras)


def _notice_start(paras: list[Para]) -> int | None:
    """Where a notice's title is, when the text in front of the table is a notice."""
    for index, para in enumerate(paras[:30]):
        text = join_short(para.text.split("\n"))
        if len(text) <= 120 and _NOTICE_TITLE.search(text) and not _CONTACT_LABEL.search(text):
            return index
    return None


def _read_notice(paras: list[Para], title_at: int) -> Preamble:
    notice = Notice()
    for para in paras[:title_at]:
        text = join_short(para.text.split("\n"))
        number = _DOC_NUMBER.search(text)
        if number and not notice.number:
            notice.number = "".join(number.group().split())
        elif text.endswith("文件") and len(text) <= 30:
            notice.issuer = text[:-2].strip()
    lines = [join_short(paras[title_at].text.split("\n"))]
    at = title_at + 1
    while not lines[-1].endswith(("通知", "通报", "函")) and at < len(paras) and at < title_at + 3:
        lines.append(join_short(paras[at].text.split("\n")))  # a title on two lines
        at += 1
    notice.title = join_short(lines)
    if quoted := _QUOTED.search(notice.title):
        notice.document = quoted.group(1)
    if not notice.issuer and "关于" in notice.title:
        notice.issuer = notice.title.split("关于", 1)[0].strip()
    rest = paras[at:]
    if rest and rest[0].text.rstrip().endswith(("：", ":")) and len(rest[0].text) <= 200:
        notice.addressees = join_short([rest[0].text.rstrip().rstrip("：:")])
        rest = rest[1:]
    date_at = next(
        (i for i, p in enumerate(rest) if _SIGN_DATE.match("".join(p.text.split()))), None
    )
    body: list[Para] = rest
    after: list[Para] = []
    if date_at is not None:
        notice.date = "".join(rest[date_at].text.split()).strip("（()）")
        notice.day = _iso_day(notice.date)
        body, after = rest[:date_at], rest[date_at + 1 :]
        if body and _looks_like_office(body[-1].text):
            notice.issuer = join_short([body[-1].text])
            body = body[:-1]
    after = [_without_attachment_label(p) for p in after if not _is_attachment_label(p.text)]
    preamble = _read_plain(after)
    preamble.notice = notice
    if not preamble.title:
        preamble.title = notice.document or _bare_title(notice.title)
    intro = [p.text for p in body if not _is_attachment_label(p.text)]
    preamble.intro = "\n".join(t for t in [*intro, preamble.intro] if t)
    return preamble


def _iso_day(text: str) -> str:
    try:
        deadline = parse_deadline(text)
    except LedgerError:
        return ""
    return deadline.date.isoformat() if deadline.date else ""


def _looks_like_office(text: str) -> bool:
    text = join_short(text.split("\n"))
    return len(text) <= 40 and text.endswith(_ORG_END) and not any(c in text for c in "，。；：")


def _is_attachment_label(text: str) -> bool:
    """附件 / 附件1 / 附件：… (the name alone, on the page that starts the table)."""
    match = _ATTACHMENT.match(text.strip())
    return bool(match) and len(text.strip()) <= 8


def _without_attachment_label(para: Para) -> Para:
    """附件：2021年…分解表 → 2021年…分解表"""
    match = _ATTACHMENT.match(para.text)
    if match and match.end() and len(para.text) - match.end() >= 4:
        return replace(para, text=para.text[match.end() :].strip())
    return para


def _bare_title(title: str) -> str:
    """关于印发…的通知 → …"""
    text = re.sub(r"^.*?关于(?:印发|转发)?", "", title)
    return re.sub(r"的(?:通知|通报|函)$", "", text) or title


def _read_plain(paras: list[Para]) -> Preamble:
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
