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
