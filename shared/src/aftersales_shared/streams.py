"""JetStream streams, declared once: one per producing service (plus partners), applied
idempotently, and ARCHIVE, which keeps a copy of all of them for years.

The producer streams keep 30 days (what consumers need to catch up after an outage). ARCHIVE has no
subjects of its own: it *sources* every producer stream, so each event is copied there with its
subject and headers (CloudEvents, Nats-Msg-Id; the server adds Nats-Stream-Source) and kept
ARCHIVE_MAX_AGE_DAYS (4 years: the 3 years of history a new reports database is rebuilt from, plus
a margin). Its size is per installation (`aftersales streams apply --archive-max-bytes`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from nats.js import JetStreamContext
from nats.js.api import (
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamSource,
)
from nats.js.errors import APIError, NotFoundError

DAY = 24 * 3600
GIB = 1024**3
MAX_MSG_SIZE = 1024 * 1024


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    description: str
    max_age_days: int = 30
    max_bytes: int = 2 * 1024**3
    duplicate_window_seconds: int = 30 * 60
    sources: tuple[str, ...] = ()  # streams copied into this one (it then has no subjects)
    max_msg_size: int = MAX_MSG_SIZE

    def config(self, replicas: int) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            description=self.description,
            subjects=list(self.subjects) or None,
            sources=[StreamSource(name=s) for s in self.sources] or None,
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=float(self.max_age_days * DAY),
            max_bytes=self.max_bytes,
            max_msg_size=self.max_msg_size,
            duplicate_window=float(self.duplicate_window_seconds),
            num_replicas=replicas,
        )


PRODUCERS = (
    "contracts",
    "tickets",
    "surveys",
    "notifications",
    "dealers",
    "reports",
    "parts",
)

PRODUCER_STREAMS: tuple[StreamSpec, ...] = tuple(
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

ARCHIVE = "ARCHIVE"
YEARS_OF_HISTORY = 3  # the seed: a new reports database is rebuilt with at least 3 years
MIN_ARCHIVE_DAYS = YEARS_OF_HISTORY * 365 + 1
ARCHIVE_MAX_AGE_DAYS = 4 * 365 + 1  # 3 years and a year's margin
# Reserved on every NATS node at apply time (streams with max_bytes reserve it): ~8 million events
# at ~1 KiB each, e.g. 170,000 events a month for 48 months. Size it per installation: bytes per
# event × events per month × 48 (README, "History: the ARCHIVE stream").
ARCHIVE_MAX_BYTES = 8 * GIB

ARCHIVE_SPEC = StreamSpec(
    name=ARCHIVE,
    subjects=(),
    sources=tuple(spec.name for spec in PRODUCER_STREAMS),
    description=(
        "every event of the producer streams, kept for years: what a new reports database is "
        "rebuilt from (python -m reports rebuild)"
    ),
    max_age_days=ARCHIVE_MAX_AGE_DAYS,
    max_bytes=ARCHIVE_MAX_BYTES,
    # a sourced message carries one more header (Nats-Stream-Source) than the original
    max_msg_size=MAX_MSG_SIZE + 64 * 1024,
)

STREAMS: tuple[StreamSpec, ...] = (*PRODUCER_STREAMS, ARCHIVE_SPEC)


def stream_for_subject(subject: str) -> StreamSpec:
    """The stream that captures a subject (by its first token)."""
    head = subject.split(".", 1)[0]
    for spec in STREAMS:
        if any(s.split(".", 1)[0] == head for s in spec.subjects):
            return spec
    raise KeyError(f"no stream captures subject {subject!r}")


def archive_spec(max_bytes: int | None = None, max_age_days: int | None = None) -> StreamSpec:
    """ARCHIVE with this installation's limits (None: the defaults); refuses less than 3 years."""
    spec = ARCHIVE_SPEC
    if max_bytes is not None:
        if max_bytes < 1024**2:
            raise ValueError(
                f"ARCHIVE max bytes {max_bytes} is too small: size it as bytes per event × events "
                "per month × 48 (ARCHIVE 的容量过小)"
            )
        spec = replace(spec, max_bytes=max_bytes)
    if max_age_days is not None:
        if max_age_days < MIN_ARCHIVE_DAYS:
            raise ValueError(
                f"ARCHIVE must keep at least {YEARS_OF_HISTORY} years ({MIN_ARCHIVE_DAYS} days), "
                f"not {max_age_days} days: the reports read model is rebuilt from it "
                f"(归档至少保留 {YEARS_OF_HISTORY} 年)"
            )
        spec = replace(spec, max_age_days=max_age_days)
    return spec


async def apply_streams(
    js: JetStreamContext,
    replicas: int = 1,
    *,
    archive_max_bytes: int | None = None,
    archive_max_age_days: int | None = None,
) -> list[str]:
    """Create or update every stream; safe to run any number of times. Returns what it did.

    ARCHIVE comes last, after the streams it sources."""
    done = []
    archive = archive_spec(archive_max_bytes, archive_max_age_days)
    for spec in (*PRODUCER_STREAMS, archive):
        try:
            done.append(await _apply_one(js, spec, replicas))
        except APIError as exc:
            raise StreamApplyError(spec, exc) from exc
    return done


async def _apply_one(js: JetStreamContext, spec: StreamSpec, replicas: int) -> str:
    config = spec.config(replicas)
    try:
        await js.stream_info(spec.name)
    except NotFoundError:
        await js.add_stream(config=config)
        return f"created {spec.name}"
    await js.update_stream(config=config)
    return f"updated {spec.name}"


INSUFFICIENT_STORAGE = 10047


class StreamApplyError(RuntimeError):
    """The server refused a stream; the message says what to do when it is a matter of size."""

    def __init__(self, spec: StreamSpec, exc: APIError) -> None:
        text = f"stream {spec.name} refused: {exc.description or exc}"
        if exc.err_code == INSUFFICIENT_STORAGE:
            text += (
                f" — it reserves {spec.max_bytes} bytes on every NATS node: raise the server's "
                "max_file_store (and its volume) or size the stream down"
                + (
                    " (--archive-max-bytes / AFTERSALES_ARCHIVE_MAX_BYTES)"
                    if spec.name == ARCHIVE
                    else ""
                )
                + " (NATS 存储空间不足)"
            )
        super().__init__(text)
