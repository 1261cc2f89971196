"""Errors the command line maps to exit codes (2 = bad input)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as the source allows.

    ``row`` is the 1-based data row (the header is not counted); for a CSV file the line number is
    ``row + 1``.
    """

    message: str
    file: str | None = None
    table: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if self.table and not (self.file or "").lower().endswith(f", table {self.table}".lower()):
            where.append(f"table {self.table}")  # (a database origin already names it)
        if self.row is not None:
            line = f" (line {self.row + 1})" if self.file and self.file.endswith(".csv") else ""
            where.append(f"row {self.row}{line}")
        if self.column:
            where.append(f"column {self.column}")
        return (", ".join(where) + ": " if where else "") + self.message


class InputError(Exception):
    """Bad input: the message names the file, table, row and column. Exit status 2."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str, *, more: int = 0) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        self.more = more
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [str(p) for p in self.problems]
        if self.more:
            lines.append(f"... and {self.more} more problem(s) of the same kinds")
        return "\n".join(lines)


class InputWarning(UserWarning):
    """Input accepted with a caveat the user should know (a guessed encoding, a value rounded):
    the command line prints it on stderr as ``warning: ...``; the run goes on."""


def warn_input(problem: Problem | str) -> None:
    """Emit ``problem`` as an :class:`InputWarning` (located like an error)."""
    import warnings

    warnings.warn(InputWarning(str(problem)), stacklevel=2)
