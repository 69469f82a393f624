"""Fixtures of the notifications tests."""

from __future__ import annotations

import pytest
from local_providers import LocalSmsGateway, LocalSmtpServer


@pytest.fixture
async def servers():
    smtp = await LocalSmtpServer().start()
    gw = await LocalSmsGateway().start()
    yield smtp, gw
    await smtp.stop()
    await gw.stop()
