"""A validated receivables portfolio: every canonical table, typed, as polars frames."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from workbench.schema import TABLES


@dataclass(frozen=True)
class Portfolio:
    """Every canonical table (DESIGN section 3) in its canonical schema.

    Tables absent from the source are empty frames with the right columns, and are not in
    ``present``: features that depend on them are null, never invented. Build one with
    :func:`workbench.load.load_portfolio` (files) or :meth:`Portfolio.from_frames` (in memory);
    both validate.
    """

    frames: Mapping[str, pl.DataFrame]
    present: frozenset[str]
    sources: Mapping[str, str] = field(default_factory=dict)
    inputs: tuple[dict, ...] = ()
    """What was read, for the weekly manifest: files with their checksum, or a database URI."""

    @classmethod
    def from_frames(
        cls,
        frames: Mapping[str, pl.DataFrame | Mapping[str, list]],
        sources: Mapping[str, str] | None = None,
        inputs: tuple[dict, ...] = (),
    ) -> Portfolio:
        """Validate in-memory tables (frames or dicts of columns) into a portfolio.

        Optional columns may be left out (they become null); values may be typed or strings.
        Payments, promises, plans and credit notes in another currency than their invoice are
        converted to it (:func:`workbench.balances.in_invoice_currency`). Raises
        :class:`workbench.errors.InputError` on bad input.
        """
        from workbench.balances import in_invoice_currency
        from workbench.validate import validated_tables

        raw = {
            name: frame
            if isinstance(frame, pl.DataFrame)
            else pl.DataFrame(dict(frame), strict=False)
            for name, frame in frames.items()
        }
        tables = in_invoice_currency(validated_tables(raw, sources or {}), sources)
        return cls(
            frames=tables, present=frozenset(raw), sources=dict(sources or {}), inputs=tuple(inputs)
        )

    def has(self, table: str) -> bool:
        """Whether ``table`` came with the source (absent tables are empty)."""
        return table in self.present

    def lazy(self, table: str) -> pl.LazyFrame:
        """The table as a LazyFrame in its canonical schema (empty when absent)."""
        if table not in TABLES:
            raise KeyError(f"unknown table {table!r}")
        return self.frames[table].lazy()

    @property
    def customers(self) -> pl.LazyFrame:
        return self.lazy("customers")

    @property
    def invoices(self) -> pl.LazyFrame:
        return self.lazy("invoices")

    @property
    def payments(self) -> pl.LazyFrame:
        return self.lazy("payments")

    @property
    def disputes(self) -> pl.LazyFrame:
        return self.lazy("disputes")

    @property
    def promises(self) -> pl.LazyFrame:
        return self.lazy("promises")

    @property
    def contacts(self) -> pl.LazyFrame:
        return self.lazy("contacts")

    @property
    def payment_plans(self) -> pl.LazyFrame:
        return self.lazy("payment_plans")

    @property
    def credit_notes(self) -> pl.LazyFrame:
        return self.lazy("credit_notes")

    @property
    def fx_rates(self) -> pl.LazyFrame:
        return self.lazy("fx_rates")
