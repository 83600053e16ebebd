"""The UI language: Chinese first, English a menu switch away (persisted in QSettings).

Texts are written in place as ``tr("中文", "English")``; widgets re-read them in their
``retranslate()`` when the language changes. No .ts/.qm tool chain: every text sits next
to its translation, so neither can go missing.
"""

from __future__ import annotations

LANGUAGES = ("zh", "en")
_current = "zh"


def language() -> str:
    """The current UI language, "zh" or "en"."""
    return _current


def set_language(code: str) -> None:
    """Switch the UI language (widgets must then call their ``retranslate()``)."""
    global _current
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}")
    _current = code


def tr(zh: str, en: str) -> str:
    """The text in the current language."""
    return zh if _current == "zh" else en


def pick(value: object, labels: dict[str, tuple[str, str]]) -> str:
    """The label of an enum value / code from a ``{code: (zh, en)}`` table (the code if absent)."""
    code = getattr(value, "value", value)
    pair = labels.get(str(code))
    return str(code) if pair is None else tr(*pair)


FIELD_LABELS = {"industrial": ("工业制造", "Industrial"), "service": ("服务", "Service"),
                "special": ("特种", "Special")}
ROLE_LABELS = {
    "user_unit": ("用户单位", "User unit"), "maker": ("整机企业", "Robot maker"),
    "service_provider": ("服务商", "Service provider"), "algorithm": ("算法企业", "Algorithm"),
    "component": ("零部件企业", "Component"), "institute": ("科研院所", "Institute"),
}
STATUS_LABELS = {
    "candidate": ("候选", "Candidate"), "selected": ("已入选", "Selected"),
    "consortium_formed": ("已组建联合体", "Consortium formed"), "training": ("训练中", "Training"),
    "validated": ("已验证", "Validated"), "deployed": ("已部署", "Deployed"),
}
OWNERSHIP_LABELS = {
    "central_soe": ("央企", "Central SOE"), "local_soe": ("地方国企", "Local SOE"),
    "private": ("民营", "Private"), "foreign": ("外资", "Foreign"),
    "public_institution": ("事业单位", "Public institution"),
}
