"""Streams are declared once in code and applied idempotently (launcher, tests and CLI share it)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from nats.js.api import StorageType

from aftersales_shared.natsauth import PROVISIONER
from aftersales_shared.streams import STREAMS, apply_streams, stream_for_subject
from aftersales_testing import natsaccess


async def test_apply_is_idempotent_and_sets_the_limits(own_nats):
    nc = await natsaccess.connect(own_nats.url)
    js = nc.jetstream()
    try:
        first = await apply_streams(js, replicas=1)
        second = await apply_streams(js, replicas=1)
        assert first == [f"created {s.name}" for s in STREAMS]
        assert second == [f"updated {s.name}" for s in STREAMS]
        info = await js.stream_info("TICKETS")
        assert info.config.subjects == ["tickets.>"]
        assert info.config.storage == StorageType.FILE
        assert info.config.duplicate_window == 30 * 60
        assert info.config.max_age == 30 * 24 * 3600
        assert info.config.num_replicas == 1
        ack = await js.publish("tickets.ticket_opened.v1", b"{}", headers={"Nats-Msg-Id": "same"})
        again = await js.publish("tickets.ticket_opened.v1", b"{}", headers={"Nats-Msg-Id": "same"})
        assert not ack.duplicate and again.duplicate
    finally:
        await nc.close()


@pytest.mark.parametrize(
    "command",
    [
        ["aftersales_tools.cli", "streams", "apply"],  # the developer's `aftersales streams apply`
        [
            "aftersales_shared.provision",
            "apply",
        ],  # the streams Job in a service image (no tools there)
    ],
    ids=["aftersales-cli", "image-provision"],
)
def test_the_commands_apply_the_same_streams(own_nats, command):
    cli = [sys.executable, "-m", *command, "--nats-url", own_nats.url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NATS_")}
    # without a user NATS refuses at once, and the command says why
    refused = subprocess.run(cli, capture_output=True, text=True, timeout=60, env=env)
    assert refused.returncode == 2 and "Authorization Violation" in refused.stderr, refused.stderr
    provisioner = own_nats.connect_kwargs(PROVISIONER)
    out = subprocess.run(
        [*cli, "--user", PROVISIONER],
        capture_output=True,
        text=True,
        timeout=60,
        env=env | {"NATS_PASSWORD": provisioner["password"]},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[: len(STREAMS)] == [f"created {s.name}" for s in STREAMS]


def test_every_producer_has_its_stream():
    assert stream_for_subject("contracts.contract_signed.v1").name == "CONTRACTS"
    assert stream_for_subject("partners.ticket_requested.v1").name == "PARTNERS"
    assert len({s.name for s in STREAMS}) == len(STREAMS)
