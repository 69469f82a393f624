"""统一社会信用代码 (unified social credit code, GB 32100-2015): the check shared by contracts
(customers) and parts (VAT invoice buyers' 税号)."""

from __future__ import annotations

from .errors import DomainError

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class InvalidCreditCode(DomainError):
    code = "invalid_credit_code"


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def validate_credit_code(code: str) -> str:
    """统一社会信用代码 (GB 32100-2015): 18 characters, the last a mod-31 check character."""
    code = code.strip().upper()
    if len(code) != 18:
        raise InvalidCreditCode(
            f"统一社会信用代码应为18位，实际为{len(code)}位 (credit code must have 18 characters)"
        )
    for pos, char in enumerate(code, start=1):
        if char not in CREDIT_CODE_CHARS:
            raise InvalidCreditCode(
                f"统一社会信用代码第{pos}位字符“{char}”无效 (character {pos} {char!r} is not "
                "allowed; I, O, S, V, Z never appear)"
            )
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise InvalidCreditCode(
            f"统一社会信用代码校验位错误：应为“{expected}”，实际为“{code[17]}” (check character "
            f"should be {expected!r})"
        )
    return code
