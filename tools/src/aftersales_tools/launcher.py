"""`aftersales up`: NATS, migrations, streams, the six services and the console on one machine,
stopped by Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats

from aftersales_shared.auth import mint_token
from aftersales_shared.migrations import upgrade
from aftersales_shared.natsauth import PROVISIONER, NatsCredentials, inbox_prefix
from aftersales_shared.provision import archive_options
from aftersales_shared.settings import LOCAL_DEV_ENV
from aftersales_shared.streams import apply_streams

from .catalog import CONSOLE, PROCESSES, SERVICES, ServiceInfo, port_index
from .natsserver import NatsServer, wait_for_port

DEFAULT_NATS_PORT = 4322  # not 4222: a system NATS may already run there


@dataclass
class Launcher:
    data_dir: Path
    nats_url: str | None = None
    nats_port: int = DEFAULT_NATS_PORT
    port_base: int | None = None
    demo: bool = False
    nats: NatsServer | None = None
    credentials: NatsCredentials | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    restarts: dict[str, list[float]] = field(default_factory=dict)
    restart_at: dict[str, float] = field(default_factory=dict)
    given_up: set[str] = field(default_factory=set)

    def port_of(self, info: ServiceInfo, index: int | None = None) -> int:
        """Its default port, or its place in the block from --port-base (`index` is not used: the
        place comes from the catalog, where the console sits between reports and parts)."""
        return self.port_base + port_index(info) if self.port_base else info.default_port

    def service_env(self, info: ServiceInfo, index: int) -> dict[str, str]:
        prefix = info.env_prefix
        env = dict(os.environ)
        env.setdefault(
            LOCAL_DEV_ENV, "1"
        )  # the launcher is local development: the dev secret is accepted
        if info is CONSOLE:
            return env | self.console_env()
        env[f"{prefix}NATS_URL"] = self.effective_nats_url
        if (
            self.credentials is not None
        ):  # our own server: each service connects as its own NATS user
            env |= self.credentials.service_env(info.name, prefix)
        env[f"{prefix}PORT"] = str(self.port_of(info, index))
        env.setdefault(f"{prefix}DATA_DIR", str(self.data_dir))
        if self.demo and info.name == "surveys":
            # the demo's surveys go out at once (outside the demo: the working-time delay)
            env.setdefault("SURVEYS_INVITE_DELAY_MINUTES", "0")
            env.setdefault("SURVEYS_CALENDAR_ID", "24x7")
        env.setdefault(
            f"{prefix}DATABASE_URL", f"sqlite+aiosqlite:///{self.data_dir / (info.name + '.db')}"
        )
        return env

    def console_env(self) -> dict[str, str]:
        """The console: its port, where each service answers (it owns no database) and NATS, which
        it hears as its own read-only user `console` (live updates)."""
        env = {
            "CONSOLE_PORT": str(self.port_of(CONSOLE, len(SERVICES))),
            "CONSOLE_NATS_URL": self.effective_nats_url,
        }
        if self.credentials is not None:
            env |= self.credentials.service_env(CONSOLE.name, CONSOLE.env_prefix)
        for index, info in enumerate(SERVICES):
            env[f"CONSOLE_{info.name.upper()}_URL"] = (
                f"http://127.0.0.1:{self.port_of(info, index)}"
            )
        return env

    @property
    def effective_nats_url(self) -> str:
        return self.nats_url or (
            self.nats.url if self.nats else f"nats://127.0.0.1:{self.nats_port}"
        )

    def start_nats(self) -> None:
        if self.nats_url:
            say(f"NATS: using {self.nats_url} (NATS_URL)")
            return
        # users and passwords of this installation, made once (mode 0600): no client connects
        # without one
        self.credentials = NatsCredentials.load_or_create(self.data_dir / "nats-credentials.json")
        self.nats = NatsServer(
            self.data_dir / "nats",
            port=self.nats_port,
            log_file=self.data_dir / "nats.log",
            auth=self.credentials,
        ).start()
        say(
            f"NATS: started nats-server (JetStream, store {self.data_dir / 'nats'}) at "
            f"{self.nats.url}; "
            f"users and passwords in {self.data_dir / 'nats-credentials.json'}"
        )

    def provisioner_kwargs(self) -> dict[str, object]:
        """How the launcher connects to declare the streams: as `provisioner` on its own server; on
        a NATS_URL server with AFTERSALES_NATS_USER / AFTERSALES_NATS_PASSWORD when they are set."""
        if self.credentials is not None:
            return self.credentials.connect_kwargs(PROVISIONER)
        user = os.environ.get("AFTERSALES_NATS_USER")
        if not user:
            return {}
        # its replies arrive on its own inbox prefix: the only one a permissioned user may read
        return {
            "user": user,
            "password": os.environ.get("AFTERSALES_NATS_PASSWORD", ""),
            "inbox_prefix": inbox_prefix(user),
        }

    async def prepare(self) -> None:
        for index, info in enumerate(SERVICES):
            url = self.service_env(info, index)[f"{info.env_prefix}DATABASE_URL"]
            await upgrade(info.name, url)
            say(f"migrated {info.name:<13} {redact(url)}")
        nc = await nats.connect(
            self.effective_nats_url, connect_timeout=5, **self.provisioner_kwargs()
        )
        try:
            # ARCHIVE's size: AFTERSALES_ARCHIVE_MAX_BYTES (a laptop short of disk may want less)
            done = await apply_streams(nc.jetstream(), replicas=1, **archive_options(os.environ))
            for line in done:
                say(f"stream {line}")
        finally:
            await nc.close()

    def start_services(self) -> None:
        for index, info in enumerate(PROCESSES):
            self.start_service(index, info)

    def start_service(self, index: int, info: ServiceInfo) -> None:
        logs, run = self.data_dir / "logs", self.data_dir / "run"
        logs.mkdir(parents=True, exist_ok=True)
        run.mkdir(parents=True, exist_ok=True)
        log = open(logs / f"{info.name}.log", "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(
            [sys.executable, "-m", info.name],
            env=self.service_env(info, index),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.procs[info.name] = proc
        (run / f"{info.name}.pid").write_text(f"{proc.pid}\n")

    def supervise(self, now: float) -> None:
        """One look at the children: a service that exited is started again after a back-off (1, 2,
        4, 8, 16 s); after MAX_RESTARTS within RESTART_WINDOW it is left down, with a line saying
        so. The others, and NATS, keep running either way."""
        for index, info in enumerate(PROCESSES):
            proc = self.procs.get(info.name)
            if proc is None or info.name in self.given_up:
                continue
            due = self.restart_at.get(info.name)
            if due is not None:
                if now >= due:
                    del self.restart_at[info.name]
                    self.start_service(index, info)
                    say(f"{info.name} started again (pid {self.procs[info.name].pid})")
                continue
            if proc.poll() is None:
                continue
            recent = [t for t in self.restarts.get(info.name, []) if now - t < RESTART_WINDOW]
            log = f"{self.data_dir}/logs/{info.name}.log"
            if len(recent) >= MAX_RESTARTS:
                self.given_up.add(info.name)
                say(
                    f"{info.name} exited with {proc.returncode} again: {len(recent)} restarts in "
                    f"{RESTART_WINDOW:.0f} s, leaving it down (the others keep running); see {log}"
                )
                continue
            delay = min(16.0, 2.0 ** len(recent))
            self.restarts[info.name] = [*recent, now]
            self.restart_at[info.name] = now + delay
            say(
                f"{info.name} exited with {proc.returncode}; restarting in {delay:.0f} s "
                f"(restart {len(recent) + 1} of {MAX_RESTARTS} within {RESTART_WINDOW:.0f} s); "
                f"see {log}"
            )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        for index, info in enumerate(PROCESSES):
            url = f"http://127.0.0.1:{self.port_of(info, index)}/ready"
            while True:
                proc = self.procs[info.name]
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{info.name} exited with {proc.returncode}; see "
                        f"{self.data_dir}/logs/{info.name}.log"
                    )
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{info.name} not ready after {timeout}s; see "
                        f"{self.data_dir}/logs/{info.name}.log"
                    )
                time.sleep(0.2)

    def print_urls(self) -> None:
        say("")
        say("Aftersales is running:")
        for index, info in enumerate(SERVICES):
            base = f"http://127.0.0.1:{self.port_of(info, index)}"
            say(
                f"  {info.name:<13} {base}   API docs {base}/schema   AsyncAPI {base}/asyncapi.json"
            )
        console = f"http://127.0.0.1:{self.port_of(CONSOLE, len(SERVICES))}"
        say(f"  {'console':<13} {console}   the web workspace: sign in as a demo user")
        say("")
        say(f"Console (控制台): {console}")
        settings = SERVICES[0].settings_class()()
        say("")
        say("An admin token for the next 8 hours (aftersales token --role ROLE for others):")
        say(f"  {mint_token(settings.jwt_secret, 'admin', ['admin'])}")
        say("Press Ctrl-C to stop everything.")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
        if self.nats is not None:
            self.nats.stop()
            self.nats = None
        say("stopped.")


MAX_RESTARTS = 5
RESTART_WINDOW = 300.0


def redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def say(line: str) -> None:
    print(line, flush=True)


def run_up(
    data_dir: Path, nats_url: str | None, nats_port: int, port_base: int | None, demo: bool
) -> int:
    launcher = Launcher(
        data_dir=data_dir.resolve(),
        nats_url=nats_url,
        nats_port=nats_port,
        port_base=port_base,
        demo=demo,
    )
    launcher.data_dir.mkdir(parents=True, exist_ok=True)
    stop = {"now": False}

    def _on_signal(signum: int, _: object) -> None:
        stop["now"] = True

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        launcher.start_nats()
        asyncio.run(launcher.prepare())
        launcher.start_services()
        launcher.wait_ready()
        if demo:
            from .demo import load_demo

            load_demo(launcher)
        launcher.print_urls()
        while not stop["now"]:
            launcher.supervise(time.monotonic())
            time.sleep(0.3)
        return 0
    except Exception as exc:
        say(f"error: {exc}")
        return 1
    finally:
        launcher.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)


__all__ = ["Launcher", "run_up", "wait_for_port"]
