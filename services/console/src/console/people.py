"""Who signs in: the session's user, and the demo users the local sign-in page lists by role (the
ids are the demo's, tools/src/aftersales_tools/demo.py, so their records are theirs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROLE_NAMES = {
    "sales": "销售",
    "sales_manager": "销售经理",
    "legal": "法务",
    "finance": "财务",
    "delivery": "交付",
    "service_agent": "客服专员",
    "service_supervisor": "客服主管",
    "engineer": "工程师",
    "technical": "技术部",
    "dealer": "经销商",
    "manager": "管理层",
    "customer": "客户",
    "partner": "合作系统",
    "admin": "管理员",
}


@dataclass(frozen=True)
class DemoUser:
    sub: str
    name: str
    role: str
    title: str  # the department, as the seeds name it
    dealer_id: str | None = None


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("agent-zhou", "周客服", "service_agent", "客服专员 (service agent)"),
    DemoUser("sup-zhang", "张主管", "service_supervisor", "客服主管 (service supervisor)"),
    DemoUser("sup-li", "李主管", "service_supervisor", "客服主管 · 今晚值班 (on duty)"),
    DemoUser("eng-zhang", "张工", "engineer", "工程师 (engineer)"),
    DemoUser("eng-wang", "王工", "engineer", "工程师 (engineer)"),
    DemoUser("tech-wu", "吴工", "technical", "技术部 (technical)"),
    DemoUser("legal-zheng", "郑法务", "legal", "法务 (legal)"),
    DemoUser("fin-qian", "钱会计", "finance", "财务 (finance)"),
    DemoUser("dlv-sun", "孙师傅", "delivery", "交付 (delivery)"),
    DemoUser("demo-sales", "李明", "sales", "销售 (sales)"),
    DemoUser("smgr-zhao", "赵经理", "sales_manager", "销售经理 (sales manager)"),
    DemoUser("mgr-wang", "王总", "manager", "管理层 (manager)"),
    DemoUser("dealer-chen", "陈经理", "dealer", "经销商 D-ZJ-01 (dealer)", "D-ZJ-01"),
    DemoUser("admin", "系统管理员", "admin", "管理员 (admin)"),
)


def demo_user(sub: str) -> DemoUser | None:
    return next((u for u in DEMO_USERS if u.sub == sub), None)


def known_as(sub: Any, with_id: bool = False) -> str:
    """A person by name where the console knows them (the demo's people; `with_id`: 张工
    (eng-zhang)), the system's own writers in words, anyone else by their sign-in id."""
    text = str(sub or "")
    if not text:
        return "—"
    if text in ("system", "seed") or text.startswith("migration:"):
        return "系统初始数据" if text != "system" else "系统"
    person = demo_user(text)
    if person is None:
        return text
    return f"{person.name} ({text})" if with_id else person.name


@dataclass(frozen=True)
class SessionUser:
    """What the encrypted session cookie holds: who, which roles, and the token the services
    verify (minted locally, or the IdP's access token once OIDC signs people in)."""

    sub: str
    name: str
    roles: tuple[str, ...]
    token: str
    expires_at: float  # epoch seconds: the session's end
    dealer_id: str | None = None
    # OpenID Connect only: renew `token` with `refresh_token` before `token_expires_at`; the ID
    # token is the hint of RP-initiated logout
    refresh_token: str | None = None
    token_expires_at: float | None = None
    id_token: str | None = None

    def as_session(self) -> dict[str, Any]:
        kept = {
            "sub": self.sub,
            "name": self.name,
            "roles": list(self.roles),
            "token": self.token,
            "expires_at": self.expires_at,
            "dealer_id": self.dealer_id,
        }
        for name in ("refresh_token", "token_expires_at", "id_token"):
            if getattr(self, name) is not None:
                kept[name] = getattr(self, name)
        return kept

    @classmethod
    def from_session(cls, data: dict[str, Any] | None, now: float) -> SessionUser | None:
        if not data or "token" not in data:
            return None
        try:
            user = cls(
                sub=str(data["sub"]),
                name=str(data["name"]),
                roles=tuple(str(r) for r in data["roles"]),
                token=str(data["token"]),
                expires_at=float(data["expires_at"]),
                dealer_id=data.get("dealer_id"),
                refresh_token=data.get("refresh_token"),
                token_expires_at=(
                    float(data["token_expires_at"]) if data.get("token_expires_at") else None
                ),
                id_token=data.get("id_token"),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return user if user.expires_at > now else None

    @property
    def role_names(self) -> str:
        return "、".join(ROLE_NAMES.get(r, r) for r in self.roles)

    def has(self, *roles: str) -> bool:
        return "admin" in self.roles or any(r in self.roles for r in roles)

    @property
    def dealer_scope(self) -> str | None:
        """The dealer this user is confined to, as the services decide it
        (aftersales_shared.auth.dealer_scope): a dealer's staff, not company staff."""
        if "dealer" in self.roles and not self.has("manager", "technical", "finance"):
            return self.dealer_id
        return None
