"""The launcher's supervision rule without processes: back-off 1, 2, 4, 8, 16 s, then it leaves a
service down."""

from __future__ import annotations

from pathlib import Path

from aftersales_tools import launcher as lmod
from aftersales_tools.catalog import PROCESSES


class Dead:
    pid = 4141
    returncode = 1

    def poll(self) -> int:
        return 1


class Alive:
    pid = 4242
    returncode = None

    def poll(self) -> None:
        return None


def test_a_crashing_service_is_restarted_with_back_off_then_left_down(tmp_path: Path, capsys):
    la = lmod.Launcher(
        data_dir=tmp_path, nats_url="nats://127.0.0.1:1", nats_port=0, port_base=None
    )
    started: list[tuple[str, float]] = []
    clock = {"now": 1000.0}

    def start_service(index, info):  # type: ignore[no-untyped-def]
        started.append((info.name, clock["now"]))
        la.procs[info.name] = Dead() if info.name == "tickets" else Alive()

    la.start_service = start_service  # type: ignore[method-assign]
    la.start_services()
    started.clear()
    while clock["now"] < 1000.0 + 200:
        la.supervise(clock["now"])
        clock["now"] += 0.5
    assert [name for name, _ in started] == ["tickets"] * lmod.MAX_RESTARTS
    gaps = [round(b - a) for (_, a), (_, b) in zip([("tickets", 1000.0), *started], started)]
    assert gaps == [1, 2, 4, 8, 16]
    assert "tickets" in la.given_up and set(la.procs) == {s.name for s in PROCESSES}
    out = capsys.readouterr().out
    assert "tickets exited with 1; restarting in 1 s (restart 1 of 5" in out
    assert "leaving it down (the others keep running)" in out
    assert all(isinstance(la.procs[s.name], Alive) for s in PROCESSES if s.name != "tickets")
