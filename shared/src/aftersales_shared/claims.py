"""Where a token carries a person's roles, groups and dealer (issue 21): the same settings and the
same function for every service and the console, so both compute the same roles from one token.

Real identity providers put roles elsewhere than our local tokens' `roles`: Keycloak in
`realm_access.roles`, Azure AD, Authing and 企业微信 SSO in `groups` (names or paths such as
`/售后/客服主管`). `AUTH_ROLES_CLAIM` and `AUTH_GROUPS_CLAIM` are dotted paths into the claims
(a claim whose own name holds dots, e.g. `https://example.com/roles`, is taken as it is first);
`AUTH_GROUP_ROLES` maps a group, exactly as the token names it, to our role names. The effective
roles are the roles claim's known names ∪ the roles of the mapped groups; an unmapped group grants
nothing; a mapping naming a role we do not have refuses to start. `AUTH_DEALER_ID_CLAIM` says
where a dealer's user carries its dealer (default `dealer_id`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_NAMES = 200  # more roles or groups than this in one token is not a person's


class ClaimError(ValueError):
    """The token's claims are not what a person's token holds (the caller answers 401)."""


class ClaimMapping(BaseSettings):
    """`AUTH_*`, the same names in every service and the console (no service prefix)."""

    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore")

    roles_claim: str = Field(
        default="roles", min_length=1, description="dotted path of the roles claim"
    )
    groups_claim: str = Field(
        default="groups", min_length=1, description="dotted path of the groups claim"
    )
    group_roles: dict[str, list[str]] = Field(
        default_factory=dict,
        description='JSON: IdP group (name or path) → our role names, e.g. {"/售后/客服": '
        '["service_agent"]}',
    )
    dealer_id_claim: str = Field(
        default="dealer_id", min_length=1, description="dotted path of a dealer user's dealer id"
    )

    @field_validator("group_roles")
    @classmethod
    def _known_roles(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        from .auth import Role  # auth imports the settings; the roles are only needed here

        known = set(Role._value2member_map_)
        for group, roles in value.items():
            unknown = [r for r in roles if r not in known]
            if unknown:
                raise ValueError(
                    f"AUTH_GROUP_ROLES: group {group!r} maps to unknown role(s) "
                    f"{', '.join(unknown)}; known roles: {', '.join(sorted(known))}"
                )
        return value


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """The claim at a dotted path (`realm_access.roles`); None when any step is missing."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for step in path.split("."):
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


def _names(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if (
        not isinstance(value, list)
        or len(value) > MAX_NAMES
        or not all(isinstance(v, str) and len(v) <= 200 for v in value)
    ):
        raise ClaimError(f"invalid token: {what} must be a list of names")
    return value


def role_names(claims: dict[str, Any], mapping: ClaimMapping) -> frozenset[str]:
    """The effective role names: the roles claim's ∪ the mapped groups' (unknown names are kept
    out by the caller, which knows the roles)."""
    roles = set(_names(claim_at(claims, mapping.roles_claim), "roles"))
    for group in _names(claim_at(claims, mapping.groups_claim), "groups"):
        roles.update(mapping.group_roles.get(group, ()))
    return frozenset(roles)


def dealer_of(claims: dict[str, Any], mapping: ClaimMapping) -> Any:
    """The dealer a token names (validated by the caller as any other string claim)."""
    return claim_at(claims, mapping.dealer_id_claim)
