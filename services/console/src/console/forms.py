"""What every console form shares: the error saying what to fix, and a text field read from it."""

from __future__ import annotations


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
