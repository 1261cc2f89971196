"""ipywidgets controls that drive plotly figures in the analysts' notebooks.

Each builder returns the widget box to display and the ``go.FigureWidget`` it drives, so tests can
change a control and check the figure. Computation is delegated to the package; the callbacks
only recompute and redraw.
"""

from __future__ import annotations

from datetime import date

import ipywidgets as widgets
import plotly.graph_objects as go
import polars as pl

from workbench import plots
from workbench.breakdowns import DIMENSIONS, open_ar_by
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio


def breakdown_explorer(
    portfolio: Portfolio,
    as_of: date,
    policy: Policy = DEFAULT_POLICY,
    segments: pl.DataFrame | None = None,
) -> tuple[widgets.VBox, go.FigureWidget]:
    """A dimension dropdown and an as-of date picker driving the open-AR-by-dimension bars."""
    options = list(DIMENSIONS) + (["segment"] if segments is not None else [])
    dimension = widgets.Dropdown(options=options, value="collector", description="By")
    day = widgets.DatePicker(value=as_of, description="As of")
    figure = go.FigureWidget(
        plots.stacked_bars(
            open_ar_by(portfolio, as_of, "collector", policy, segments),
            "collector",
            ["current_ar", "overdue_ar"],
            "Open AR by collector",
        )
    )

    def redraw(_change: dict | None = None) -> None:
        if day.value is None:
            return
        frame = open_ar_by(portfolio, day.value, dimension.value, policy, segments)
        fresh = plots.stacked_bars(
            frame, dimension.value, ["current_ar", "overdue_ar"], f"Open AR by {dimension.value}"
        )
        with figure.batch_update():
            for trace, new in zip(figure.data, fresh.data, strict=True):
                trace.x, trace.y = new.x, new.y
            figure.layout.title = fresh.layout.title

    dimension.observe(redraw, names="value")
    day.observe(redraw, names="value")
    return widgets.VBox([widgets.HBox([dimension, day]), figure]), figure


def customer_drilldown(
    portfolio: Portfolio,
    as_of: date,
    customers: pl.DataFrame,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[widgets.VBox, go.FigureWidget]:
    """A customer dropdown driving the invoice timeline of :func:`plots.customer_timeline`.

    ``customers``: customer_id and name of the customers offered (in the order given).
    """
    from workbench.drilldown import customer_events, customer_invoices

    options = [
        (f"{name} ({customer_id})", customer_id)
        for customer_id, name in customers.select("customer_id", "name").iter_rows()
    ]
    picker = widgets.Dropdown(options=options, description="Customer")

    def timeline(customer_id: str) -> go.Figure:
        return plots.customer_timeline(
            customer_invoices(portfolio, customer_id, as_of, policy),
            customer_events(portfolio, customer_id, as_of),
            as_of,
            title=_label(options, customer_id),
        )

    figure = go.FigureWidget(timeline(picker.value))

    def redraw(change: dict) -> None:
        fresh = timeline(change["new"])
        with figure.batch_update():
            figure.data = []
            figure.add_traces(list(fresh.data))
            figure.layout = fresh.layout

    picker.observe(redraw, names="value")
    return widgets.VBox([picker, figure]), figure


def _label(options: list[tuple[str, str]], customer_id: str) -> str:
    return next((label for label, value in options if value == customer_id), customer_id)
