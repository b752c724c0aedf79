"""PDF of a Word form through LibreOffice, for reading and printing.

`docx_to_pdf(source, out_dir=None, *, timeout=180) -> Path` converts a .docx file with
`soffice --headless --convert-to pdf` and returns the PDF's path (next to the source unless
`out_dir` is given); `pdf_bytes(docx_bytes, *, timeout=180) -> bytes` does the same in a
temporary folder. Each conversion runs with its own LibreOffice profile, so conversions can run
side by side and never touch the user's profile. Without LibreOffice, or when it fails or
takes too long, a `LedgerError` says so in Chinese. The unit's e-seal (OFD) stays on the
government platform; this PDF is for reading and printing only.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ledger.errors import LedgerError

__all__ = ["docx_to_pdf", "find_office", "office_available", "pdf_bytes"]

DEFAULT_TIMEOUT = 180.0
_PROGRAMS = ("soffice", "libreoffice")

# Where the official fonts are missing, fontconfig picks any font, often a Japanese face.
# These rules keep the official font when it is installed and otherwise fall back to the
# closest look: serif (宋) for 方正小标宋 (in bold), 仿宋 and 宋体, sans for 黑体.
_FONT_RULES = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">{base}</include>
  <match target="pattern">
    <test name="family"><string>方正小标宋简体</string></test>
    <edit name="family" mode="append" binding="same"><string>FZXiaoBiaoSong-B05S</string>
      <string>Noto Serif CJK SC</string><string>Source Han Serif SC</string></edit>
    <edit name="weight" mode="assign"><const>bold</const></edit>
  </match>
  <alias binding="same"><family>仿宋_GB2312</family><accept><family>FangSong</family>
    <family>仿宋</family><family>Noto Serif CJK SC</family></accept></alias>
  <alias binding="same"><family>宋体</family><accept><family>SimSun</family>
    <family>Noto Serif CJK SC</family></accept></alias>
  <alias binding="same"><family>黑体</family><accept><family>SimHei</family>
    <family>Noto Sans CJK SC</family></accept></alias>
</fontconfig>
"""


def find_office() -> str | None:
    """The LibreOffice program on PATH, or None."""
    for program in _PROGRAMS:
        found = shutil.which(program)
        if found:
            return found
    return None


def office_available() -> bool:
    return find_office() is not None


def docx_to_pdf(
    source: Path | str, out_dir: Path | str | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> Path:
    """Convert a .docx to PDF with LibreOffice; the PDF's path."""
    source = Path(source).resolve()
    if not source.is_file():
        raise LedgerError(f"找不到要转换的文件：{source}")
    office = find_office()
    if office is None:
        raise LedgerError(
            "未安装 LibreOffice（找不到 soffice 或 libreoffice 命令），无法生成 PDF；"
            "请安装 LibreOffice（如 apt-get install libreoffice-writer-nogui fonts-noto-cjk）"
            "后重试，或改为导出 DOCX"
        )
    target_dir = Path(out_dir).resolve() if out_dir else source.parent
    target_dir.mkdir(parents=True, exist_ok=True)
    pdf = target_dir / f"{source.stem}.pdf"
    pdf.unlink(missing_ok=True)  # LibreOffice may exit 0 without writing: never return a stale one
    with tempfile.TemporaryDirectory(prefix="taizhang-lo-") as profile:
        env = _environment(Path(profile))
        command = [
            office,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(target_dir),
            str(source),
        ]
        returncode, output = _run(command, env, timeout, source.name, office)
    if returncode != 0 or not pdf.is_file():
        detail = output.decode("utf-8", "replace").strip()
        tail = detail.splitlines()[-1] if detail else f"退出码 {returncode}"
        raise LedgerError(f"LibreOffice 未能把“{source.name}”转换为 PDF：{tail}")
    return pdf


def _run(
    command: list[str], env: dict[str, str], timeout: float, name: str, office: str
) -> tuple[int, bytes]:
    """Run LibreOffice in its own process group, so that a timeout ends all of it."""
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except OSError as err:
        raise LedgerError(f"无法启动 LibreOffice（{office}）：{err}") from None
    with process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.communicate()
            message = f"LibreOffice 转换 PDF 超时（超过 {timeout:g} 秒）：{name}"
            raise LedgerError(message) from None
    return process.returncode, err or out


def _kill_group(process: subprocess.Popen) -> None:
    killpg = getattr(os, "killpg", None)
    try:
        if killpg is not None:
            killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
        pass


def _environment(profile: Path) -> dict[str, str]:
    """The environment for LibreOffice: our font fallbacks on top of the system's."""
    env = dict(os.environ)
    base = env.get("FONTCONFIG_FILE") or "/etc/fonts/fonts.conf"
    if Path(base).is_file():
        rules = profile / "fonts.conf"
        rules.write_text(_FONT_RULES.format(base=base), encoding="utf-8")
        env["FONTCONFIG_FILE"] = str(rules)
    return env


def pdf_bytes(docx_bytes: bytes, *, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """The PDF of a .docx given as bytes."""
    with tempfile.TemporaryDirectory(prefix="taizhang-pdf-") as folder:
        source = Path(folder) / "form.docx"
        source.write_bytes(docx_bytes)
        return docx_to_pdf(source, timeout=timeout).read_bytes()
