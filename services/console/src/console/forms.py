"""What every console form shares: the error saying what to fix, and a text field read from it."""

from __future__ import annotations

import re
from datetime import date

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # a date input's value (2026-11-30); nothing else


class FormError(ValueError):
    """What to fix in the form, zh-CN first."""


def text_field(
    form: dict[str, str], name: str, limit: int, label: str, required: bool = False
) -> str:
    """The field stripped; refused when required and empty, or longer than `limit`."""
    value = (form.get(name) or "").strip()
    if required and not value:
        raise FormError(f"请填写{label}")
    if len(value) > limit:
        raise FormError(f"{label}最多 {limit} 个字")
    return value


def day_field(raw: str, label: str) -> str:
    """A date as the API takes it ("" when left empty), or FormError naming `label`."""
    if not raw:
        return ""
    try:
        if not DAY.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        raise FormError(f"{label}须为日期，如 2026-11-30") from None
