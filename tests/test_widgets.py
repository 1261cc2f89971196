"""Widgets: changing a control changes the figure it drives."""

from __future__ import annotations

from datetime import timedelta

from workbench.breakdowns import open_ar_by
from workbench.widgets import breakdown_explorer


def test_breakdown_dimension_dropdown_redraws(generated_portfolio) -> None:
    portfolio, as_of = generated_portfolio
    box, figure = breakdown_explorer(portfolio, as_of)
    dropdown, picker = box.children[0].children
    assert set(figure.data[0].x) == set(open_ar_by(portfolio, as_of, "collector")["collector"])
    dropdown.value = "country"
    expected = open_ar_by(portfolio, as_of, "country")
    assert list(figure.data[0].x) == expected.get_column("country").to_list()
    assert list(figure.data[1].y) == expected.get_column("overdue_ar").to_list()
    assert "country" in figure.layout.title.text


def test_breakdown_date_picker_redraws(generated_portfolio) -> None:
    portfolio, as_of = generated_portfolio
    box, figure = breakdown_explorer(portfolio, as_of)
    _, picker = box.children[0].children
    before = list(figure.data[0].y)
    earlier = as_of - timedelta(days=120)
    picker.value = earlier
    assert list(figure.data[0].y) != before
    expected = open_ar_by(portfolio, earlier, "collector")
    assert list(figure.data[0].y) == expected.get_column("current_ar").to_list()


def test_customer_dropdown_redraws_the_timeline(hand_portfolio, as_of) -> None:
    import polars as pl

    from workbench.widgets import customer_drilldown

    customers = pl.DataFrame({"customer_id": ["C2", "C3"], "name": ["Beta", "Gamma"]})
    box, figure = customer_drilldown(hand_portfolio, as_of, customers)
    picker = box.children[0]
    assert picker.value == "C2" and "Beta" in figure.layout.title.text
    bars = {t.name: list(t.y) for t in figure.data if t.name in ("open", "settled")}
    assert bars == {"open": ["I5", "I6"], "settled": ["I4"]}
    picker.value = "C3"
    bars = {t.name: list(t.y) for t in figure.data if t.name in ("open", "settled")}
    assert bars == {"open": ["I7", "I8"], "settled": ["I9"]}
    assert "Gamma" in figure.layout.title.text


def test_breakdown_dropdown_offers_words_and_hovers_money(generated_portfolio) -> None:
    portfolio, as_of = generated_portfolio
    box, figure = breakdown_explorer(portfolio, as_of)
    dropdown, _ = box.children[0].children
    labels = [label for label, _ in dropdown.options]
    assert "Customer type" in labels and all("_" not in label for label in labels)
    dropdown.value = "customer_type"
    assert figure.layout.title.text == "Open AR by customer type"
    assert figure.layout.xaxis.title.text == "Customer type"
    assert figure.data[0].hovertemplate.endswith(": %{y:,.2f} EUR<extra></extra>")


def test_what_if_lists_changes_in_words(generated_portfolio, monkeypatch) -> None:
    from workbench import widgets
    from workbench.worklist import build_worklist

    shown = []
    monkeypatch.setattr(
        widgets, "display", shown.append
    )  # outside a kernel Output captures nothing
    portfolio, as_of = generated_portfolio
    box, figure, _ = widgets.worklist_what_if(portfolio, as_of)
    assert all("_" not in x for x in figure.data[0].x)
    box.children[0].value = 1  # one call a week
    actions = build_worklist(portfolio, as_of).rows.height
    assert sum(figure.data[1].y) <= sum(figure.data[0].y) == actions
    assert len(shown) == 1, "with one call a week some actions change"
    assert "Action in the what-if" in shown[0].columns and "action_after" not in shown[0].columns
