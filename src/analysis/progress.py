"""Progress lines on stderr for long steps: readable in a terminal and in a CI log alike."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Progress:
    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, file=sys.stderr, flush=True)

    @contextmanager
    def step(self, message: str) -> Iterator[None]:
        """Print `message ...` now and `done in N.N s` when the step ends."""
        self.say(f"{message} ...")
        started = time.perf_counter()
        yield
        self.say(f"{message}: done in {time.perf_counter() - started:.1f} s")
