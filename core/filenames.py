"""Safe file names from user text (scene names, coordinators, organisations).

One rule for every file SceneMatch writes (proposals, plan summaries, opportunity sheets,
packages): path separators, ``: * ? " < > |`` and control/format characters become "_"
(runs of "_" collapse), whitespace runs become one space, leading and trailing dots,
spaces and "_" go; names stay under the file systems' byte limit and avoid the device
names Windows reserves.
"""

from __future__ import annotations

import os
import re
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

_UNSAFE = re.compile(r'[/\\:*?"<>|]')
_MAX_NAME_BYTES = 180  # well under the 255-byte limit of common file systems, with room for .part
_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{d}{i}" for d in ("COM", "LPT") for i in range(1, 10)])


def safe_filename_part(text: str, max_chars: int = 60) -> str:
    """``text`` made safe inside a file name (see the module); may be empty."""
    out = []
    for ch in str(text):
        cat = unicodedata.category(ch)
        if _UNSAFE.match(ch) or cat in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            out.append("_")
        elif ch.isspace():
            out.append(" ")
        else:
            out.append(ch)
    cleaned = re.sub(r"_{2,}", "_", re.sub(r" +", " ", "".join(out))).strip(" ._")
    return cleaned[:max_chars].rstrip(" ._")


def bounded_filename(stem: str, suffix: str) -> str:
    """``stem + suffix`` cut so the name stays under the byte limit (and is not a device
    name Windows reserves)."""
    while len((stem + suffix).encode("utf-8")) > _MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    stem = stem.rstrip(" .")
    if stem.upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    return stem + suffix


def partial_beside(target: Path) -> Path:
    """A new, hidden, unique name beside ``target`` for the file being written (``.part``):
    created with ``open(..., "x")``, not mkstemp, so the finished file gets the usual
    permissions (umask), not 0600."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")


def write_atomically(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write`` on a temporary file beside ``target``, then rename it into place, so a
    reader (or a crash) never sees half a document."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_beside(target)
    try:
        with open(tmp, "xb") as fh:
            write(fh)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
