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
from IPython.display import display

from workbench import plots
from workbench.balances import reporting_currency
from workbench.breakdowns import DIMENSIONS, open_ar_by
from workbench.policy import DEFAULT_POLICY, Policy
from workbench.portfolio import Portfolio


def breakdown_explorer(
    portfolio: Portfolio,
    as_of: date,
    policy: Policy = DEFAULT_POLICY,
    segments: pl.DataFrame | None = None,
) -> tuple[widgets.VBox, go.FigureWidget]:
    """A dimension dropdown (dimensions in words) and an as-of date picker driving the
    open-AR-by-dimension bars (money to the cent in the reporting currency)."""
    codes = list(DIMENSIONS) + (["segment"] if segments is not None else [])
    options = [(plots.header(code), code) for code in codes]
    dimension = widgets.Dropdown(options=options, value="collector", description="By")
    day = widgets.DatePicker(value=as_of, description="As of")

    def bars(on: date, by: str) -> go.Figure:
        return plots.stacked_bars(
            open_ar_by(portfolio, on, by, policy, segments),
            by,
            ["current_ar", "overdue_ar"],
            f"Open AR by {plots.header(by).lower()}",
            currency=reporting_currency(portfolio, on),
        )

    figure = go.FigureWidget(bars(as_of, "collector"))

    def redraw(_change: dict | None = None) -> None:
        if day.value is None:
            return
        fresh = bars(day.value, dimension.value)
        with figure.batch_update():
            for trace, new in zip(figure.data, fresh.data, strict=True):
                trace.x, trace.y, trace.hovertemplate = new.x, new.y, new.hovertemplate
            figure.layout.title = fresh.layout.title
            figure.layout.xaxis.title = fresh.layout.xaxis.title
            figure.layout.yaxis.title = fresh.layout.yaxis.title

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

    currency = reporting_currency(portfolio, as_of)

    def timeline(customer_id: str) -> go.Figure:
        return plots.customer_timeline(
            customer_invoices(portfolio, customer_id, as_of, policy),
            customer_events(portfolio, customer_id, as_of),
            as_of,
            title=_label(options, customer_id),
            currency=currency,
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


def worklist_what_if(
    portfolio: Portfolio,
    as_of: date,
    policy: Policy = DEFAULT_POLICY,
    scores: pl.DataFrame | None = None,
) -> tuple[widgets.VBox, go.FigureWidget, widgets.Output]:
    """Sliders for the collectors' weekly calls and the cadence thresholds; each change rebuilds
    the worklist, redraws actions by channel (current policy against the what-if) and lists
    the customers whose action changes (in the returned Output, as :func:`plots.display_frame`
    shows them: headers and codes in words)."""
    from workbench.errors import InputError
    from workbench.whatif import CADENCE_STEPS, what_if_policy, worklist_changes
    from workbench.worklist import build_worklist

    base = build_worklist(portfolio, as_of, policy, scores)
    calls = widgets.IntSlider(
        value=policy.capacity.default_calls_per_week, min=0, max=100, description="calls/week"
    )
    steps = {
        name: widgets.IntSlider(
            value=getattr(policy.cadence, name),
            min=1,
            max=120,
            description=name.removesuffix("_dpd").replace("_", " "),
            style={"description_width": "initial"},
        )  # fmt: skip
        for name in CADENCE_STEPS
    }
    channels = sorted(set(base.rows.get_column("channel").to_list()) | {"phone", "email", "letter"})

    def per_channel(rows: pl.DataFrame) -> list[int]:
        counts = dict(rows.group_by("channel").len().iter_rows())
        return [counts.get(channel, 0) for channel in channels]

    names = [plots.words(channel) for channel in channels]
    hover = "%{fullData.name}, %{x}: %{y:,} actions<extra></extra>"
    figure = go.FigureWidget(
        [
            go.Bar(x=names, y=per_channel(base.rows), name="current policy", hovertemplate=hover),
            go.Bar(x=names, y=per_channel(base.rows), name="what-if", hovertemplate=hover),
        ]
    )
    figure.update_layout(
        barmode="group", title="Actions by channel", yaxis_title="actions", **plots.LAYOUT
    )
    changes = widgets.Output()

    def recompute(_change: dict | None = None) -> None:
        try:
            variant_policy = what_if_policy(
                policy, calls.value, **{name: s.value for name, s in steps.items()}
            )
        except InputError as error:
            changes.clear_output()
            with changes:
                print(f"not a valid policy: {error}")
            return
        variant = build_worklist(portfolio, as_of, variant_policy, scores)
        with figure.batch_update():
            figure.data[1].y = per_channel(variant.rows)
        changes.clear_output()
        with changes:
            diff = worklist_changes(base, variant)
            print(f"{diff.height} customers change action")
            if diff.height:
                display(plots.display_frame(diff.head(30)))

    for slider in (calls, *steps.values()):
        slider.observe(recompute, names="value")
    box = widgets.VBox([calls, *steps.values(), figure, changes])
    return box, figure, changes


def evaluation_picker(report: dict) -> tuple[widgets.VBox, go.FigureWidget]:
    """A dropdown over the evaluations of a training report (test period, not-yet-due rows,
    each rolling origin) driving the model-against-baselines bars."""
    choices = {"test period": report["metrics"], "not yet due": report["metrics_not_yet_due"]}
    for result in report.get("rolling_origin", []):
        choices[f"origin {result['cutoff']}"] = result["metrics"]
    picker = widgets.Dropdown(options=list(choices), description="Evaluation")
    figure = go.FigureWidget(plots.model_vs_baselines(choices[picker.value]))

    def redraw(change: dict) -> None:
        fresh = plots.model_vs_baselines(choices[change["new"]])
        with figure.batch_update():
            for trace, new in zip(figure.data, fresh.data, strict=True):
                trace.y, trace.text = new.y, new.text

    picker.observe(redraw, names="value")
    return widgets.VBox([picker, figure]), figure
