"""Plot builders and the offline renderer used for the managers' report."""

from __future__ import annotations

from datetime import timedelta

import plotly.io as pio
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
    tile = by_title["Open AR"]
    assert tile.value == current["total_ar"] and tile.delta.reference == previous["total_ar"]
    # A rising DSO is bad (red), a rising CEI good (green).
    assert by_title["DSO (days)"].delta.increasing.color == "#b8405e"
    assert by_title["CEI (%)"].delta.increasing.color == "#3a9e6f"
    assert plots.kpi_tiles(current).data[0].mode == "number"


def test_ageing_bars_keep_bucket_order(hand_portfolio, as_of) -> None:
    ageing = portfolio_kpis(hand_portfolio, as_of)["ageing"]
    figure = plots.ageing_bars(ageing)
    assert list(figure.data[0].x) == list(ageing)
    assert sum(figure.data[0].y) == pytest.approx(8599.75)


def test_dso_trend_has_one_line_per_measure(hand_portfolio, as_of) -> None:
    series = kpi_series(hand_portfolio, as_of - timedelta(days=28), as_of, 7)
    figure = plots.dso_trend(series)
    assert [t.name for t in figure.data] == [
        "DSO (standard)", "DSO (countback)", "Best possible DSO", "Avg days delinquent",
    ]
    assert len(figure.data[0].x) == 5
    assert list(figure.data[0].y) == series.get_column("dso_standard").to_list()


def test_text_from_the_data_is_escaped_before_plotting() -> None:
    import polars as pl

    hostile = '<a href="javascript:alert(1)">x</a> & <b>bold</b>'
    frame = pl.DataFrame({"name": [hostile], "amount": [1.0]})
    cells = plots.table(frame, "t").data[0].cells.values
    assert list(cells[0]) == ['&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt; &amp; &lt;b&gt;bold&lt;/b&gt;']
    bars = plots.stacked_bars(frame, "name", ["amount"], "t")
    assert "<" not in bars.data[0].x[0] and "&lt;a" in bars.data[0].x[0]
    assert plots.escaped_text("<i>") == "&lt;i&gt;"


def hand_intervals() -> dict:
    """A bootstrap result (workbench.bootstrap.cluster_bootstrap's shape) written by hand: against
    days past due the model is better on ROC AUC, ties on average precision and is worse on
    Brier (a positive difference: higher error); against the late share it is worse on ROC AUC,
    better on average precision and Brier."""

    def interval(estimate, low, high, share=None):
        return {"estimate": estimate, "low": low, "high": high} | ({} if share is None else {"better_share": share})

    return {
        "resamples": 1000, "level": 0.95, "clusters": 400, "rows": 20000, "reference": "model",
        "metrics": {
            "model": {"roc_auc": interval(0.78, 0.75, 0.81), "average_precision": interval(0.6, 0.55, 0.66),
                      "brier": interval(0.15, 0.14, 0.17)},
            "baseline_dpd": {"roc_auc": interval(0.698, 0.66, 0.73), "average_precision": interval(0.59, 0.5, 0.65),
                             "brier": interval(0.146, 0.13, 0.16)},
            "baseline_customer_late_rate": {"roc_auc": interval(0.81, 0.79, 0.84),
                                            "average_precision": None, "brier": interval(0.16, 0.15, 0.18)},
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
    assert headers[:4] == ["Comparison", "ROC AUC", "Average precision", "Brier score (lower is better)"]
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
    assert verdict("roc_auc", 0.01, 0.05) == "better" and verdict("roc_auc", -0.05, -0.01) == "worse"
    assert verdict("roc_auc", -0.01, 0.05) == "tie" and verdict("roc_auc", 0.0, 0.05) == "tie"
    assert verdict("brier", -0.02, -0.001) == "better" and verdict("brier", 0.001, 0.02) == "worse"
    assert verdict("brier", -0.02, 0.0) == "tie" and verdict("average_precision", None, None) == "n/a"
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
