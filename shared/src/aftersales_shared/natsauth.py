"""NATS accounts: one user per service, one for partner systems, one for provisioning (streams).

An unauthenticated client is refused. A service may publish only its own subjects (`<service>.>`),
create and pull only its own durable consumers on the streams it reads, and receive replies only on
its own inbox prefix (`_INBOX_<service>.`), so it cannot read another service's replies or pulled
messages. The `reports` user may also replay the ARCHIVE stream (its read model is rebuilt from
it): create, pull and delete its own `reports-rebuild-*` consumers there, each filtered on one
subject it consumes anyway. The `partners` user may only publish `partners.>` (and hear the
JetStream acknowledgement on `_INBOX_partners.`). The `provisioner` user declares the streams
(`aftersales streams`). The `console` user (the web console's live updates) may only subscribe to
the subjects of the services whose pages update live (tickets: the board, the ticket page, the
complaints; contracts: the review inbox; dealers: the dealer portal) and publish nothing: no
JetStream API, no consumer, no inbox.
Nobody connects without a user.

The same permission table renders the local server's configuration (`aftersales up`, the tests:
passwords written in, file mode 0600) and the production one (`infra/nats/auth.conf`: passwords read
from the server's environment, which Kubernetes fills from the Secret `nats-users`).
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .streams import ARCHIVE, PRODUCERS, stream_for_subject

PARTNERS = "partners"
PROVISIONER = "provisioner"
# the web console: hears these services' events to update open pages (core NATS, read only)
CONSOLE = "console"
CONSOLE_LISTENS: tuple[str, ...] = ("tickets.>", "contracts.>", "dealers.>", "surveys.>")
USERS: tuple[str, ...] = (*PRODUCERS, PARTNERS, PROVISIONER, CONSOLE)
# local installations only (launcher, tests): may do anything, for an operator's `nats` CLI and the
# tests' probes; the production configuration (infra/nats/auth.conf) has no such user
ADMIN = "admin"

# What each service consumes (its durable consumers). tests/backbone/test_nats_accounts.py checks
# this against the handlers the apps really register, so a new handler without a permission fails
# there, not in production.
CONSUMES: dict[str, tuple[str, ...]] = {
    "contracts": ("tickets.calendar_changed.v1",),
    "tickets": (
        "contracts.contract_signed.v1",
        "partners.ticket_requested.v1",
        "parts.part_issued.v1",
        "parts.part_returned.v1",
        "parts.parts_arrived_for_ticket.v1",
        "parts.quote_accepted.v1",
        "parts.quote_declined.v1",
        "parts.quote_issued.v1",
        "parts.quote_withdrawn.v1",
        "surveys.return_visit_recorded.v1",
        "surveys.survey_answered.v1",
    ),
    "surveys": ("tickets.calendar_changed.v1", "tickets.service_completed.v1"),
    # every event of the producers it hears (notifications.rules.SOURCES; CalendarChanged only kept)
    "notifications": (
        "contracts.contract_archive_overdue.v1",
        "contracts.contract_archived.v1",
        "contracts.contract_reviewed.v1",
        "contracts.contract_signed.v1",
        "contracts.contract_submitted.v1",
        "contracts.delivery_notice.v1",
        "contracts.installation_booking_overdue.v1",
        "contracts.objection_answer_overdue.v1",
        "contracts.training_follow_up_overdue.v1",
        "contracts.training_follow_up_recorded.v1",
        "dealers.card_due_soon.v1",
        "dealers.card_overdue.v1",
        "dealers.dealer_contacts_changed.v1",
        "dealers.deduction_issued.v1",
        "dealers.parts_return_overdue.v1",
        "dealers.stocking_plan_missed.v1",
        "dealers.warranty_card_registered.v1",
        "dealers.warranty_service_overdue.v1",
        "parts.expense_claim_approved.v1",
        "parts.expense_claim_overdue.v1",
        "parts.expense_claim_rejected.v1",
        "parts.expense_claim_settled.v1",
        "parts.expense_claim_submitted.v1",
        "parts.invoice_cancelled.v1",
        "parts.invoice_issued.v1",
        "parts.invoice_requested.v1",
        "parts.part_issued.v1",
        "parts.part_returned.v1",
        "parts.parts_arrived_for_ticket.v1",
        "parts.quote_accepted.v1",
        "parts.quote_declined.v1",
        "parts.quote_issued.v1",
        "parts.quote_withdrawn.v1",
        "parts.stock_below_reorder_point.v1",
        "reports.report_published.v1",
        "surveys.return_visit_overdue.v1",
        "surveys.return_visit_recorded.v1",
        "surveys.survey_answered.v1",
        "surveys.survey_requested.v1",
        "surveys.survey_requested.v2",
        "tickets.calendar_changed.v1",  # the duty calendar (kept copy), not notified about
        "tickets.calendar_year_missing.v1",
        "tickets.cause_analysis_overdue.v1",
        "tickets.corrective_action_changed.v1",
        "tickets.complaint_classified.v1",
        "tickets.complaint_escalated.v1",
        "tickets.complaint_limit_told.v1",
        "tickets.complaint_overdue.v1",
        "tickets.complaint_resolution_proposed.v1",
        "tickets.corrective_action_overdue.v1",
        "tickets.fault_classified.v1",
        "tickets.follow_up_opened.v1",
        "tickets.knowledge_article_changed.v1",  # the review queue updates live; not notified
        "tickets.service_completed.v1",
        "tickets.service_sheet_signed.v1",
        "tickets.sla_breached.v1",
        "tickets.sla_deadline_changed.v1",
        "tickets.sla_escalated.v1",
        "tickets.sla_warning.v1",
        "tickets.ticket_acknowledged.v1",
        "tickets.ticket_assigned.v1",
        "tickets.ticket_opened.v1",
        "tickets.ticket_reopened.v1",
    ),
    "dealers": (
        "contracts.contract_signed.v1",
        "surveys.survey_answered.v1",
        "tickets.calendar_changed.v1",
        "tickets.service_completed.v1",
        "tickets.sla_breached.v1",
        "tickets.ticket_opened.v1",
    ),
    "reports": (
        "contracts.contract_signed.v1",
        "contracts.training_follow_up_recorded.v1",
        "dealers.card_overdue.v1",
        "dealers.dealer_contacts_changed.v1",
        "dealers.deduction_issued.v1",
        "dealers.parts_return_overdue.v1",
        "dealers.warranty_card_registered.v1",
        "dealers.warranty_service_overdue.v1",
        "surveys.return_visit_overdue.v1",
        "surveys.return_visit_recorded.v1",
        "surveys.survey_answered.v1",
        "tickets.calendar_changed.v1",
        "tickets.complaint_classified.v1",
        "tickets.complaint_overdue.v1",
        "tickets.corrective_action_changed.v1",
        "tickets.corrective_action_overdue.v1",
        "tickets.fault_classified.v1",
        "tickets.follow_up_opened.v1",
        "tickets.service_completed.v1",
        "tickets.sla_breached.v1",
        "tickets.sla_escalated.v1",
        "tickets.sla_warning.v1",
        "tickets.ticket_acknowledged.v1",
        "tickets.ticket_assigned.v1",
        "tickets.ticket_opened.v1",
        "tickets.ticket_reopened.v1",
    ),
    # a ticket's warranty-or-chargeable from the entitlement at opening (its own ticket table)
    "parts": (
        "tickets.calendar_changed.v1",
        "tickets.ticket_assigned.v1",
        "tickets.ticket_opened.v1",
    ),
}

ADVISORY_MAX_DELIVERIES = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"

# Services whose read model is rebuilt from ARCHIVE (python -m reports rebuild): they may read there
# the subjects they consume, nothing else (ARCHIVE holds every producer's events).
REPLAYS_ARCHIVE: tuple[str, ...] = ("reports",)


def inbox_prefix(user: str) -> str:
    """Replies to this user's requests (JetStream acks, API answers, pulled messages) arrive under
    this prefix."""
    return f"_INBOX_{user}"


def consumer_name(service: str, subject: str) -> str:
    """The durable consumer a service reads a subject with (also Inbox._consumer_name)."""
    return f"{service}-{subject.replace('.', '-')}"


def rebuild_consumer_name(service: str, subject: str) -> str:
    """The consumer on ARCHIVE a rebuild reads one subject with (reports-rebuild-tickets-…)."""
    return consumer_name(f"{service}-rebuild", subject)


def archive_permissions(service: str) -> list[str]:
    """Replaying ARCHIVE: per consumed subject, a consumer of a fixed name created with the
    JetStream API's filtered form (`CONSUMER.CREATE.<stream>.<name>.<filter>`: the server refuses
    a request whose filter differs from the subject's), pulled without acks, asked about and
    deleted."""
    pub: list[str] = []
    for subject in CONSUMES[service]:
        name = rebuild_consumer_name(service, subject)
        pub += [
            f"$JS.API.CONSUMER.CREATE.{ARCHIVE}.{name}.{subject}",
            f"$JS.API.CONSUMER.INFO.{ARCHIVE}.{name}",
            f"$JS.API.CONSUMER.MSG.NEXT.{ARCHIVE}.{name}",
            f"$JS.API.CONSUMER.DELETE.{ARCHIVE}.{name}",
        ]
    return pub


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def permissions(user: str) -> Permissions:
    if user == ADMIN:
        return Permissions(publish=(">",), subscribe=(">",))
    if user == PROVISIONER:
        return Permissions(publish=("$JS.API.>",), subscribe=(f"{inbox_prefix(user)}.>",))
    if user == PARTNERS:
        return Permissions(publish=("partners.>",), subscribe=(f"{inbox_prefix(user)}.>",))
    if user == CONSOLE:
        return Permissions(publish=(), subscribe=CONSOLE_LISTENS)
    if user not in CONSUMES:
        raise KeyError(f"no NATS user {user!r}; known: {', '.join(USERS)}")
    pub: list[str] = [f"{user}.>"]
    sub: list[str] = [f"{inbox_prefix(user)}.>"]
    read_streams: list[str] = []
    for subject in CONSUMES[user]:
        stream = stream_for_subject(subject).name
        durable = consumer_name(user, subject)
        pub += [
            f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
            f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
            f"$JS.ACK.{stream}.{durable}.>",
        ]
        sub.append(f"{ADVISORY_MAX_DELIVERIES}.{stream}.{durable}")
        if stream not in read_streams:
            read_streams.append(stream)
    # a message the broker gave up on is fetched by its sequence to keep it as a dead letter
    pub += [f"$JS.API.STREAM.MSG.GET.{stream}" for stream in read_streams]
    if user in REPLAYS_ARCHIVE:
        pub += archive_permissions(user)
    return Permissions(publish=tuple(pub), subscribe=tuple(sub))


def password_env(user: str) -> str:
    """The nats-server's environment variable that holds a user's password in production
    (infra/nats/auth.conf)."""
    return f"NATS_PASSWORD_{user.upper()}"


def _quote(value: str) -> str:
    return json.dumps(value)


def render_authorization(passwords: dict[str, str] | None = None) -> str:
    """The `authorization` block of nats-server's configuration. With `passwords`, they are written
    in (local); without, each is the server's environment variable `NATS_PASSWORD_<USER>`
    (production)."""
    lines = [
        "# Generated from shared/src/aftersales_shared/natsauth.py (aftersales nats-config): do "
        "not edit by hand.",
        "# One user per service, `partners` for partner systems, `provisioner` for `aftersales "
        "streams`.",
        "authorization {",
        "  users: [",
    ]
    users = USERS if passwords is None else tuple(u for u in (*USERS, ADMIN) if u in passwords)
    for user in users:
        perms = permissions(user)
        password = _quote(passwords[user]) if passwords is not None else f"${password_env(user)}"
        lines.append(f"    {{ user: {_quote(user)}, password: {password}, permissions: {{")
        for kind, subjects in (("publish", perms.publish), ("subscribe", perms.subscribe)):
            if not subjects:  # nothing allowed: said as a denial of everything
                lines.append(f'        {kind}: {{ deny: [">"] }}')
                continue
            lines.append(f"        {kind}: {{ allow: [")
            lines += [f"          {_quote(s)}" for s in subjects]
            lines.append("        ] }")
        lines.append("    } }")
    lines += ["  ]", "}", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class NatsCredentials:
    """Passwords for every NATS user of one local installation (the launcher's data folder, a test
    session)."""

    passwords: dict[str, str]

    @classmethod
    def generate(cls) -> NatsCredentials:
        return cls({user: secrets.token_urlsafe(24) for user in (*USERS, ADMIN)})

    @classmethod
    def load_or_create(cls, path: Path) -> NatsCredentials:
        """The installation's credentials, made once and kept (mode 0600) so restarts keep
        working."""
        if path.exists():
            data = json.loads(path.read_text())
            if set(data) >= {*USERS, ADMIN}:
                return cls({u: str(data[u]) for u in (*USERS, ADMIN)})
        creds = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(creds.passwords, f, indent=2)
        return creds

    def server_config(self) -> str:
        return render_authorization(self.passwords)

    def service_env(self, service: str, prefix: str) -> dict[str, str]:
        return {f"{prefix}NATS_USER": service, f"{prefix}NATS_PASSWORD": self.passwords[service]}

    def connect_kwargs(self, user: str) -> dict[str, Any]:
        """Keyword arguments for nats.connect as this user."""
        return {"user": user, "password": self.passwords[user], "inbox_prefix": inbox_prefix(user)}


def broker_options(settings: Any) -> dict[str, Any]:
    """Keyword arguments for FastStream's NatsBroker from a service's settings: its user (or .creds
    file) as a `security` object with TLS when a CA or client certificate is configured or the URL
    says tls://, and its own inbox prefix."""
    from faststream.nats.security import NatsCredentials as FsCredentials
    from faststream.nats.security import NatsSecurity, NatsUserPassword

    tls = {"ssl_context": tls_context(settings), "tls_hostname": settings.nats_tls_hostname or None}
    if settings.nats_creds_file:
        security: Any = FsCredentials(str(settings.nats_creds_file), **tls)
    elif settings.nats_user:
        password = settings.nats_password.get_secret_value() if settings.nats_password else ""
        security = NatsUserPassword(settings.nats_user, password, **tls)
    elif tls["ssl_context"] is not None:
        security = NatsSecurity(**tls)
    else:
        security = None
    return {"inbox_prefix": settings.nats_inbox_prefix, "security": security}


def tls_context(settings: Any) -> ssl.SSLContext | None:
    if not (
        settings.nats_tls_ca_file
        or settings.nats_tls_cert_file
        or settings.nats_url.startswith("tls://")
    ):
        return None
    context = ssl.create_default_context(
        cafile=str(settings.nats_tls_ca_file) if settings.nats_tls_ca_file else None
    )
    if settings.nats_tls_cert_file:
        context.load_cert_chain(
            str(settings.nats_tls_cert_file),
            str(settings.nats_tls_key_file) if settings.nats_tls_key_file else None,
        )
    return context
