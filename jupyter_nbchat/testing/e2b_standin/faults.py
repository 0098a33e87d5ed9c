"""What tests control (faults) and read (stats) on a running stand-in."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass
class Faults:
    """Failures and delays the next requests suffer; tests set the fields directly.

    ``create_status`` and ``start_delay`` last until cleared (``start_delay`` is
    also the start-latency knob for benchmarks); ``execute_status`` and
    ``drop_execute_after`` apply to the next ``/execute`` only.
    """

    create_status: int | None = None
    #: The next N creates fail with 500 (a hiccup the SDK does not retry), then succeed.
    create_failures: int = 0
    start_delay: float = 0.0
    #: Seconds each kill request (DELETE) takes before the sandbox goes.
    kill_delay: float = 0.0
    execute_status: int | None = None
    drop_execute_after: int | None = None

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, f.default)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str
    sandbox_id: str | None
    port: str | None
    started: float
    status: int | None = None


@dataclass
class Stats:
    """What the stand-in has seen; ``creates`` counts sandboxes actually created."""

    create_requests: int = 0
    creates: int = 0
    kills: int = 0
    #: Kill requests being answered now, and the most at once (shutdown closes concurrently).
    kills_in_flight: int = 0
    most_kills_in_flight: int = 0
    expired: int = 0
    executions: int = 0
    bytes_uploaded: dict[str, int] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)
