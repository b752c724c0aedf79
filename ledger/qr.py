"""QR codes of invite links, as PNG images (for the command line's files and the bot's photos)."""

from __future__ import annotations

import io

__all__ = ["QR_BOX_FILE", "QR_BOX_SHEET", "qr_png"]

QR_BOX_FILE = 10  # pixels per QR module in a PNG file or a chat photo
QR_BOX_SHEET = 4  # pixels per QR module in a workbook


def qr_png(data: str, box_size: int = QR_BOX_FILE, border: int = 4) -> bytes:
    """A QR code of `data` as PNG bytes (error correction M: survives a smudge or a crease)."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()
