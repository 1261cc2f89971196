"""Plot builders and the offline renderer used for the managers' report."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import plotly.io as pio
import polars as pl
import pytest

from workbench import plots
from workbench.kpis import kpi_series, portfolio_kpis


def test_offline_renderer_embeds_plotlyjs_once_and_no_cdn(hand_portfolio, as_of) -> None:
    previous = pio.renderers.default
    try:
        plots.use_offline_renderer(interactive=False)
        figure = plots.ageing_bars(portfolio_kpis(hand_portfolio, as_of)["ageing"], "EUR")
        bundles = [pio.renderers._build_mime_bundle(figure.to_dict()) for _ in range(3)]
    finally:
        pio.renderers.default = previous
    html = [b["text/html"] for b in bundles]
    assert "plotly.js v" in html[0]
    assert all("plotly.js v" not in h for h in html[1:]), "plotly.js must be embedded only once"
    for h in html:
        # No script is loaded from elsewhere (plotly's own MathJax tag would be a CDN request).
        assert "<script src=" not in h.replace(" ", "") and "<scriptsrc=" not in h.replace(" ", "")
        assert "tex-svg" not in h


def test_kpi_tiles_show_week_over_week_deltas(hand_portfolio, as_of) -> None:
    current = portfolio_kpis(hand_portfolio, as_of)
    previous = portfolio_kpis(hand_portfolio, as_of - timedelta(days=7))
    figure = plots.kpi_tiles(current, previous)
    assert len(figure.data) == len(plots.TILES)
    by_title = {t.title.text: t for t in figure.data}
    assert by_title["Open AR"].value == current["total_ar"]
    changes = {a.name: a for a in figure.layout.annotations}
    both = [k for k in plots.TILES if current.get(k) is not None and previous.get(k) is not None]
    assert set(changes) == set(both)
    change = round(current["total_ar"] - previous["total_ar"], 2)
    expected = f"{abs(change):,.2f} EUR"
    assert changes["total_ar"].text.endswith(expected)
    assert plots.kpi_tiles(current).data[0].mode == "number"
    assert not plots.kpi_tiles(current).layout.annotations


@pytest.mark.parametrize(
    ("kind", "now", "before", "rise_is_good", "text", "color"),
    [
        ("percent", 80.0, 80.5, True, "▼ 0.5 pts", "#b8405e"),  # CEI fell: points, one sign
        ("percent", 81.26, 80.0, True, "▲ 1.3 pts", "#3a9e6f"),
        ("days", 40.0, 42.5, False, "▼ 2.5 days", "#3a9e6f"),  # DSO fell: good
        ("days", 40.0, 40.04, False, "= 0.0 days", "#8a8a8a"),  # rounds to 0: neutral
        ("days", 40.0, 40.0, False, "= 0.0 days", "#8a8a8a"),
        ("percent", 80.0, 80.0, True, "= 0.0 pts", "#8a8a8a"),
        ("money", 1_500.0, 265.5, False, "▲ 1,234.50 EUR", "#b8405e"),  # open AR rose: bad
        ("money", 100.0, 100.004, False, "= 0.00 EUR", "#8a8a8a"),
    ],
)
def test_a_tiles_change_has_one_sign_its_unit_and_a_neutral_zero(
    kind, now, before, rise_is_good, text, color
) -> None:
    assert plots.tile_delta(kind, now, before, rise_is_good, "EUR") == (text, color)
    assert plots.tile_delta(kind, now, None, rise_is_good, "EUR") is None
    assert "−" not in text and "-" not in text


def test_selection_words_say_the_features_left_out_in_words() -> None:
    report = {
        "selection": {
            "chosen": {"max_depth": 3, "min_samples_leaf": 20, "max_iter": 100},
            "grid": {"learning_rate": 0.1}, "calibration_method": "isotonic",
            "blocks": [1, 2, 3], "search_rows": 1200, "scores": [1, 2],
        },
        "dropped_features": {
            "empty": ["customer_plan_instalments_missed"],
            "constant": ["customer_unapplied_cash", "customer_customer_credit"],
            "duplicate": {"customer_open_invoices": "invoice_contacts"},
        },
    }  # fmt: skip
    words = plots.selection_words(report)
    assert "customer's plan instalments missed (missing on every row)" in words
    assert "customer's unapplied cash, customer's credit (beyond its invoices) (one value" in words
    assert "customer's open invoices (a copy of contacts about the invoice)" in words
    assert not SNAKE.search(words.split("Features left out")[1]), words


def test_ageing_bars_keep_bucket_order(hand_portfolio, as_of) -> None:
    ageing = portfolio_kpis(hand_portfolio, as_of)["ageing"]
    figure = plots.ageing_bars(ageing)
    assert list(figure.data[0].x) == list(ageing)
    assert sum(figure.data[0].y) == pytest.approx(8599.75)


def test_dso_trend_has_one_line_per_measure(hand_portfolio, as_of) -> None:
    series = kpi_series(hand_portfolio, as_of - timedelta(days=28), as_of, 7)
    figure = plots.dso_trend(series)
    assert [t.name for t in figure.data] == [
        "DSO (standard)",
        "DSO (countback)",
        "Best possible DSO",
        "Avg days delinquent",
    ]
    assert len(figure.data[0].x) == 5
    assert list(figure.data[0].y) == series.get_column("dso_standard").to_list()


def test_text_from_the_data_is_escaped_before_plotting() -> None:
    import polars as pl

    hostile = '<a href="javascript:alert(1)">x</a> & <b>bold</b>'
    frame = pl.DataFrame({"name": [hostile], "amount": [1.0]})
    cells = plots.table(frame, "t").data[0].cells.values
    assert list(cells[0]) == [
        '&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt; &amp; &lt;b&gt;bold&lt;/b&gt;'
    ]
    bars = plots.stacked_bars(frame, "name", ["amount"], "t")
    assert "<" not in bars.data[0].x[0] and "&lt;a" in bars.data[0].x[0]
    assert plots.escaped_text("<i>") == "&lt;i&gt;"


def hand_intervals() -> dict:
    """A bootstrap result (workbench.bootstrap.cluster_bootstrap's shape) written by hand: against
    days past due the model is better on ROC AUC, ties on average precision and is worse on
    Brier (a positive difference: higher error); against the late share it is worse on ROC AUC,
    better on average precision and Brier."""

    def interval(estimate, low, high, share=None):
        return {"estimate": estimate, "low": low, "high": high} | (
            {} if share is None else {"better_share": share}
        )

    return {
        "resamples": 1000, "level": 0.95, "clusters": 400, "rows": 20000, "reference": "model",
        "metrics": {
            "model": {"roc_auc": interval(0.78, 0.75, 0.81),
                      "average_precision": interval(0.6, 0.55, 0.66),
                      "brier": interval(0.15, 0.14, 0.17)},
            "baseline_dpd": {"roc_auc": interval(0.698, 0.66, 0.73),
                             "average_precision": interval(0.59, 0.5, 0.65),
                             "brier": interval(0.146, 0.13, 0.16)},
            "baseline_customer_late_rate": {"roc_auc": interval(0.81, 0.79, 0.84),
                                            "average_precision": None,
                                            "brier": interval(0.16, 0.15, 0.18)},
        },
        "differences": {
            "baseline_dpd": {
                "roc_auc": interval(0.082, 0.051, 0.113, 1.0),
                "average_precision": interval(0.01, -0.0204, 0.0396, 0.7),
                "brier": interval(0.004, 0.001, 0.007, 0.0),
            },
            "baseline_customer_late_rate": {
                "roc_auc": interval(-0.03, -0.05, -0.01, 0.0),
                "average_precision": interval(0.2, 0.1, 0.3, 1.0),
                "brier": interval(-0.01, -0.02, -0.0004, 1.0),
            },
        },
    }  # fmt: skip


def test_model_vs_baselines_error_bars_from_the_intervals() -> None:
    intervals = hand_intervals()
    metrics = {
        who: {m: v["estimate"] for m, v in values.items() if v} | {"top_decile_amount_capture": 0.3}
        for who, values in intervals["metrics"].items()
    }
    figure = plots.model_vs_baselines(metrics, intervals)
    model, dpd, late = figure.data
    # ROC AUC 0.78 in (0.75, 0.81): +0.03 / -0.03; Brier 0.15 in (0.14, 0.17): +0.02 / -0.01.
    assert list(model.error_y.array)[:3] == pytest.approx([0.03, 0.06, 0.02])
    assert list(model.error_y.arrayminus)[:3] == pytest.approx([0.03, 0.05, 0.01])
    assert model.error_y.array[3] is None and model.error_y.arrayminus[3] is None  # no interval
    assert model.error_y.symmetric is False
    assert list(dpd.error_y.array)[:3] == pytest.approx([0.032, 0.06, 0.014])
    assert list(dpd.error_y.arrayminus)[:3] == pytest.approx([0.038, 0.09, 0.016])
    assert late.error_y.array[1] is None and late.y[1] is None  # no average precision at all
    assert "95 % intervals" in figure.layout.title.text
    # Old metadata without intervals: the same bars, no error bars.
    plain = plots.model_vs_baselines(metrics)
    assert all(trace.error_y.array is None for trace in plain.data)
    assert [list(t.y) for t in plain.data] == [list(t.y) for t in figure.data]
    assert "interval" not in plain.layout.title.text


def test_interval_table_shows_each_difference_with_its_interval_and_verdict() -> None:
    intervals = hand_intervals()
    table = plots.interval_table(intervals).data[0]
    headers = list(table.header.values)
    assert headers[:4] == [
        "Comparison",
        "ROC AUC",
        "Average precision",
        "Brier score (lower is better)",
    ]
    assert headers[4] == "Verdict"
    columns = [list(c) for c in table.cells.values]
    assert columns[0] == ["model - days past due alone", "model - customer's late share alone"]

    def shown(d: dict) -> str:  # written independently of plots: sign, 3 decimals
        def one(x: float) -> str:
            return ("-" if x < 0 else "+") + f"{abs(x):.3f}"

        return f"{one(d['estimate'])} ({one(d['low'])} to {one(d['high'])})"

    for row, other in enumerate(intervals["differences"]):
        for column, metric in enumerate(("roc_auc", "average_precision", "brier"), start=1):
            assert columns[column][row] == shown(intervals["differences"][other][metric])
    assert columns[1][0] == "+0.082 (+0.051 to +0.113)"
    assert columns[2][0] == "+0.010 (-0.020 to +0.040)"
    assert columns[3][1] == "-0.010 (-0.020 to -0.000)"  # wholly below 0, as the verdict says
    assert columns[4] == [
        "better on ROC AUC, tie on average precision, worse on Brier score",
        "better on average precision and Brier score, worse on ROC AUC",
    ]
    for text in (*headers, plots.interval_table(intervals).layout.title.text, *columns[0]):
        assert "_" not in text
    assert "95 % interval" in plots.interval_table(intervals).layout.title.text
    assert "1,000 resamples of customers" in plots.interval_words(intervals)


def test_interval_verdicts() -> None:
    verdict = plots.interval_verdict
    assert (
        verdict("roc_auc", 0.01, 0.05) == "better" and verdict("roc_auc", -0.05, -0.01) == "worse"
    )
    assert verdict("roc_auc", -0.01, 0.05) == "tie" and verdict("roc_auc", 0.0, 0.05) == "tie"
    assert verdict("brier", -0.02, -0.001) == "better" and verdict("brier", 0.001, 0.02) == "worse"
    assert (
        verdict("brier", -0.02, 0.0) == "tie" and verdict("average_precision", None, None) == "n/a"
    )
    intervals = hand_intervals()
    same = {m: {"estimate": 0.0, "low": 0.0, "high": 0.0, "better_share": 0.0}
            for m in ("roc_auc", "average_precision", "brier")}  # fmt: skip
    missing = {m: {"estimate": None, "low": None, "high": None, "better_share": None}
               for m in ("roc_auc", "average_precision", "brier")}  # fmt: skip
    intervals["differences"] |= {"itself": same, "empty": missing, "a<b>": same}
    for i in range(4):
        intervals["differences"][f"extra_{i}"] = same
    table = plots.interval_table(intervals)
    columns = [list(c) for c in table.data[0].cells.values]
    assert len(columns[0]) == 9  # every comparison is a row
    assert columns[4][2:4] == ["tie on all 3", "no interval"]
    assert columns[1][2:4] == ["+0.000 (+0.000 to +0.000)", "n/a"]
    assert columns[0][2:5] == ["model - itself", "model - empty", "model - a&lt;b&gt;"]
    assert table.layout.height >= plots.interval_table(hand_intervals()).layout.height + 7 * 60


# --- issue 13: tables that show every row, rounded numbers with units, words, calm-to-alarming
# ageing colours, an interactive renderer that fetches nothing ---------------------------------

REMOTE_SCRIPT = re.compile(
    r"""<script[^>]*\bsrc\s*=\s*["']?(?:https?:)?//"""  # <script src="https://...">
    r"""|\bimport\s*\(?\s*["'](?:https?:)?//"""  # import "https://..." (ES modules)
    r"""|cdn\.plot\.ly/plotly-|cdnjs\.cloudflare\.com""",  # plotly.js, MathJax from a CDN
    re.IGNORECASE,
)
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def test_interactive_renderer_fetches_nothing_and_plotly_connected_would(hand_portfolio, as_of):
    figure = plots.ageing_bars(portfolio_kpis(hand_portfolio, as_of)["ageing"], "EUR").to_dict()
    previous = pio.renderers.default
    try:
        plots.use_offline_renderer(interactive=True)
        ours = [pio.renderers._build_mime_bundle(figure) for _ in range(2)]
        connected = pio.renderers._build_mime_bundle(
            figure, renderers_string="plotly_mimetype+notebook_connected"
        )
    finally:
        pio.renderers.default = previous
    for bundle in ours:
        # JupyterLab draws the plotly mimetype with its local extension; HTML is the fallback.
        assert "application/vnd.plotly.v1+json" in bundle and "text/html" in bundle
        assert not REMOTE_SCRIPT.search(bundle["text/html"])
        assert "https://" not in json.dumps(bundle["application/vnd.plotly.v1+json"])
    assert "plotly.js v" in ours[0]["text/html"] and "plotly.js v" not in ours[1]["text/html"]
    assert REMOTE_SCRIPT.search(connected["text/html"])  # the renderer used before: a CDN


def long_text(i: int) -> str:
    return f"reason {i}: " + " ".join(["overdue invoice with a broken promise"] * 10)


def test_a_table_of_25_rows_is_tall_enough_for_all_of_them() -> None:
    frame = pl.DataFrame({"rank": list(range(1, 26)), "reason": [long_text(i) for i in range(25)]})
    figure = plots.table(frame, "Top 25 actions")
    assert len(figure.data) == 1 and not figure.layout.updatemenus
    assert [len(c) for c in figure.data[0].cells.values] == [25, 25]
    # An independent lower bound: 12 px text is at least 5 px a character and 14 px a line, and
    # the reason column is at most the figure's width, so each ~390-character reason takes at
    # least ceil(390 * 5 / width) lines.
    width = figure.layout.width
    lines = -(-len(long_text(10)) * 5 // width)
    assert lines >= 2
    drawn = figure.layout.height - figure.layout.margin.t - figure.layout.margin.b
    assert drawn >= 28 + 25 * lines * 14
    # The old figure (80 + 40 px a row) hid most rows; short rows keep a short table.
    short = plots.table(frame.with_columns(pl.lit("ok").alias("reason")), "Top 25 actions")
    assert 28 + 25 * 20 <= short.layout.height - 50 < drawn


def test_112_rows_are_split_into_pages_the_reader_flips() -> None:
    frame = pl.DataFrame({"customer_id": [f"C{i:03d}" for i in range(112)], "amount": [1.0] * 112})
    figure = plots.table(frame, "Watch list", source="watch.csv")
    assert [len(t.cells.values[0]) for t in figure.data] == [30, 30, 30, 22]
    assert [t.visible for t in figure.data] == [True, False, False, False]
    shown = [row for t in figure.data for row in t.cells.values[0]]
    assert shown == frame.get_column("customer_id").to_list()  # every row, in order, once
    buttons = figure.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["rows 1-30", "rows 31-60", "rows 61-90", "rows 91-112"]
    titles = [b.args[1]["title.text"] for b in buttons]
    assert titles == [
        f"Watch list: rows {a}-{b} of 112; every row in watch.csv"
        for a, b in ((1, 30), (31, 60), (61, 90), (91, 112))
    ]
    assert figure.layout.title.text == titles[0]
    assert [b.args[0]["visible"] for b in buttons] == [[i == j for j in range(4)] for i in range(4)]
    many = plots.table(pl.DataFrame({"n": list(range(1000))}), "All")
    assert len(many.data) == plots.MAX_PAGES
    assert (
        many.layout.updatemenus[0]
        .buttons[-1]
        .args[1]["title.text"]
        .endswith(f"({1000 - 30 * plots.MAX_PAGES} more rows not shown)")
    )


def test_numbers_in_tables_are_rounded_with_their_units() -> None:
    frame = pl.DataFrame(
        {
            "customer_name": ["A & B", "C"],
            "open_balance": [1234567.891, -35.794871794871796],
            "mean_days_late": [35.794871794871796, None],
            "oldest_dpd": [12, 1234],
            "share_settled_late": [0.35794871794871796, 1.0],
            "customers": [1234, 5],
            "channel": ["registered_letter", "email"],
            "next_date": [date(2026, 11, 20), None],
        }
    )
    cells = json.loads(plots.table(frame, "t", currency="EUR").to_json())["data"][0]["cells"]
    columns = cells["values"]
    money = [f"{v:,.2f} EUR" for v in frame["open_balance"]]
    assert columns[1] == money == ["1,234,567.89 EUR", "-35.79 EUR"]
    assert columns[2] == [f"{35.794871794871796:.1f} days", ""]
    assert columns[3] == ["12 days", "1,234 days"]
    assert columns[4] == ["35.8 %", "100.0 %"]
    assert columns[5] == ["1,234", "5"]
    assert columns[6] == ["registered letter", "email"]
    assert columns[7] == ["2026-11-20", ""]
    assert columns[0] == ["A &amp; B", "C"]
    assert "35.7948" not in json.dumps(cells)
    # The frame a notebook displays: the same text, headers in words, nothing escaped.
    shown = plots.display_frame(frame, "EUR")
    assert shown.columns[:4] == [
        "Customer",
        "Open balance",
        "Mean days late",
        "Oldest days past due",
    ]
    assert shown.get_column("Customer").to_list() == ["A & B", "C"]
    assert shown.get_column("Open balance").to_list() == money


def numeric(values) -> bool:
    return (
        values is not None
        and len(values) > 0
        and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values if v is not None
        )
    )


def unformatted_numbers(figure) -> list[str]:
    """Hover placeholders of numeric values without a format (plotly would show 17 digits)."""
    problems = []
    for trace in figure.to_dict()["data"]:
        if trace["type"] in ("table", "indicator") or trace.get("hoverinfo") == "skip":
            continue
        template = trace.get("hovertemplate")
        if template is None:
            problems.append(f"{trace['type']} {trace.get('name')}: no hovertemplate")
            continue
        for axis in ("x", "y", "z"):
            values = trace.get(axis)
            values = [v for row in values for v in row] if axis == "z" and values else values
            if numeric(values) and re.search(r"%\{" + axis + r"\}", template):
                problems.append(f"{trace.get('name')}: %{{{axis}}} unformatted")
    return problems


def every_builder(hand_portfolio, as_of, generated_portfolio) -> dict[str, object]:
    """One figure of every plot builder, on small inputs."""
    from workbench.breakdowns import behaviour_segments, open_ar_by, top_exposures
    from workbench.drilldown import customer_events, customer_invoices
    from workbench.worklist import build_worklist

    portfolio, end = generated_portfolio
    current = portfolio_kpis(hand_portfolio, as_of)
    series = kpi_series(hand_portfolio, as_of - timedelta(days=28), as_of, 7)
    segments = behaviour_segments(portfolio, end)
    worklist = build_worklist(portfolio, end)
    intervals = hand_intervals()
    metrics = {who: {m: v["estimate"] for m, v in values.items() if v}
               for who, values in intervals["metrics"].items()}  # fmt: skip
    scores = pl.DataFrame({"probability": [0.1, 0.5, 0.9]})
    return {
        "kpi_tiles": plots.kpi_tiles(current, portfolio_kpis(hand_portfolio, as_of - timedelta(7))),
        "ageing_bars": plots.ageing_bars(current["ageing"], "EUR"),
        "dso_trend": plots.dso_trend(series),
        "cei_trend": plots.cei_trend(series),
        "stacked_bars": plots.stacked_bars(
            open_ar_by(portfolio, end, "segment", segments=segments),
            "segment",
            ["current_ar", "overdue_ar"],
            "Open AR by payment behaviour",
            currency="EUR",
        ),  # fmt: skip
        "table": plots.table(top_exposures(portfolio, end, 15), "Top 15", currency="EUR"),
        "customer_timeline": plots.customer_timeline(
            customer_invoices(hand_portfolio, "C3", as_of),
            customer_events(hand_portfolio, "C3", as_of),
            as_of,
            "C3",
            currency="EUR",
        ),  # fmt: skip
        "priority_heatmap": plots.priority_heatmap(worklist.matrix, currency="EUR"),
        "actions_by": plots.actions_by(
            worklist.rows, "collector", "channel", "Actions by collector"
        ),
        "model_vs_baselines": plots.model_vs_baselines(metrics, intervals),
        "interval_table": plots.interval_table(intervals),
        "calibration_curve": plots.calibration_curve(
            {
                "bins": [{"mean_predicted": 0.2, "observed_rate": 0.25, "n": 40}],
                "expected_calibration_error": 0.031,
            }
        ),  # fmt: skip
        "importance_bars": plots.importance_bars(
            [
                {"feature": "days_past_due", "importance": 0.05, "std": 0.01},
                {"feature": "customer_late_rate", "importance": 0.02, "std": 0.005},
            ]
        ),  # fmt: skip
        "score_distribution": plots.score_distribution({"this week": scores}),
        "rolling_origin": plots.rolling_origin(
            [{"cutoff": "2026-05-01", "metrics": metrics}], "roc_auc"
        ),
    }


def texts_shown(figure) -> list[str]:
    """Titles, axis and colour-bar titles, legend names, button labels and table headers."""
    data = figure.to_dict()
    layout = data["layout"]
    texts = [layout.get("title", {}).get("text") or ""]
    for key, value in layout.items():
        if key.startswith(("xaxis", "yaxis")):
            texts.append((value.get("title") or {}).get("text") or "")
    for menu in layout.get("updatemenus", []):
        texts += [b.get("label", "") for b in menu["buttons"]]
    for trace in data["data"]:
        texts.append(trace.get("name") or "")
        texts += [str(v) for v in (trace.get("header") or {}).get("values", [])]
        texts.append(str(((trace.get("colorbar") or {}).get("title") or {}).get("text") or ""))
        texts.append(str((trace.get("title") or {}).get("text") or ""))
        if trace["type"] == "bar":  # category labels: codes shown as words
            axis = "y" if trace.get("orientation") == "h" else "x"
            texts += [str(v) for v in trace.get(axis) or [] if isinstance(v, str)]
    return texts


def test_every_builder_speaks_words_and_rounds_its_hover(
    hand_portfolio, as_of, generated_portfolio
) -> None:
    figures = every_builder(hand_portfolio, as_of, generated_portfolio)
    assert set(figures) >= {
        name for name, f in vars(plots).items()
        if callable(f) and getattr(f, "__annotations__", {}).get("return") in ("go.Figure",)
        and not name.startswith("_")
    }  # fmt: skip
    for name, figure in figures.items():
        snake = [t for t in texts_shown(figure) if SNAKE.search(t)]
        assert not snake, f"{name} shows codes: {snake}"
        assert not unformatted_numbers(figure), f"{name}: {unformatted_numbers(figure)}"
    tiles = figures["kpi_tiles"].data
    assert tiles[0].number.valueformat == ",.2f" and tiles[0].number.suffix == " EUR"
    assert figures["ageing_bars"].data[0].hovertemplate == "%{x}: %{y:,.2f} EUR<extra></extra>"
    assert figures["ageing_bars"].data[0].text[0].endswith(" EUR")


def rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))


@pytest.mark.parametrize("bounds", [(30, 60, 90, 120), (30, 60), (15, 30, 45, 60, 90, 120, 180)])
def test_ageing_colours_go_from_calm_to_alarming(bounds) -> None:
    from workbench.policy import Ageing

    buckets = list(Ageing(bounds).bucket_names)
    figure = plots.ageing_bars(dict.fromkeys(buckets, 100.0), "EUR")
    colors = list(figure.data[0].marker.color)
    assert colors == plots.ageing_colors(buckets) and len(colors) == len(buckets)
    calm, *overdue = [rgb(c) for c in colors]
    assert calm[2] > calm[0], "not yet due is blue-grey, not warm"
    assert calm not in overdue
    assert all(r >= g and r > b for r, g, b in overdue), "overdue buckets are warm"
    greens = [g for _, g, _ in overdue]
    assert greens == sorted(greens, reverse=True) and len(set(greens)) == len(greens)
    assert overdue[-1][0] < 160 and overdue[-1][1] < 40  # the oldest: dark red


def test_model_words_say_which_model_is_used(tmp_path) -> None:
    from types import SimpleNamespace

    folder = tmp_path / "models"
    model = SimpleNamespace(
        metadata={"as_of": "2026-11-20", "horizon_days": 30, "retrain_by": "2027-01-19"}
    )
    weekly = plots.model_words(folder / "model-2026-11-20.skops", model, folder)
    assert "model-2026-11-20.skops" in weekly and "weekly run" in weekly and "2026-11-20" in weekly
    assert "weekly run" not in plots.model_words("elsewhere/m.skops", model, folder)
    fallback = plots.model_words(None, None, folder)
    assert "fallback probabilities" in fallback and str(folder) in fallback
