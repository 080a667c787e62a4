"""When the MQTT consumer's waiting messages make a batch: :class:`BatchWindow`.

A batch is stored when ``size`` messages are waiting, or when the **oldest** waiting message
has waited ``seconds`` since it was received — not ``seconds`` from when the consumer starts
looking. The difference shows under load: messages that arrived while the previous batch was
being stored have already waited, so they go out at once rather than after another full
window (which added the window to every message's lag whenever storing took longer than it).
An idle consumer still waits up to the window for a first message's companions, so a trickle
of messages is not stored one transaction each.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BatchWindow:
    """The rule: at most ``size`` messages a batch; none waits longer than ``seconds``."""

    size: int
    seconds: float

    def wait(self, pending: deque[tuple[float, Any]], now: float) -> float | None:
        """Seconds until ``pending`` (``(received, message)`` pairs, oldest first, times on
        the ``time.monotonic`` clock) holds a batch: 0 when it does now, None when nothing
        is waiting."""
        if not pending:
            return None
        if len(pending) >= self.size:
            return 0.0
        return max(0.0, pending[0][0] + self.seconds - now)

    def take(self, pending: deque[tuple[float, Any]]) -> list[Any]:
        """The next batch: the oldest ``size`` messages (or fewer), taken out of ``pending``."""
        return [pending.popleft()[1] for _ in range(min(self.size, len(pending)))]
