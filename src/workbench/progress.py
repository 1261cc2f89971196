"""Progress bars of long commands (``workbench train``, the weekly run, notebook 03): a tqdm bar
on standard error over counted steps whose total grows as the work is planned, with the current
stage as its suffix. :data:`QUIET` does nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Steps:
    """A progress bar over steps. ``expect(n)`` adds n steps to the total, ``stage(name)`` names
    what runs now, ``advance(n)`` counts n steps done. Disabled, it does nothing."""

    def __init__(self, description: str = "", enabled: bool = True) -> None:
        self._bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=0, desc=description, unit="step", file=sys.stderr, leave=False)

    def expect(self, n: int) -> None:
        if self._bar is not None:
            self._bar.total += n
            self._bar.refresh()

    def stage(self, name: str) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(name)

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def counting(self, job: Callable[[], T]) -> Callable[[], T]:
        """``job``, advancing one step when it returns (for jobs run side by side)."""

        def counted() -> T:
            result = job()
            self.advance()
            return result

        return counted

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Steps:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


QUIET = Steps(enabled=False)
"""A progress bar that shows nothing."""
