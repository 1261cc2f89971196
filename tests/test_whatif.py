"""What-if policies and worklist differences."""

from __future__ import annotations

import pytest

from workbench.errors import InputError
from workbench.policy import DEFAULT_POLICY
from workbench.whatif import what_if_policy, worklist_changes
from workbench.worklist import build_worklist


def test_what_if_policy_sets_capacity_and_cadence() -> None:
    variant = what_if_policy(DEFAULT_POLICY, calls_per_week=3, formal_notice_dpd=60)
    assert variant.capacity.default_calls_per_week == 3
    assert all(v == 3 for v in variant.capacity.calls_per_week.values())
    assert variant.cadence.formal_notice_dpd == 60
    assert variant.cadence.last_notice_dpd == DEFAULT_POLICY.cadence.last_notice_dpd
    assert DEFAULT_POLICY.capacity.default_calls_per_week == 40  # the original is untouched


def test_what_if_refuses_an_invalid_cadence() -> None:
    with pytest.raises(InputError, match="strictly increasing"):
        what_if_policy(DEFAULT_POLICY, last_notice_dpd=50, formal_notice_dpd=40)
    with pytest.raises(ValueError, match="unknown cadence"):
        what_if_policy(DEFAULT_POLICY, legal_dpd=3)


def test_less_capacity_moves_calls_to_automated_channels(generated_portfolio) -> None:
    portfolio, as_of = generated_portfolio
    base = build_worklist(portfolio, as_of)
    variant = build_worklist(portfolio, as_of, what_if_policy(DEFAULT_POLICY, calls_per_week=0))
    calls = base.rows.filter(base.rows["channel"] == "phone").height
    assert calls > 0, "the generated portfolio should need some calls"
    assert variant.rows.filter(variant.rows["channel"] == "phone").height == 0
    diff = worklist_changes(base, variant)
    moved = diff.filter(diff["channel_before"] == "phone")
    assert moved.height == calls
    assert set(moved["change"]) == {"changed"}
    assert worklist_changes(base, base).is_empty()


def test_what_if_widget_recomputes(generated_portfolio) -> None:
    from workbench.widgets import worklist_what_if

    portfolio, as_of = generated_portfolio
    box, figure, changes = worklist_what_if(portfolio, as_of)
    calls = box.children[0]
    channels = list(figure.data[0].x)
    phone = channels.index("phone")
    assert figure.data[1].y[phone] == figure.data[0].y[phone] > 0
    calls.value = 0
    assert figure.data[1].y[phone] == 0
    assert figure.data[0].y[phone] > 0  # the current policy's bars stay
