"""Keep the gettext catalogues in step with the code.

uv run python tools/i18n.py update      # extract, merge; en mirrors the English msgids
uv run python tools/i18n.py missing     # list zh_CN messages still untranslated
uv run python tools/i18n.py translate [FILE.yaml]  # merge {msgid: 中文} pairs into zh_CN
                                                  # (default: every locales/pairs/*.yaml)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from locales import LANGUAGES, po_path  # noqa: E402

POT = ROOT / "locales" / "taizhang.pot"


def update() -> None:
    subprocess.run(
        [
            "pybabel",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "__",
            "-k",
            "N_",
            "--no-location",
            "--omit-header",
            "--sort-output",
            "-o",
            str(POT),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    for language in LANGUAGES:
        subprocess.run(
            [
                "pybabel",
                "update",
                "-i",
                str(POT),
                "-d",
                "locales",
                "-D",
                "taizhang",
                "-l",
                language,
                "--no-fuzzy-matching",
                "--ignore-obsolete",
                "--omit-header",
            ],
            cwd=ROOT,
            check=True,
        )
    _mirror_english()


def _mirror_english() -> None:
    path = po_path("en")
    with path.open("rb") as f:
        catalog = read_po(f, locale="en")
    for message in catalog:
        if message.id and not message.string:
            message.string = message.id
    with path.open("wb") as f:
        write_po(f, catalog, omit_header=True, width=99)


def missing() -> list[str]:
    with po_path("zh_CN").open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    return [m.id for m in catalog if m.id and not m.string]


PAIRS_DIR = ROOT / "locales" / "pairs"


def translate(pairs_file: Path | None = None) -> None:
    """Fill zh_CN from {msgid: 中文} files: the one given, or every file in locales/pairs/."""
    files = [pairs_file] if pairs_file else sorted(PAIRS_DIR.glob("*.yaml"))
    pairs: dict[str, str] = {}
    for file in files:
        pairs.update(yaml.safe_load(file.read_text(encoding="utf-8")) or {})
    path = po_path("zh_CN")
    with path.open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    for message in catalog:
        if message.id in pairs:
            message.string = pairs[message.id]
    with path.open("wb") as f:
        write_po(f, catalog, omit_header=True, width=99)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "update"
    if command == "update":
        update()
    elif command == "missing":
        for msgid in missing():
            print(repr(msgid))
    elif command == "translate":
        translate(Path(sys.argv[2]) if len(sys.argv) > 2 else None)
