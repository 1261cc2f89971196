"""The fairness check of the benchmark: a peer's KPIs, ageing, customer features and KPI series
equal the workbench's before anything is timed.

Money to the cent (abs diff <= 0.005), days and ratios to 0.01 (KPIs: abs diff <= 0.01 after
rounding both to 2 decimals; features: unrounded, abs diff <= 0.01), counts exactly, and a null
exactly where the workbench has one. :func:`assert_peer_agrees` raises :class:`PeerDisagrees`
naming the first differing key (customer and column for features) and both values.

    python benchmarks/peers/check.py duckdb,pandas FOLDER YYYY-MM-DD [WEEKS]
"""

from __future__ import annotations

import importlib
import math
import sys
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent

MONEY = {"total_ar", "overdue_ar", "current_ar", "credit_sales", "opening_ar", "customer_credit",
         "unapplied_cash", "open_balance", "overdue_balance"}  # fmt: skip
COUNTS = {"open_invoices", "customers_with_balance", "invoices_issued", "invoices_settled",
          "oldest_dpd", "tenure_days", "contacts_last_90_days", "open_disputes",
          "days_since_last_payment"}  # fmt: skip
FEATURE_COLUMNS = (
    "invoices_issued", "invoices_settled", "share_settled_late", "share_settled_severely_late",
    "mean_days_late", "weighted_mean_days_late", "std_days_late", "mean_days_to_pay",
    "days_since_last_payment", "unapplied_cash", "customer_credit", "open_balance",
    "overdue_balance", "open_invoices", "credit_limit_use", "oldest_dpd", "tenure_days",
    "contacts_last_90_days", "open_disputes", "dispute_rate",
)  # fmt: skip
SERIES_COLUMNS = (
    "total_ar", "overdue_ar", "current_ar", "credit_sales", "opening_ar", "dso_standard",
    "dso_countback", "best_possible_dso", "add", "cei", "weighted_days_to_pay",
    "weighted_days_late", "open_invoices", "customers_with_balance",
)  # fmt: skip


class PeerDisagrees(AssertionError):
    """A peer's result differs from the workbench's."""


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is _NA


try:  # pandas.NA, when pandas is there
    import pandas as _pd

    _NA = _pd.NA
except ImportError:  # pragma: no cover
    _NA = object()


def _differs(key: str, ours, theirs, rounded: bool) -> bool:
    """Whether a peer's value ``theirs`` differs from the workbench's ``ours`` for ``key``."""
    if _missing(ours) or _missing(theirs):
        return _missing(ours) != _missing(theirs)
    if key in COUNTS:
        return int(ours) != float(theirs)
    if key in MONEY:
        return abs(float(ours) - float(theirs)) > 0.005
    if rounded:
        return abs(round(float(ours), 2) - round(float(theirs), 2)) > 0.01 + 1e-9
    return abs(float(ours) - float(theirs)) > 0.01


def _fail(where: str, ours, theirs, peer: ModuleType) -> None:
    raise PeerDisagrees(f"{peer.__name__}: {where}: workbench {ours!r}, peer {theirs!r}")


def check_kpis(peer: ModuleType, portfolio, folder: Path, as_of: date) -> None:
    """The peer's ``kpis`` against ``workbench.kpis.portfolio_kpis``."""
    from workbench.kpis import portfolio_kpis

    ours, theirs = portfolio_kpis(portfolio, as_of), peer.kpis(folder, as_of)
    for key in ("as_of", "currency", "period_days"):
        ours.pop(key)
    if set(ours) != set(theirs):
        _fail(f"kpis keys as of {as_of}", sorted(ours), sorted(theirs), peer)
    if list(ours["ageing"]) != list(theirs["ageing"]):
        _fail(f"ageing buckets as of {as_of}", list(ours["ageing"]), list(theirs["ageing"]), peer)
    for key, value in ours.items():
        if key == "ageing":
            for bucket, amount in value.items():
                if _differs("total_ar", amount, theirs["ageing"][bucket], True):
                    other = theirs["ageing"][bucket]
                    _fail(f"ageing {bucket!r} as of {as_of}", amount, other, peer)
        elif _differs(key, value, theirs[key], True):
            _fail(f"kpis {key!r} as of {as_of}", value, theirs[key], peer)


def _records(frame) -> dict[str, dict]:
    """customer_id -> row (dict) of a polars or pandas frame."""
    if hasattr(frame, "to_dicts"):  # polars
        rows = frame.to_dicts()
    else:
        rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return {row["customer_id"]: row for row in rows}


def check_features(peer: ModuleType, portfolio, folder: Path, as_of: date) -> None:
    """The peer's ``features`` against ``workbench.features.customer_features`` (same customers,
    every column of :data:`FEATURE_COLUMNS`)."""
    from workbench.features import customer_features

    ours = _records(customer_features(portfolio, as_of).collect())
    theirs = _records(peer.features(folder, as_of))
    if set(ours) != set(theirs):
        only = sorted(set(ours) ^ set(theirs))[:5]
        _fail(f"feature customers as of {as_of} (first differing: {only})", len(ours),
              len(theirs), peer)  # fmt: skip
    for customer in sorted(ours):
        mine, other = ours[customer], theirs[customer]
        for column in FEATURE_COLUMNS:
            if column not in other:
                _fail(f"features column {column!r}", "present", "missing", peer)
            if _differs(column, mine[column], other[column], False):
                _fail(f"features {customer} {column!r} as of {as_of}", mine[column],
                      other[column], peer)  # fmt: skip


def check_series(peer: ModuleType, portfolio, folder: Path, end: date, weeks: int) -> None:
    """The peer's ``series`` against ``workbench.kpis.kpi_series`` over ``weeks`` weeks."""
    from workbench.kpis import kpi_series

    ours = kpi_series(portfolio, end - timedelta(weeks=weeks - 1), end).to_dicts()
    theirs = peer.series(folder, end, weeks)
    theirs = theirs.to_dicts() if hasattr(theirs, "to_dicts") else theirs.to_dict("records")
    if len(ours) != len(theirs):
        _fail(f"series rows to {end}", len(ours), len(theirs), peer)
    for mine, other in zip(ours, theirs, strict=True):
        day = mine["as_of"]
        if str(other["as_of"])[:10] != day.isoformat():
            _fail(f"series dates to {end}", day, other["as_of"], peer)
        for column in SERIES_COLUMNS:
            if _differs(column, mine[column], other[column], True):
                _fail(f"series {column!r} as of {day}", mine[column], other[column], peer)


def assert_peer_agrees(
    peer_module: ModuleType, folder: Path, as_of: date, series_weeks: int = 4, portfolio=None
) -> None:
    """Raise :class:`PeerDisagrees` unless the peer's kpis, features and series over
    ``series_weeks`` weeks to ``as_of`` equal the workbench's on the portfolio in ``folder``
    (``portfolio``: that folder already loaded, to load it once for several peers)."""
    if portfolio is None:
        from workbench.load import load_portfolio

        portfolio = load_portfolio(folder)
    check_kpis(peer_module, portfolio, folder, as_of)
    check_features(peer_module, portfolio, folder, as_of)
    if series_weeks:
        check_series(peer_module, portfolio, folder, as_of, series_weeks)


def peer(name: str) -> ModuleType:
    """The peer module ``duckdb`` or ``pandas`` (benchmarks/peers/<name>_peer.py)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    return importlib.import_module(f"{name}_peer")


def main(argv: list[str]) -> int:
    """``duckdb|pandas|duckdb,pandas FOLDER YYYY-MM-DD [WEEKS]``: exit 1 with the first
    difference when a peer differs (the portfolio is loaded once for all peers)."""
    from workbench.load import load_portfolio

    folder, as_of = Path(argv[1]), date.fromisoformat(argv[2])
    weeks = int(argv[3]) if len(argv) > 3 else 4
    portfolio = load_portfolio(folder)
    for name in argv[0].split(","):
        try:
            assert_peer_agrees(peer(name), folder, as_of, weeks, portfolio=portfolio)
        except PeerDisagrees as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"{name} peer agrees with the workbench on {folder} as of {as_of}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
