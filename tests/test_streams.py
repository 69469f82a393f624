"""Streams are declared once in code and applied idempotently (launcher, tests and CLI share it)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from nats.js.api import StorageType

from aftersales_shared.natsauth import PROVISIONER
from aftersales_shared.provision import archive_options, parse_size
from aftersales_shared.streams import (
    ARCHIVE,
    GIB,
    PRODUCER_STREAMS,
    STREAMS,
    StreamApplyError,
    apply_streams,
    stream_for_subject,
)
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
        archive = await js.stream_info(ARCHIVE)
        assert not archive.config.subjects  # it only copies the producer streams
        assert [src.name for src in archive.config.sources] == [s.name for s in PRODUCER_STREAMS]
        assert archive.config.max_age == (4 * 365 + 1) * 24 * 3600
        assert archive.config.max_bytes == 8 * GIB
        assert archive.config.storage == StorageType.FILE
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


async def test_the_archive_is_sized_per_installation_and_keeps_at_least_three_years(own_nats):
    nc = await natsaccess.connect(own_nats.url)
    js = nc.jetstream()
    try:
        await apply_streams(js, archive_max_bytes=2 * GIB, archive_max_age_days=2000)
        info = await js.stream_info(ARCHIVE)
        assert (info.config.max_bytes, info.config.max_age) == (2 * GIB, 2000 * 24 * 3600)
        with pytest.raises(ValueError, match="at least 3 years"):
            await apply_streams(js, archive_max_age_days=365)
        # more than the server may store: refused with what to do, not a bare server error
        with pytest.raises(StreamApplyError, match="--archive-max-bytes"):
            await apply_streams(js, archive_max_bytes=1024**5)
    finally:
        await nc.close()


def test_archive_sizes_read_as_people_write_them():
    assert parse_size("8GiB") == parse_size("8G") == parse_size("8589934592") == 8 * GIB
    assert parse_size("500MiB") == 500 * 1024**2
    with pytest.raises(ValueError, match="8GiB"):
        parse_size("eight gigs")
    env = {"AFTERSALES_ARCHIVE_MAX_BYTES": "64GiB", "AFTERSALES_ARCHIVE_MAX_AGE_DAYS": "1500"}
    assert archive_options(env) == {"archive_max_bytes": 64 * GIB, "archive_max_age_days": 1500}
    assert archive_options({}) == {}


def test_the_apply_command_refuses_a_short_or_unreadable_archive_with_a_reason(capsys):
    from aftersales_shared.provision import main

    args = ["apply", "--nats-url", "nats://127.0.0.1:1"]  # refused before connecting
    assert main([*args, "--archive-max-age-days", "30"]) == 2
    assert "at least 3 years" in capsys.readouterr().err
    with pytest.raises(SystemExit) as bad:
        main([*args, "--archive-max-bytes", "lots"])
    assert bad.value.code == 2 and "e.g. 8GiB" in capsys.readouterr().err
