"""NATS accounts: nobody connects without a user; partners publish only `partners.>`; a service
publishes only its own subjects and reads only its own consumers and inbox. Against the tests' real
nats-server with the users of aftersales_shared.natsauth (every other test runs with them too, each
service as its own user)."""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import uuid
from pathlib import Path

import nats
import pytest
from nats.errors import NoServersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NoStreamResponseError, NotFoundError

from aftersales_shared.natsauth import (
    ADMIN,
    CONSOLE,
    CONSUMES,
    PARTNERS,
    USERS,
    rebuild_consumer_name,
    render_authorization,
)
from aftersales_shared.streams import ARCHIVE
from aftersales_testing import natsaccess
from aftersales_testing.support import contract_signed
from aftersales_tools.catalog import SERVICES
from aftersales_tools.natsserver import nats_server_binary

ROOT = Path(__file__).resolve().parents[2]


def test_the_permission_table_names_every_consumer_the_services_register():
    for info in SERVICES:
        app = importlib.import_module(f"{info.name}.app")
        rt = app.create_app(info.settings_class()(nats_url="nats://127.0.0.1:1")).state["runtime"]
        assert sorted(s.subject for s in rt.inbox.subscriptions.values()) == sorted(
            CONSUMES[info.name]
        ), info.name


def test_the_production_server_config_is_the_rendered_table(tmp_path):
    """infra/nats/auth.conf is generated (`aftersales nats-config`); passwords come from the
    server's environment, and nats-server accepts the file."""
    text = (ROOT / "infra" / "nats" / "auth.conf").read_text()
    (tmp_path / "auth.conf").write_text(text)
    (tmp_path / "main.conf").write_text("listen: 127.0.0.1:4999\ninclude ./auth.conf\n")
    env = {"PATH": os.environ.get("PATH", "")} | {
        f"NATS_PASSWORD_{u.upper()}": "p" * 20 for u in USERS
    }
    check = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(tmp_path / "main.conf")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert text == render_authorization(), (
        "infra/nats/auth.conf is stale: aftersales nats-config > infra/nats/auth.conf"
    )
    assert '"admin"' not in text and "$NATS_PASSWORD_PARTNERS" in text
    kustomize = (ROOT / "infra" / "nats" / "kustomization.yaml").read_text()
    assert "auth.conf" in kustomize


class Errors:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def record(self, exc: Exception) -> None:
        self.seen.append(str(exc))

    async def wait_for(self, text: str) -> str:
        for _ in range(100):
            found = [e for e in self.seen if text.lower() in e.lower()]
            if found:
                return found[0]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no error containing {text!r}; saw {self.seen}")


async def _as(url: str, user: str, errors: Errors | None = None) -> nats.NATS:
    return await natsaccess.connect(
        url, user, error_cb=(errors or Errors()).record, allow_reconnect=False
    )


async def _last_seq(url: str, stream: str) -> int:
    nc = await natsaccess.connect(url, ADMIN)
    try:
        return (await nc.jetstream().stream_info(stream)).state.last_seq
    finally:
        await nc.close()


@pytest.fixture
def secured(streams_ready: str) -> str:
    if natsaccess.credentials() is None:
        pytest.skip(
            "NATS_URL names a server these tests did not start: its users are not ours to test"
        )
    return streams_ready


async def test_a_client_without_a_user_or_with_a_wrong_password_is_refused(secured):
    for options in ({}, {"user": PARTNERS, "password": "guess"}, {"user": "admin", "password": ""}):
        errors = Errors()
        with pytest.raises((NoServersError, nats.errors.Error, OSError)) as refused:
            await nats.connect(
                secured,
                allow_reconnect=False,
                max_reconnect_attempts=0,
                connect_timeout=3,
                error_cb=errors.record,
                **options,
            )
        seen = [str(refused.value), *errors.seen]
        assert any("Authorization Violation" in e for e in seen), (options, seen)


async def test_partners_publish_only_partner_subjects(secured):
    errors = Errors()
    nc = await _as(secured, PARTNERS, errors)
    js = nc.jetstream(timeout=1.5)
    try:
        ack = await js.publish(
            "partners.ticket_requested.v1", b"{}", headers={"Nats-Msg-Id": uuid.uuid4().hex}
        )
        assert ack.stream == "PARTNERS"

        before = await _last_seq(secured, "CONTRACTS")
        forged = contract_signed(f"FORGED-{uuid.uuid4().hex[:6]}")
        with pytest.raises((NatsTimeout, NoStreamResponseError)):
            await js.publish(
                forged.nats_subject, forged.body(), headers=forged.headers(), timeout=1
            )
        assert "permissions violation for publish" in await errors.wait_for(
            "contracts.contract_signed.v1"
        )
        assert await _last_seq(secured, "CONTRACTS") == before  # nothing reached the stream

        # reading: no plain subscription to another subject, no consumer on any stream, no one
        # else's inbox
        await nc.subscribe("surveys.>")
        assert "permissions violation for subscription" in await errors.wait_for('"surveys.>"')
        await nc.subscribe("_INBOX.>")
        await errors.wait_for('"_INBOX.>"')
        with pytest.raises(NatsTimeout):
            await js.add_consumer(
                "SURVEYS",
                ConsumerConfig(durable_name="snoop", deliver_policy=DeliverPolicy.ALL),
                timeout=1,
            )
        await errors.wait_for("$JS.API.CONSUMER")
    finally:
        await nc.close()


async def test_a_service_publishes_its_own_subjects_and_reads_only_its_own_consumers(secured):
    errors = Errors()
    nc = await _as(secured, "tickets", errors)
    js = nc.jetstream(timeout=1.5)
    try:
        ack = await js.publish(
            "tickets.ticket_opened.v1", b"{}", headers={"Nats-Msg-Id": uuid.uuid4().hex}
        )
        assert ack.stream == "TICKETS"
        with pytest.raises((NatsTimeout, NoStreamResponseError)):
            await js.publish("contracts.contract_signed.v1", b"{}", timeout=1)
        await errors.wait_for("contracts.contract_signed.v1")
        # the survey stream carries (sealed) survey links: tickets has no consumer there but its own
        with pytest.raises(NatsTimeout):
            await js.add_consumer(
                "SURVEYS", ConsumerConfig(durable_name="tickets-snoop"), timeout=1
            )
        with pytest.raises(
            NatsTimeout
        ):  # no message of a stream it does not read, not even by number
            await js.get_msg("DEALERS", 1)
        await nc.subscribe("_INBOX_notifications.>")
        await errors.wait_for('"_INBOX_notifications.>"')
        # its own durable consumer is its to ask about (an answer, found or not, not silence)
        try:
            info = await js.consumer_info(
                "SURVEYS", "tickets-surveys-survey_answered-v1", timeout=2
            )
            assert info.name == "tickets-surveys-survey_answered-v1"
        except NotFoundError:
            pass
    finally:
        await nc.close()


async def test_the_console_only_hears_the_events_of_its_live_pages(secured):
    """Live updates: plain subscriptions to the subjects of the tickets, contracts, dealers and
    surveys services (the board, the review inbox, the dealer portal, the return visits); no
    publishing (not even a ticket
    event), no other producer's subjects, no JetStream API, no one's inbox."""
    errors = Errors()
    nc = await _as(secured, CONSOLE, errors)
    heard: asyncio.Queue = asyncio.Queue()
    try:
        await nc.subscribe("tickets.>", cb=heard.put)
        await nc.flush()
        publisher = await _as(secured, "tickets")
        try:
            await publisher.publish("tickets.ticket_opened.v1", b'{"ticket_no": "SV-1"}')
            await publisher.flush()
        finally:
            await publisher.close()
        msg = await asyncio.wait_for(heard.get(), 10)
        assert msg.subject == "tickets.ticket_opened.v1"

        await nc.publish("tickets.ticket_opened.v1", b"{}")
        assert "permissions violation for publish" in await errors.wait_for(
            '"tickets.ticket_opened.v1"'
        )
        for producer, subject in (  # the review inbox, the dealer portal, the return visits
            ("contracts", "contracts.contract_submitted.v1"),
            ("dealers", "dealers.warranty_card_registered.v1"),
            ("surveys", "surveys.return_visit_recorded.v1"),
        ):
            await nc.subscribe(f"{producer}.>", cb=heard.put)
            await nc.flush()
            publisher = await _as(secured, producer)
            try:
                await publisher.publish(subject, b"{}")
                await publisher.flush()
            finally:
                await publisher.close()
            assert (await asyncio.wait_for(heard.get(), 10)).subject == subject
        for subject in ("notifications.>", "parts.>", "_INBOX_tickets.>", ">"):
            await nc.subscribe(subject)
            assert "permissions violation for subscription" in await errors.wait_for(f'"{subject}"')
        with pytest.raises(NatsTimeout):
            await nc.jetstream(timeout=1).add_consumer(
                "TICKETS", ConsumerConfig(durable_name="console-snoop"), timeout=1
            )
    finally:
        await nc.close()


async def _archived(url: str, subject: str) -> None:
    """Publish one event on a producer stream and wait until ARCHIVE has its copy."""
    nc = await natsaccess.connect(url, ADMIN)
    js = nc.jetstream(timeout=3)
    try:
        before = (await js.stream_info(ARCHIVE)).state.last_seq
        await js.publish(subject, b"{}", headers={"Nats-Msg-Id": uuid.uuid4().hex})
        for _ in range(100):
            if (await js.stream_info(ARCHIVE)).state.last_seq > before:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{subject} never reached {ARCHIVE}")
    finally:
        await nc.close()


async def test_reports_replays_the_archive_only_for_the_subjects_it_consumes(secured):
    """The rebuild's consumers (python -m reports rebuild): its own names, each filtered on a
    subject reports consumes; no other filter, no unfiltered consumer, no other service's
    subjects."""
    subject = "tickets.ticket_opened.v1"
    assert subject in CONSUMES["reports"]
    await _archived(secured, subject)
    errors = Errors()
    nc = await _as(secured, "reports", errors)
    js = nc.jetstream(timeout=2)
    name = rebuild_consumer_name("reports", subject)
    try:
        info = await js.add_consumer(
            ARCHIVE,
            ConsumerConfig(
                name=name, filter_subject=subject, ack_policy=AckPolicy.NONE, inactive_threshold=30
            ),
        )
        assert info.num_pending >= 1
        pull = await js.pull_subscribe_bind(name, ARCHIVE)
        (msg,) = await pull.fetch(1, timeout=3)
        assert msg.subject == subject
        assert (await js.consumer_info(ARCHIVE, name)).name == name
        assert await js.delete_consumer(ARCHIVE, name)
        # the permitted name with another filter: the server checks the filter against the request
        # subject, and the permissions allow only the consumed one
        with pytest.raises(NatsTimeout):
            await js.add_consumer(
                ARCHIVE, ConsumerConfig(name=name, filter_subject="notifications.>"), timeout=1
            )
        await errors.wait_for(f"$JS.API.CONSUMER.CREATE.{ARCHIVE}.{name}.notifications.>")
        with pytest.raises(NatsTimeout):  # unfiltered: everything in ARCHIVE
            await js.add_consumer(ARCHIVE, ConsumerConfig(name=name), timeout=1)
        with pytest.raises(NatsTimeout):  # a subject reports does not consume, under its own name
            sent = "notifications.notification_sent.v1"
            await js.add_consumer(
                ARCHIVE,
                ConsumerConfig(name=rebuild_consumer_name("reports", sent), filter_subject=sent),
                timeout=1,
            )
        with pytest.raises(NatsTimeout):  # no message of ARCHIVE by number
            await js.get_msg(ARCHIVE, 1)
    finally:
        await nc.close()


async def test_no_other_service_reads_the_archive(secured):
    await _archived(secured, "surveys.survey_answered.v1")
    for user in ("tickets", "notifications", PARTNERS):
        errors = Errors()
        nc = await _as(secured, user, errors)
        js = nc.jetstream(timeout=2)
        subject = "surveys.survey_answered.v1"
        try:
            for config in (  # its own name, or the one reports uses
                ConsumerConfig(name=rebuild_consumer_name(user, subject), filter_subject=subject),
                ConsumerConfig(
                    name=rebuild_consumer_name("reports", subject), filter_subject=subject
                ),
                ConsumerConfig(durable_name=f"{user}-archive"),
            ):
                with pytest.raises(NatsTimeout):
                    await js.add_consumer(ARCHIVE, config, timeout=1)
            await errors.wait_for(f"$JS.API.CONSUMER.CREATE.{ARCHIVE}")
            with pytest.raises(NatsTimeout):
                await js.get_msg(ARCHIVE, 1)
        finally:
            await nc.close()


def test_every_user_has_a_password_env_in_the_kubernetes_secret_example():
    secret = (ROOT / "infra" / "k8s" / "nats-users.example.yaml").read_text()
    for user in USERS:
        assert f"NATS_PASSWORD_{user.upper()}" in secret, user


async def test_the_launcher_declares_streams_on_a_given_server_as_its_provisioner(
    secured, monkeypatch, tmp_path
):
    """With NATS_URL (a server the launcher did not start) it connects as AFTERSALES_NATS_USER,
    whose replies must come to that user's own inbox prefix, or the permissioned server's answers
    never reach it."""
    from aftersales_shared.natsauth import PROVISIONER
    from aftersales_shared.streams import apply_streams
    from aftersales_tools.launcher import Launcher

    password = natsaccess.credentials().passwords[PROVISIONER]
    monkeypatch.setenv("AFTERSALES_NATS_USER", PROVISIONER)
    monkeypatch.setenv("AFTERSALES_NATS_PASSWORD", password)
    launcher = Launcher(data_dir=tmp_path, nats_url=secured)
    nc = await nats.connect(secured, allow_reconnect=False, **launcher.provisioner_kwargs())
    try:
        done = await apply_streams(nc.jetstream(timeout=3), replicas=1)
        assert done and all(line.startswith("updated ") for line in done)
    finally:
        await nc.close()
