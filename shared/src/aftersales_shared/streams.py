"""JetStream streams, declared once: one per producing service (plus partners), applied
idempotently."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

DAY = 24 * 3600


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    description: str
    max_age_days: int = 30
    max_bytes: int = 2 * 1024**3
    duplicate_window_seconds: int = 30 * 60

    def config(self, replicas: int) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            description=self.description,
            subjects=list(self.subjects),
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=float(self.max_age_days * DAY),
            max_bytes=self.max_bytes,
            max_msg_size=1024 * 1024,
            duplicate_window=float(self.duplicate_window_seconds),
            num_replicas=replicas,
        )


PRODUCERS = ("contracts", "tickets", "surveys", "notifications", "dealers", "reports")

STREAMS: tuple[StreamSpec, ...] = tuple(
    StreamSpec(
        name=p.upper(), subjects=(f"{p}.>",), description=f"events published by the {p} service"
    )
    for p in PRODUCERS
) + (
    StreamSpec(
        name="PARTNERS",
        subjects=("partners.>",),
        description="events published by partner systems (ERP, call centre, dealer portals)",
    ),
)


def stream_for_subject(subject: str) -> StreamSpec:
    """The stream that captures a subject (by its first token)."""
    head = subject.split(".", 1)[0]
    for spec in STREAMS:
        if any(s.split(".", 1)[0] == head for s in spec.subjects):
            return spec
    raise KeyError(f"no stream captures subject {subject!r}")


async def apply_streams(js: JetStreamContext, replicas: int = 1) -> list[str]:
    """Create or update every stream; safe to run any number of times. Returns what it did."""
    done = []
    for spec in STREAMS:
        config = spec.config(replicas)
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config=config)
            done.append(f"created {spec.name}")
        else:
            await js.update_stream(config=config)
            done.append(f"updated {spec.name}")
    return done
