"""A customer's history as of a date."""

from __future__ import annotations

from datetime import date

from workbench import plots
from workbench.drilldown import customer_events, customer_invoices


def test_events_of_a_customer_by_hand(hand_portfolio, as_of) -> None:
    events = customer_events(hand_portfolio, "C2", as_of)
    kinds = events.get_column("kind").to_list()
    # C2: invoices I4, I5, I6; payments P3, P4 (I4), P5, P6 (I5); unapplied P7; promise PR2;
    # contacts on 04-20 and 06-10; plan instalments 06-01 and 06-15 (07-01 is after as_of).
    assert kinds.count("invoice") == 3
    assert kinds.count("payment") == 4
    assert kinds.count("unapplied cash") == 1
    assert kinds.count("promise") == 1
    assert kinds.count("contact") == 2
    assert kinds.count("plan instalment") == 2
    assert events.get_column("date").max() <= as_of
    assert events.get_column("date").is_sorted()


def test_events_hide_the_future(hand_portfolio, hand_portfolio_with_future, as_of) -> None:
    for customer in ("C1", "C2", "C3", "C4"):
        assert customer_events(hand_portfolio_with_future, customer, as_of).equals(
            customer_events(hand_portfolio, customer, as_of)
        )


def test_invoices_and_timeline(hand_portfolio, as_of) -> None:
    invoices = customer_invoices(hand_portfolio, "C3", as_of)
    assert invoices.get_column("invoice_id").to_list() == ["I7", "I8", "I9"]
    figure = plots.customer_timeline(invoices, customer_events(hand_portfolio, "C3", as_of), as_of)
    names = [t.name for t in figure.data]
    assert {"open", "settled", "due date", "dispute opened", "credit note"} <= set(names)
    open_bar = figure.data[names.index("open")]
    assert list(open_bar.y) == ["I7", "I8"]  # I9 was fully credited
    # I7 is open from its issue date 2025-12-01 to as_of: 211 days.
    assert open_bar.x[0] == (as_of - date(2025, 12, 1)).days * 86_400_000
