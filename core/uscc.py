"""统一社会信用代码 (USCC): GB 32100-2015 check character.

18 characters: registration authority, organisation type, 6-digit region,
9-character organisation code, check character. The alphabet has 31 symbols
(no I, O, S, V, Z); each position is weighted by 3**i mod 31.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


def check_character(first17: str) -> str:
    """The check character for the first 17 characters of a USCC."""
    if len(first17) != 17:
        raise ValueError("a USCC body has 17 characters")
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid USCC, in Chinese and English; ``None`` if it is."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位，实际 {len(code)} 位 / a USCC has 18 characters, got {len(code)}"
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        shown = "".join(bad)
        return f"统一社会信用代码含非法字符 “{shown}” / USCC contains invalid characters {shown!r}"
    expected = check_character(code[:17])
    if code[17] != expected:
        return (
            f"统一社会信用代码校验位错误：应为 {expected}，实为 {code[17]} / "
            f"USCC check character should be {expected}, got {code[17]}"
        )
    return None


def make_uscc(body17: str) -> str:
    """A valid USCC from its first 17 characters (for generators and tests)."""
    return body17 + check_character(body17)
