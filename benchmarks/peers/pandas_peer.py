"""pandas peer of the workbench benchmark: KPIs, ageing, customer features and the 52-week KPI
series of a generated portfolio folder, written as a competent pandas user would: vectorized
``groupby`` / ``merge`` / boolean masks, no Python loop over rows. The frames come from
``pd.read_parquet`` (pyarrow, a test dependency). The series loops over its 52 dates calling the vectorized one-date
computation (what a pandas user would write; each date recomputes the balances).

Independent of the workbench (it does not import it): the definitions are re-implemented from
``src/workbench/kpis.py``, ``balances.py``, ``ageing.py``, ``features.py``, ``disputes.py`` and
the default ``policy.toml`` (kpis.period_days 90, ageing bounds 30/60/90/120, open tolerance
0.01, late after 0 days, severely late after 30, contact window 90). Money is summed exactly in
int64 micro-units and rounded once to the cent, half away from zero, as the workbench does.

Single currency only: a portfolio whose invoices carry several currencies is refused (the
workbench converts them with fx_rates; the peer does not).

The features leave out what needs the promise and payment-plan status rules (promises_*,
plan_instalments_missed, on_active_plan) and days_late_trend, partial_payment_rate,
last_contact_date, terms_days: the workbench computes more than the peer, so a timing comparison
is conservative (in the peer's favour).

    python benchmarks/peers/pandas_peer.py kpis|features|series FOLDER YYYY-MM-DD
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

PERIOD_DAYS = 90
OPEN_TOLERANCE_CENTS = 1  # policy amounts.open_tolerance = 0.01
BOUNDS = (30, 60, 90, 120)
BUCKETS = ("not yet due", "1-30", "31-60", "61-90", "91-120", "over 120")
LATE_AFTER_DAYS, SEVERE_LATE_DAYS, CONTACT_WINDOW_DAYS = 0, 30, 90
DAY = np.timedelta64(1, "D")

COLUMNS = {
    "invoices": ["invoice_id", "customer_id", "issue_date", "due_date", "amount", "currency"],
    "payments": ["customer_id", "payment_date", "amount", "invoice_id"],
    "credit_notes": ["invoice_id", "date", "amount"],
    "customers": ["customer_id", "credit_limit", "created_date"],
    "disputes": ["invoice_id", "opened_date", "resolved_date"],
    "contacts": ["customer_id", "contact_date"],
}


def read(folder: Path, names=tuple(COLUMNS)) -> dict[str, pd.DataFrame]:
    """The tables ``names`` of ``folder``, their dates as datetime64[ns] (refuses several
    currencies)."""
    tables = {name: _read_parquet(Path(folder) / f"{name}.parquet", COLUMNS[name])
              for name in names}  # fmt: skip
    if "invoices" in tables and tables["invoices"]["currency"].nunique() > 1:
        raise ValueError(
            f"the pandas peer handles one currency; {folder} has invoices in "
            f"{', '.join(sorted(tables['invoices']['currency'].dropna().unique()))}"
        )
    return tables


def _read_parquet(path: Path, columns: list[str]) -> pd.DataFrame:
    """``pd.read_parquet(path, columns=columns)``, dates as datetime64[ns]."""
    frame = pd.read_parquet(path, columns=columns)
    for column in frame.columns:
        if column.endswith("_date") or column == "date":
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    return frame


def micros(amount: pd.Series) -> pd.Series:
    """Amounts as int64 micro-units."""
    return (amount * 1_000_000).round().astype("int64")


def cents_of(m):
    """Micro-units rounded once to whole cents, half away from zero (int64)."""
    return np.sign(m) * ((np.abs(m) + 5000) // 10000)


def _days(later, earlier) -> pd.Series:
    return (later - earlier) / DAY


def balances(t: dict[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    """Invoice balances as of ``as_of`` (one row per invoice issued on or before it): the
    columns of ``workbench.balances.invoice_balances`` used here, money in cents."""
    day = pd.Timestamp(as_of)
    inv = t["invoices"][t["invoices"]["issue_date"] <= day].copy()
    inv["amount_micros"] = micros(inv["amount"])
    pay = t["payments"]
    pay = pay[(pay["payment_date"] <= day) & pay["invoice_id"].notna()]
    cn = t["credit_notes"][t["credit_notes"]["date"] <= day]
    moves = pd.concat([
        pd.DataFrame({"invoice_id": pay["invoice_id"], "date": pay["payment_date"],
                      "paid": micros(pay["amount"]), "credited": 0, "n_payments": 1}),
        pd.DataFrame({"invoice_id": cn["invoice_id"], "date": cn["date"], "paid": 0,
                      "credited": micros(cn["amount"]), "n_payments": 0}),
    ])  # fmt: skip
    moves = moves[moves["invoice_id"].isin(inv["invoice_id"])]
    daily = moves.groupby(["invoice_id", "date"], as_index=False, sort=True).sum()
    daily["cum"] = (daily["paid"] + daily["credited"]).groupby(daily["invoice_id"]).cumsum()
    daily = daily.merge(inv[["invoice_id", "amount_micros"]], on="invoice_id")
    reached = cents_of(daily["amount_micros"] - daily["cum"]) <= OPEN_TOLERANCE_CENTS
    by_invoice = daily.groupby("invoice_id").agg(
        paid=("paid", "sum"), credited=("credited", "sum"), n_payments=("n_payments", "sum")
    )
    by_invoice["settled_on"] = daily[reached].groupby("invoice_id")["date"].min()
    bal = inv.merge(by_invoice, on="invoice_id", how="left")
    net = bal["amount_micros"] - bal["paid"].fillna(0) - bal["credited"].fillna(0)
    net = net.astype("int64")
    bal["open_cents"] = cents_of(net.clip(lower=0))
    bal["excess_cents"] = cents_of((-net).clip(lower=0))
    bal["is_open"] = bal["open_cents"] > OPEN_TOLERANCE_CENTS
    bal["dpd"] = _days(day, bal["due_date"])
    bal["settlement_date"] = bal["settled_on"].fillna(bal["issue_date"]).where(~bal["is_open"])
    bal["days_to_pay"] = _days(bal["settlement_date"], bal["issue_date"])
    bal["days_late"] = _days(bal["settlement_date"], bal["due_date"])
    return bal


def _countback(bal: pd.DataFrame, as_of: date, ar_cents: int) -> float:
    """DSO countback: open AR consumed against each month's sales, newest month first."""
    this_month = pd.Timestamp(as_of).to_period("M")
    first = bal["issue_date"].min()
    first = this_month if pd.isna(first) else first.to_period("M")
    sales = (bal["amount"] * 100).round().astype("int64").groupby(
        bal["issue_date"].dt.to_period("M")).sum()  # fmt: skip
    months = pd.period_range(first, this_month, freq="M")[::-1]
    sales = sales.reindex(months, fill_value=0).to_numpy()
    days = np.where(months == this_month, as_of.day, months.days_in_month).astype(float)
    after = np.cumsum(sales)
    before = after - sales
    with np.errstate(divide="ignore", invalid="ignore"):
        partial = (ar_cents - before) / sales * days
    counted = np.where(before >= ar_cents, 0.0, np.where(after <= ar_cents, days, partial))
    return float(counted.sum())


def _scalars(t: dict[str, pd.DataFrame], as_of: date, bal: pd.DataFrame | None = None) -> dict:
    """The scalar KPIs (unrounded) and ageing as of ``as_of`` (``bal``: its balances)."""
    n, day = PERIOD_DAYS, pd.Timestamp(as_of)
    bal = balances(t, as_of) if bal is None else bal
    opening = balances(t, as_of - timedelta(days=n))
    open_ = bal[bal["is_open"]]
    total = int(open_["open_cents"].sum())
    overdue = int(open_.loc[open_["dpd"] > 0, "open_cents"].sum())
    current = total - overdue
    in_window = _days(day, bal["issue_date"]).between(0, n - 1)
    sales = int(cents_of(int(bal.loc[in_window, "amount_micros"].sum()))) / 100
    opening_ar = int(opening.loc[opening["is_open"], "open_cents"].sum()) / 100
    settled = bal[_days(day, bal["settlement_date"]).between(0, n - 1)]
    weight = settled["amount"].sum()
    total_ar, current_ar = total / 100, current / 100
    dso = total_ar * (n / sales) if sales > 0 else None
    best = current_ar * (n / sales) if sales > 0 else None
    denominator = opening_ar + sales - current_ar
    buckets = pd.cut(open_["dpd"], [-np.inf, 0, *BOUNDS, np.inf], labels=BUCKETS)
    ageing = open_["open_cents"].groupby(buckets, observed=False).sum()
    return {
        "total_ar": total_ar, "overdue_ar": overdue / 100, "current_ar": current_ar,
        "credit_sales": sales, "opening_ar": opening_ar,
        "customer_credit": int(bal["excess_cents"].sum()) / 100,
        "dso_standard": dso, "dso_countback": _countback(bal, as_of, total),
        "best_possible_dso": best, "add": None if dso is None else dso - best,
        "cei": (opening_ar + sales - total_ar) / denominator * 100 if denominator else None,
        "weighted_days_to_pay": (settled["days_to_pay"] * settled["amount"]).sum() / weight
        if weight > 0 else None,
        "weighted_days_late": (settled["days_late"] * settled["amount"]).sum() / weight
        if weight > 0 else None,
        "open_invoices": len(open_),
        "customers_with_balance": open_["customer_id"].nunique(),
        "ageing": {name: int(ageing[name]) / 100 for name in BUCKETS},
    }  # fmt: skip


def _rounded(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _kpis(t: dict[str, pd.DataFrame], as_of: date, bal: pd.DataFrame | None = None) -> dict:
    out = _scalars(t, as_of, bal)
    for key, value in out.items():
        if key == "ageing":
            out[key] = {name: _rounded(amount) for name, amount in value.items()}
        elif key not in ("open_invoices", "customers_with_balance"):
            out[key] = _rounded(value)
    return out


def kpis(folder: Path, as_of: date) -> dict:
    """The scalar KPIs and ageing of ``workbench.kpis.portfolio_kpis`` (without as_of, currency,
    period_days), rounded to 2 decimals."""
    return _kpis(read(folder, ("invoices", "payments", "credit_notes")), as_of)


def features(folder: Path, as_of: date) -> pd.DataFrame:
    """Per-customer features (the subset named in the module docstring), one row per customer
    known as of ``as_of``."""
    t = read(folder)
    return _features(t, balances(t, as_of), as_of)


def kpis_features(folder: Path, as_of: date) -> tuple[dict, pd.DataFrame]:
    """:func:`kpis` and :func:`features`, the tables read and the balances computed once."""
    t = read(folder)
    bal = balances(t, as_of)
    return _kpis(t, as_of, bal), _features(t, bal.copy(), as_of)


def _features(t: dict[str, pd.DataFrame], bal: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """:func:`features` from the tables and the balances as of ``as_of``."""
    day = pd.Timestamp(as_of)
    settled = bal["settlement_date"].notna()
    bal["late"] = bal["days_late"] > LATE_AFTER_DAYS
    bal["severe"] = bal["days_late"] > SEVERE_LATE_DAYS
    bal["late_amount"] = bal["days_late"] * bal["amount"]
    bal["settled_amount"] = bal["amount"].where(settled)
    bal["open"] = bal["open_cents"].where(bal["is_open"], 0)
    bal["overdue"] = bal["open_cents"].where(bal["is_open"] & (bal["dpd"] > 0), 0)
    bal["open_dpd"] = bal["dpd"].where(bal["is_open"])
    g = bal.groupby("customer_id")
    f = g.agg(
        invoices_issued=("invoice_id", "size"), invoices_settled=("settlement_date", "count"),
        late=("late", "sum"), severe=("severe", "sum"), mean_days_late=("days_late", "mean"),
        late_amount=("late_amount", "sum"), settled_amount=("settled_amount", "sum"),
        std_days_late=("days_late", "std"), mean_days_to_pay=("days_to_pay", "mean"),
        open_cents=("open", "sum"), credit_cents=("excess_cents", "sum"),
        overdue_cents=("overdue", "sum"), open_invoices=("is_open", "sum"),
        oldest_dpd=("open_dpd", "max"), first_issue_date=("issue_date", "min"),
    )  # fmt: skip
    n_settled = f["invoices_settled"].where(f["invoices_settled"] > 0)
    f["share_settled_late"] = f.pop("late") / n_settled
    f["share_settled_severely_late"] = f.pop("severe") / n_settled
    weight = f.pop("settled_amount")
    f["weighted_mean_days_late"] = (f.pop("late_amount") / weight).where(weight > 0)

    disputes = t["disputes"][t["disputes"]["opened_date"] <= day].merge(
        bal[["invoice_id", "customer_id"]], on="invoice_id")  # fmt: skip
    disputes["open"] = disputes["resolved_date"].isna() | (disputes["resolved_date"] > day)
    d = disputes.groupby("customer_id").agg(
        disputed_invoices=("invoice_id", "nunique"), open_disputes=("open", "sum")
    )
    pay = t["payments"][t["payments"]["payment_date"] <= day]
    unapplied = micros(pay["amount"]).where(pay["invoice_id"].isna(), 0)
    p = pd.DataFrame({
        "days_since_last_payment": _days(day, pay.groupby("customer_id")["payment_date"].max()),
        "unapplied_cents": cents_of(unapplied.groupby(pay["customer_id"]).sum()),
    })  # fmt: skip
    contacts = t["contacts"][t["contacts"]["contact_date"] <= day]
    recent = _days(day, contacts["contact_date"]).between(0, CONTACT_WINDOW_DAYS - 1)
    c = recent.groupby(contacts["customer_id"]).sum().rename("contacts_last_90_days")

    out = t["customers"].merge(f, on="customer_id", how="left")
    created = out["created_date"]
    out = out[created.isna() | (created <= day) | out["invoices_issued"].notna()]
    out = out.merge(d, on="customer_id", how="left").merge(p, on="customer_id", how="left")
    out = out.merge(c, on="customer_id", how="left")
    for column in ("invoices_issued", "invoices_settled", "open_invoices",
                   "contacts_last_90_days", "open_disputes"):  # fmt: skip
        out[column] = out[column].fillna(0).astype("int64")
    for money, cents in (("open_balance", "open_cents"), ("customer_credit", "credit_cents"),
                         ("overdue_balance", "overdue_cents"),
                         ("unapplied_cash", "unapplied_cents")):  # fmt: skip
        out[money] = out.pop(cents).fillna(0) / 100
    limit = out["credit_limit"]
    out["credit_limit_use"] = (out["open_balance"] / limit).where(limit > 0)
    out["tenure_days"] = _days(day, out["created_date"].fillna(out["first_issue_date"]))
    issued = out["invoices_issued"].where(out["invoices_issued"] > 0)
    out["dispute_rate"] = out["disputed_invoices"].fillna(0) / issued
    return out.drop(
        columns=["credit_limit", "created_date", "first_issue_date", "disputed_invoices"]
    ).reset_index(drop=True)


def series(folder: Path, end: date, weeks: int = 52) -> pd.DataFrame:
    """The scalar KPIs at end - (weeks - 1) weeks, ..., end (every 7 days): a loop over the dates
    calling the vectorized one-date computation."""
    t = read(folder, ("invoices", "payments", "credit_notes"))
    rows = []
    for k in range(weeks - 1, -1, -1):
        day = end - timedelta(weeks=k)
        kpis = _kpis(t, day)
        kpis.pop("ageing")
        rows.append({"as_of": day, **kpis})
    return pd.DataFrame(rows)


def main(argv: list[str]) -> int:
    """``kpis|features|kpis_features|series FOLDER YYYY-MM-DD``: compute, print a summary."""
    what, folder, day = argv[0], Path(argv[1]), date.fromisoformat(argv[2])
    if what == "kpis":
        print(kpis(folder, day))
    elif what == "features":
        frame = features(folder, day)
        print(f"{len(frame)} customers, {frame.shape[1]} columns")
    elif what == "kpis_features":
        values, frame = kpis_features(folder, day)
        print(values["total_ar"], len(frame))
    elif what == "series":
        print(series(folder, day).tail(3).to_string())
    else:
        print(f"unknown command {what!r}: kpis, features, kpis_features or series", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
