"""Reading PDFs back in tests: the text of every page, and text without whitespace."""

from __future__ import annotations

import io
import re
from pathlib import Path

from pypdf import PdfReader


def text_of(source: Path | bytes) -> str:
    """The extracted text of every page of a PDF file (or its bytes)."""
    reader = PdfReader(io.BytesIO(source) if isinstance(source, bytes) else source)
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def squash(text: str) -> str:
    """Text without whitespace: table cells wrap long names over lines."""
    return re.sub(r"\s+", "", text)
