"""Progress of long work, reported by the core and drawn by the caller.

The core says which stage it is in and how far along (``stage``/``advance``); it never draws.
The CLI draws a bar on stderr with tqdm when stderr is a terminal (and stays silent in logs
and pipes); a web job may record the same calls as its progress.
"""
from __future__ import annotations

import sys
from typing import Protocol


class Progress(Protocol):
    """What long operations report to."""

    def stage(self, name: str, total: int | None = None) -> None:
        """A new stage begins; ``total`` units of work when known."""

    def advance(self, amount: int = 1) -> None:
        """``amount`` more units of the current stage are done."""


class NoProgress:
    """Reports nowhere (the default)."""

    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass


class TerminalProgress:
    """One tqdm bar per stage on stderr, shown only when stderr is a terminal."""

    def __init__(self, *, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar = None

    def stage(self, name: str, total: int | None = None) -> None:
        self.close()
        if self.enabled:
            from tqdm import tqdm

            # str(): a lazy message (gridmap.i18n.msg) in the reader's language
            self._bar = tqdm(total=total, desc=str(name), unit=" rows" if total else " steps",
                             file=sys.stderr, leave=False, dynamic_ncols=True)

    def advance(self, amount: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(amount)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "TerminalProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
