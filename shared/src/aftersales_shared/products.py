"""What every service means by a product line (产品线): one rule, so a failure rate's numerator (the
tickets' classification) and denominator (the units contracts sold) name the same family."""

from __future__ import annotations


def product_line(model: str | None) -> str | None:
    """The model family a product belongs to: the model code's leading Latin letters, upper-cased
    (XK-200 数控机床 → XK, hx300 → HX); a model that starts otherwise is its own line, up to its
    first space or hyphen (数控机床 → 数控机床). No model, no line."""
    text = (model or "").strip()
    if not text:
        return None
    letters = ""
    for ch in text:
        if not ("A" <= ch.upper() <= "Z"):
            break
        letters += ch.upper()
    if letters:
        return letters[:40]
    return text.replace("-", " ").split()[0][:40]
