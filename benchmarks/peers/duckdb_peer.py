"""DuckDB peer of the workbench benchmark: KPIs, ageing, customer features and the 52-week KPI
series of a generated portfolio folder, written as a competent DuckDB user would: SQL over
``read_parquet`` (CTEs, window functions, one ``duckdb.connect()`` per call); Python only passes
the parameters and shapes the result.

Independent of the workbench (it does not import it): the definitions are re-implemented from
``src/workbench/kpis.py``, ``balances.py``, ``ageing.py``, ``features.py``, ``disputes.py`` and
the default ``policy.toml`` (kpis.period_days 90, ageing bounds 30/60/90/120, open tolerance
0.01, late after 0 days, severely late after 30, contact window 90). Money is summed exactly in
integer micro-units and rounded once to the cent, half away from zero, as the workbench does.

The series is one query over all its dates: each invoice's balance is a few states (from its
issue, then after each date with payments or credit notes), joined by date range to the dates.
It assumes no payment or credit note is dated before its invoice's issue date (the generator
makes none; the single-date queries handle them as the workbench does).

Single currency only: a portfolio whose invoices carry several currencies is refused (the
workbench converts them with fx_rates; the peer does not).

The features leave out what needs the promise and payment-plan status rules (promises_*,
plan_instalments_missed, on_active_plan) and days_late_trend, partial_payment_rate,
last_contact_date, terms_days: the workbench computes more than the peer, so a timing comparison
is conservative (in the peer's favour).

    python benchmarks/peers/duckdb_peer.py kpis|features|series FOLDER YYYY-MM-DD
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb

PERIOD_DAYS = 90
OPEN_TOLERANCE_CENTS = 1  # policy amounts.open_tolerance = 0.01
BOUNDS = (30, 60, 90, 120)
BUCKETS = ("not yet due", "1-30", "31-60", "61-90", "91-120", "over 120")
LATE_AFTER_DAYS, SEVERE_LATE_DAYS, CONTACT_WINDOW_DAYS = 0, 30, 90
TABLES = ("invoices", "payments", "credit_notes", "customers", "disputes", "contacts")

MACROS = """
CREATE OR REPLACE MACRO micros(x) AS CAST(round(x * 1000000) AS BIGINT);
-- micro-units rounded once to whole cents, half away from zero
CREATE OR REPLACE MACRO cents_of(m) AS sign(m) * ((abs(m) + 5000) // 10000);
"""

# Invoice balances as of $as_of (balances.invoice_balances): one row per invoice issued <= as_of.
BALANCES = """
inv AS (
    SELECT invoice_id, customer_id, issue_date, due_date, amount, micros(amount) AS amount_micros
    FROM read_parquet($invoices) WHERE issue_date <= $as_of
),
moves AS (
    SELECT invoice_id, payment_date AS date, micros(amount) AS micros, 1 AS is_payment
    FROM read_parquet($payments) WHERE payment_date <= $as_of AND invoice_id IS NOT NULL
    UNION ALL
    SELECT invoice_id, date, micros(amount), 0 FROM read_parquet($credit_notes) WHERE date <= $as_of
),
daily AS (  -- movements of an invoice per date, with the remaining balance after that date
    SELECT invoice_id, date,
           sum(micros) FILTER (WHERE is_payment = 1) AS paid,
           sum(micros) FILTER (WHERE is_payment = 0) AS credited,
           sum(is_payment) AS n_payments,
           any_value(amount_micros) - sum(sum(micros)) OVER (PARTITION BY invoice_id ORDER BY date)
               AS remaining
    FROM moves JOIN inv USING (invoice_id)
    GROUP BY invoice_id, date
),
settled_by AS (
    SELECT invoice_id, coalesce(sum(paid), 0) AS paid_micros,
           coalesce(sum(credited), 0) AS credited_micros, sum(n_payments) AS n_payments,
           min(date) FILTER (WHERE cents_of(remaining) <= $tol) AS settled_on
    FROM daily GROUP BY invoice_id
),
bal0 AS (
    SELECT inv.*, coalesce(n_payments, 0) AS n_payments, settled_on,
           amount_micros - coalesce(paid_micros, 0) - coalesce(credited_micros, 0) AS net
    FROM inv LEFT JOIN settled_by USING (invoice_id)
),
bal1 AS (
    SELECT *, cents_of(greatest(net, 0)) AS open_cents, cents_of(greatest(-net, 0)) AS excess_cents,
           $as_of - due_date AS dpd
    FROM bal0
),
bal AS (
    SELECT *, open_cents > $tol AS is_open,
           CASE WHEN open_cents <= $tol THEN coalesce(settled_on, issue_date) END
               AS settlement_date,
           settlement_date - issue_date AS days_to_pay,
           settlement_date - due_date AS days_late
    FROM bal1
)
"""

KPIS = """
WITH {balances},
totals AS (
    SELECT sum(open_cents) FILTER (WHERE is_open) AS total_cents,
           sum(open_cents) FILTER (WHERE is_open AND dpd > 0) AS overdue_cents,
           sum(open_cents) FILTER (WHERE is_open AND dpd <= 0) AS current_cents,
           sum(excess_cents) AS credit_cents,
           cents_of(sum(amount_micros) FILTER (WHERE $as_of - issue_date BETWEEN 0 AND $n - 1))
               AS sales_cents,
           count(*) FILTER (WHERE is_open) AS open_invoices,
           count(DISTINCT customer_id) FILTER (WHERE is_open) AS customers_with_balance,
           sum(amount) FILTER (WHERE $as_of - settlement_date BETWEEN 0 AND $n - 1)
               AS settled_amount,
           sum(days_to_pay * amount) FILTER (WHERE $as_of - settlement_date BETWEEN 0 AND $n - 1)
               AS dtp_weighted,
           sum(days_late * amount) FILTER (WHERE $as_of - settlement_date BETWEEN 0 AND $n - 1)
               AS late_weighted,
           sum(open_cents) FILTER (WHERE is_open AND dpd <= 0) AS age0,
           sum(open_cents) FILTER (WHERE is_open AND dpd BETWEEN 1 AND $b1) AS age1,
           sum(open_cents) FILTER (WHERE is_open AND dpd BETWEEN $b1 + 1 AND $b2) AS age2,
           sum(open_cents) FILTER (WHERE is_open AND dpd BETWEEN $b2 + 1 AND $b3) AS age3,
           sum(open_cents) FILTER (WHERE is_open AND dpd BETWEEN $b3 + 1 AND $b4) AS age4,
           sum(open_cents) FILTER (WHERE is_open AND dpd > $b4) AS age5
    FROM bal
),
months AS (
    SELECT CAST(unnest(generate_series(
        CAST(date_trunc('month', coalesce((SELECT min(issue_date) FROM bal), $as_of)) AS DATE),
        CAST(date_trunc('month', $as_of) AS DATE), INTERVAL 1 MONTH)) AS DATE) AS month
),
monthly AS (
    SELECT month, coalesce(s.sales, 0) AS sales,
           CASE WHEN month = date_trunc('month', $as_of) THEN day($as_of)
                ELSE day(last_day(month)) END AS days
    FROM months LEFT JOIN (
        SELECT CAST(date_trunc('month', issue_date) AS DATE) AS month,
               sum(CAST(round(amount * 100) AS BIGINT)) AS sales
        FROM bal GROUP BY 1
    ) s USING (month)
),
countback AS (  -- open AR consumed against each month's sales, newest month first
    SELECT sum(CASE WHEN after - sales >= ar THEN 0.0
                    WHEN after <= ar THEN days
                    ELSE (ar - (after - sales)) / sales * days END) AS dso_countback
    FROM (SELECT *, sum(sales) OVER (ORDER BY month DESC) AS after,
                 (SELECT total_cents FROM totals) AS ar
          FROM monthly)
)
SELECT * FROM totals, countback
"""

OPENING = """
WITH {balances}
SELECT sum(open_cents) FILTER (WHERE is_open) AS total_cents FROM bal
"""

FEATURES = """
WITH {balances},
behaviour AS (
    SELECT customer_id,
           count(*) AS invoices_issued,
           count(settlement_date) AS invoices_settled,
           count(*) FILTER (WHERE days_late > $late) / nullif(count(settlement_date), 0)
               AS share_settled_late,
           count(*) FILTER (WHERE days_late > $severe) / nullif(count(settlement_date), 0)
               AS share_settled_severely_late,
           avg(days_late) AS mean_days_late,
           CASE WHEN sum(amount) FILTER (WHERE settlement_date IS NOT NULL) > 0
                THEN sum(days_late * amount)
                     / sum(amount) FILTER (WHERE settlement_date IS NOT NULL)
           END AS weighted_mean_days_late,
           stddev_samp(days_late) AS std_days_late,
           avg(days_to_pay) AS mean_days_to_pay,
           sum(open_cents) FILTER (WHERE is_open) AS open_cents,
           sum(excess_cents) AS credit_cents,
           sum(open_cents) FILTER (WHERE is_open AND dpd > 0) AS overdue_cents,
           count(*) FILTER (WHERE is_open) AS open_invoices,
           max(dpd) FILTER (WHERE is_open) AS oldest_dpd,
           min(issue_date) AS first_issue_date
    FROM bal GROUP BY customer_id
),
disputes AS (
    SELECT customer_id, count(DISTINCT invoice_id) AS disputed_invoices,
           count(*) FILTER (WHERE resolved_date IS NULL OR resolved_date > $as_of) AS open_disputes
    FROM read_parquet($disputes) JOIN inv USING (invoice_id)
    WHERE opened_date <= $as_of GROUP BY customer_id
),
payments AS (
    SELECT customer_id, $as_of - max(payment_date) AS days_since_last_payment,
           cents_of(sum(micros(amount)) FILTER (WHERE invoice_id IS NULL)) AS unapplied_cents
    FROM read_parquet($payments) WHERE payment_date <= $as_of GROUP BY customer_id
),
contacts AS (
    SELECT customer_id,
           count(*) FILTER (WHERE $as_of - contact_date BETWEEN 0 AND $window - 1)
               AS contacts_last_90_days
    FROM read_parquet($contacts) WHERE contact_date <= $as_of GROUP BY customer_id
)
SELECT c.customer_id,
       coalesce(invoices_issued, 0) AS invoices_issued,
       coalesce(invoices_settled, 0) AS invoices_settled,
       share_settled_late, share_settled_severely_late, mean_days_late, weighted_mean_days_late,
       std_days_late, mean_days_to_pay, days_since_last_payment,
       coalesce(unapplied_cents, 0) / 100 AS unapplied_cash,
       coalesce(credit_cents, 0) / 100 AS customer_credit,
       coalesce(open_cents, 0) / 100 AS open_balance,
       coalesce(overdue_cents, 0) / 100 AS overdue_balance,
       coalesce(open_invoices, 0) AS open_invoices,
       CASE WHEN credit_limit > 0 THEN coalesce(open_cents, 0) / 100 / credit_limit END
           AS credit_limit_use,
       oldest_dpd,
       $as_of - coalesce(created_date, first_issue_date) AS tenure_days,
       coalesce(contacts_last_90_days, 0) AS contacts_last_90_days,
       coalesce(open_disputes, 0) AS open_disputes,
       CAST(coalesce(disputed_invoices, 0) AS DOUBLE) / nullif(invoices_issued, 0) AS dispute_rate
FROM read_parquet($customers) c
LEFT JOIN behaviour b USING (customer_id)
LEFT JOIN disputes USING (customer_id)
LEFT JOIN payments USING (customer_id)
LEFT JOIN contacts USING (customer_id)
WHERE c.created_date IS NULL OR c.created_date <= $as_of OR b.invoices_issued IS NOT NULL
ORDER BY c.customer_id
"""

# The scalar KPIs at every date of a weekly grid in ONE query. Each invoice's history is a few
# states (issued, then after each date with movements), each valid from its date to the next
# one; a range join puts every state open (or carrying an excess) at a date beside that date.
SERIES = """
WITH dates AS (
    SELECT CAST(unnest(generate_series($start, $end, INTERVAL 7 DAY)) AS DATE) AS as_of
),
points AS (SELECT as_of AS point FROM dates UNION SELECT as_of - $n FROM dates),
inv AS (
    SELECT invoice_id, customer_id, issue_date, due_date, amount, micros(amount) AS amount_micros
    FROM read_parquet($invoices) WHERE issue_date <= $end
),
moves AS (
    SELECT invoice_id, payment_date AS date, micros(amount) AS micros
    FROM read_parquet($payments) WHERE payment_date <= $end AND invoice_id IS NOT NULL
    UNION ALL
    SELECT invoice_id, date, micros(amount) FROM read_parquet($credit_notes) WHERE date <= $end
),
changes AS (  -- the net balance of an invoice after each date with movements
    SELECT invoice_id, date AS valid_from,
           any_value(amount_micros) - sum(sum(micros)) OVER (PARTITION BY invoice_id ORDER BY date)
               AS net
    FROM moves JOIN inv USING (invoice_id) GROUP BY invoice_id, date
),
states AS (
    SELECT invoice_id, valid_from, net,
           coalesce(lead(valid_from) OVER (PARTITION BY invoice_id ORDER BY valid_from),
                    DATE '9999-12-31') AS valid_to
    FROM (SELECT invoice_id, valid_from, net FROM changes
          UNION ALL SELECT invoice_id, issue_date, amount_micros FROM inv)
),
graded AS (
    SELECT s.*, cents_of(greatest(net, 0)) AS open_cents,
           cents_of(greatest(-net, 0)) AS excess_cents,
           i.customer_id, i.due_date
    FROM states s JOIN inv i USING (invoice_id)
),
held AS (
    SELECT * FROM graded WHERE open_cents > $tol OR excess_cents > 0
),
at_point AS (
    SELECT p.point,
           sum(open_cents) FILTER (WHERE open_cents > $tol) AS total_cents,
           sum(open_cents) FILTER (WHERE open_cents > $tol AND p.point > due_date) AS overdue_cents,
           sum(open_cents) FILTER (WHERE open_cents > $tol AND p.point <= due_date)
               AS current_cents,
           count(*) FILTER (WHERE open_cents > $tol) AS open_invoices,
           count(DISTINCT customer_id) FILTER (WHERE open_cents > $tol) AS customers_with_balance
    FROM points p JOIN held h ON h.valid_from <= p.point AND p.point < h.valid_to
    GROUP BY p.point
),
settlement AS (  -- first date the balance fell to the tolerance (as of $end); issue date if tiny
    SELECT i.invoice_id, i.amount, i.issue_date, i.due_date,
           CASE WHEN cents_of(greatest(i.amount_micros, 0)) <= $tol THEN i.issue_date
                ELSE min(valid_from) FILTER (WHERE open_cents <= $tol) END AS settled_on
    FROM inv i LEFT JOIN graded g USING (invoice_id)
    GROUP BY i.invoice_id, i.amount, i.issue_date, i.due_date, i.amount_micros
),
settled AS (
    SELECT d.as_of, sum(amount) AS amount,
           sum((settled_on - issue_date) * amount) AS dtp_weighted,
           sum((settled_on - due_date) * amount) AS late_weighted
    FROM dates d JOIN settlement s
      ON s.settled_on <= d.as_of AND s.settled_on > d.as_of - $n
    GROUP BY d.as_of
),
daily_sales AS (
    SELECT issue_date, sum(amount_micros) AS micros,
           sum(CAST(round(amount * 100) AS BIGINT)) AS cents
    FROM inv GROUP BY issue_date
),
sales AS (
    SELECT d.as_of, cents_of(sum(micros)) AS sales_cents
    FROM dates d JOIN daily_sales s ON s.issue_date <= d.as_of AND s.issue_date > d.as_of - $n
    GROUP BY d.as_of
),
month_sales AS (  -- sales of each month up to each date (the as-of month up to the date)
    SELECT d.as_of, CAST(date_trunc('month', issue_date) AS DATE) AS month, sum(cents) AS sales
    FROM dates d JOIN daily_sales s ON s.issue_date <= d.as_of GROUP BY ALL
),
months AS (
    SELECT as_of, CAST(unnest(generate_series(min(month), CAST(date_trunc('month', as_of) AS DATE),
                                               INTERVAL 1 MONTH)) AS DATE) AS month
    FROM month_sales GROUP BY as_of
),
consumed AS (
    SELECT m.as_of, m.month, coalesce(ms.sales, 0) AS sales, coalesce(a.total_cents, 0) AS ar,
           CASE WHEN m.month = date_trunc('month', m.as_of) THEN day(m.as_of)
                ELSE day(last_day(m.month)) END AS days,
           sum(coalesce(ms.sales, 0)) OVER (PARTITION BY m.as_of ORDER BY m.month DESC) AS after
    FROM months m LEFT JOIN month_sales ms USING (as_of, month)
    LEFT JOIN at_point a ON a.point = m.as_of
),
countback AS (
    SELECT as_of,
           sum(CASE WHEN after - sales >= ar THEN 0.0 WHEN after <= ar THEN days
                    ELSE (ar - (after - sales)) / sales * days END) AS dso_countback
    FROM consumed GROUP BY as_of
),
scalars AS (
    SELECT d.as_of,
           coalesce(a.total_cents, 0) / 100 AS total_ar,
           coalesce(a.overdue_cents, 0) / 100 AS overdue_ar,
           coalesce(a.current_cents, 0) / 100 AS current_ar,
           coalesce(s.sales_cents, 0) / 100 AS credit_sales,
           coalesce(o.total_cents, 0) / 100 AS opening_ar,
           coalesce(a.open_invoices, 0) AS open_invoices,
           coalesce(a.customers_with_balance, 0) AS customers_with_balance,
           c.dso_countback,
           CASE WHEN st.amount > 0 THEN st.dtp_weighted / st.amount END AS weighted_days_to_pay,
           CASE WHEN st.amount > 0 THEN st.late_weighted / st.amount END AS weighted_days_late
    FROM dates d
    LEFT JOIN at_point a ON a.point = d.as_of
    LEFT JOIN at_point o ON o.point = d.as_of - $n
    LEFT JOIN sales s ON s.as_of = d.as_of
    LEFT JOIN settled st ON st.as_of = d.as_of
    LEFT JOIN countback c ON c.as_of = d.as_of
)
SELECT as_of, total_ar, overdue_ar, current_ar, credit_sales, opening_ar,
       CASE WHEN credit_sales > 0 THEN total_ar * $n / credit_sales END AS dso_standard,
       dso_countback,
       CASE WHEN credit_sales > 0 THEN current_ar * $n / credit_sales END AS best_possible_dso,
       CASE WHEN credit_sales > 0 THEN (total_ar - current_ar) * $n / credit_sales END AS add,
       CASE WHEN opening_ar + credit_sales - current_ar <> 0
            THEN (opening_ar + credit_sales - total_ar) / (opening_ar + credit_sales - current_ar)
                 * 100 END AS cei,
       weighted_days_to_pay, weighted_days_late, open_invoices, customers_with_balance
FROM scalars ORDER BY as_of
"""


def _connect(folder: Path) -> tuple[duckdb.DuckDBPyConnection, dict]:
    """A connection with the macros, and the parameters naming the folder's Parquet files."""
    con = duckdb.connect()
    con.execute(MACROS)
    params = {name: str(Path(folder) / f"{name}.parquet") for name in TABLES}
    currencies = con.execute(
        "SELECT DISTINCT currency FROM read_parquet($invoices) ORDER BY 1",
        {"invoices": params["invoices"]},
    ).fetchall()
    if len(currencies) > 1:
        raise ValueError(
            f"the DuckDB peer handles one currency; {folder} has invoices in "
            f"{', '.join(str(c[0]) for c in currencies)}"
        )
    return con, params


def _rounded(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _used(sql: str, params: dict) -> dict:
    """The parameters ``sql`` names (DuckDB refuses unused ones)."""
    return {k: v for k, v in params.items() if f"${k}" in sql}


def kpis(folder: Path, as_of: date) -> dict:
    """The scalar KPIs and ageing of ``workbench.kpis.portfolio_kpis`` (without as_of, currency,
    period_days), rounded to 2 decimals."""
    con, params = _connect(folder)
    params |= {"as_of": as_of, "tol": OPEN_TOLERANCE_CENTS, "n": PERIOD_DAYS}
    params |= {f"b{i + 1}": b for i, b in enumerate(BOUNDS)}
    sql = KPIS.format(balances=BALANCES)
    row = con.execute(sql, _used(sql, params)).fetchone()
    cols = [d[0] for d in con.description]
    v = dict(zip(cols, row, strict=True))
    money = {k: (v[f"{k}_cents"] or 0) / 100 for k in ("total", "overdue", "current", "sales")}
    sales, n = money["sales"], PERIOD_DAYS
    sql_opening = OPENING.format(balances=BALANCES)
    opening = con.execute(
        sql_opening, _used(sql_opening, params | {"as_of": as_of - timedelta(days=n)})
    ).fetchone()
    opening_ar = (opening[0] or 0) / 100
    dso = money["total"] * (n / sales) if sales > 0 else None
    best = money["current"] * (n / sales) if sales > 0 else None
    denominator = opening_ar + sales - money["current"]
    settled = v["settled_amount"]
    out = {
        "total_ar": money["total"], "overdue_ar": money["overdue"],
        "current_ar": money["current"], "credit_sales": sales, "opening_ar": opening_ar,
        "customer_credit": (v["credit_cents"] or 0) / 100,
        "dso_standard": dso, "dso_countback": v["dso_countback"], "best_possible_dso": best,
        "add": None if dso is None else dso - best,
        "cei": (opening_ar + sales - money["total"]) / denominator * 100 if denominator else None,
        "weighted_days_to_pay": v["dtp_weighted"] / settled if settled else None,
        "weighted_days_late": v["late_weighted"] / settled if settled else None,
    }  # fmt: skip
    out = {k: _rounded(x) for k, x in out.items()}
    out["ageing"] = {name: _rounded((v[f"age{i}"] or 0) / 100) for i, name in enumerate(BUCKETS)}
    out["open_invoices"] = int(v["open_invoices"])
    out["customers_with_balance"] = int(v["customers_with_balance"])
    return out


def features(folder: Path, as_of: date):
    """Per-customer features (the subset named in the module docstring) as a pandas frame."""
    con, params = _connect(folder)
    params |= {"as_of": as_of, "tol": OPEN_TOLERANCE_CENTS, "late": LATE_AFTER_DAYS,
               "severe": SEVERE_LATE_DAYS, "window": CONTACT_WINDOW_DAYS}  # fmt: skip
    sql = FEATURES.format(balances=BALANCES)
    return con.execute(sql, _used(sql, params)).df()


def series(folder: Path, end: date, weeks: int = 52):
    """The scalar KPIs at end - (weeks - 1) weeks, ..., end (every 7 days), one query; a pandas
    frame with the columns of ``workbench.kpis.kpi_series`` but currency and period_days."""
    con, params = _connect(folder)
    params |= {"start": end - timedelta(weeks=weeks - 1), "end": end,
               "tol": OPEN_TOLERANCE_CENTS, "n": PERIOD_DAYS}  # fmt: skip
    frame = con.execute(SERIES, _used(SERIES, params)).df()
    frame["as_of"] = frame["as_of"].dt.date
    return frame


def kpis_features(folder: Path, as_of: date):
    """:func:`kpis` and :func:`features` (two queries over the Parquet files)."""
    return kpis(folder, as_of), features(folder, as_of)


def main(argv: list[str]) -> int:
    """``kpis|features|series FOLDER YYYY-MM-DD``: compute and print a short summary."""
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
