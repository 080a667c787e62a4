"""The consumer's batch rule (gridmap.devices.batching): a batch is ready when ``size``
messages wait or the oldest has waited the window since it was received — so messages that
queued up while the previous batch was being stored go out at once."""
from __future__ import annotations

from collections import deque

from hypothesis import given, strategies as st

from gridmap.devices.batching import BatchWindow

ages = st.lists(st.floats(0, 1, allow_nan=False), max_size=30)


@given(size=st.integers(1, 10), seconds=st.floats(0.001, 0.5), received=ages,
       now=st.floats(1, 2))
def test_ready_when_full_or_the_oldest_has_waited_the_window(size, seconds, received, now):
    window = BatchWindow(size, seconds)
    pending = deque((t, n) for n, t in enumerate(sorted(received)))
    wait = window.wait(pending, now)
    if not pending:
        assert wait is None
        return
    due = len(pending) >= size or now - pending[0][0] >= seconds
    assert (wait == 0) == due
    if not due:  # ready exactly when the oldest message has waited the window
        assert abs(now + wait - (pending[0][0] + seconds)) < 1e-9
    batch = window.take(pending)
    assert batch == list(range(min(size, len(received))))  # oldest first, at most size
    assert len(pending) == len(received) - len(batch)


def test_messages_that_waited_during_the_last_batch_are_not_held_another_window():
    """The rule before: a window opened when the consumer came back for the next batch, so a
    message that had already waited 80 ms behind a slow batch waited 50 ms more."""
    window = BatchWindow(500, 0.050)
    pending = deque([(10.000, "a"), (10.030, "b")])
    assert window.wait(pending, now=10.080) == 0
    assert window.take(pending) == ["a", "b"]
    assert abs(window.wait(deque([(10.070, "c")]), now=10.080) - 0.040) < 1e-9
