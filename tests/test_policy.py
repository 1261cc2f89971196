"""The policy file: shipped defaults, partial overrides, and errors for typos."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from workbench.errors import InputError
from workbench.policy import DEFAULT_POLICY, Policy, default_policy_text, load_policy


def test_shipped_file_equals_the_code_defaults() -> None:
    # The TOML documents the defaults; loading it must give exactly the dataclass defaults.
    assert load_policy() == Policy() == DEFAULT_POLICY
    assert "[ageing]" in default_policy_text()


def test_partial_override_keeps_other_defaults(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[ageing]\noverdue_bounds = [15, 45]\n[kpis]\nperiod_days = 30\n")
    policy = load_policy(path)
    assert policy.ageing.overdue_bounds == (15, 45)
    assert policy.ageing.bucket_names == ["not yet due", "1-15", "16-45", "over 45"]
    assert policy.kpis.period_days == 30
    assert policy.behaviour == DEFAULT_POLICY.behaviour


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[ageing]\noverdue_bound = [30]\n", "unknown policy key policy.ageing.overdue_bound"),
        ("[agieng]\n", "unknown policy key policy.agieng"),
        ("[kpis]\nperiod_days = 'ninety'\n", "policy.kpis.period_days must be int"),
        ("[ageing]\noverdue_bounds = [60, 30]\n", "strictly increasing"),
        ("[kpis]\nperiod_days = 0\n", "period_days must be > 0"),
        ("[kpis\n", "not valid TOML"),
        ("[sender]\ncompany = ''\n", "sender.company must be set"),
        ("[sender]\niban = ''\n", "sender.iban or sender.payment_link must be set"),
        ("[sender]\nshort_name = 'A very long trading name for an SMS'\n", "at most 30"),
        ("[sender.signatures]\n'Arthur Becker' = 3\n", "signature line"),
        ("[penalties]\nrate_percent = -1\n", "penalties.rate_percent"),
        ("[penalties]\ncustomer_types = ['B2X']\n", "penalties.customer_types"),
        ("[penalties]\nmention_steps = ['shouting']\n", "penalties.mention_steps"),
        ("[team]\nlanguage = 'de'\n", "team.language must be one of en, fr"),
        ("[drafts.country_languages]\nPT = 'pt'\n", "drafts languages must be among"),
    ],
)
def test_bad_policy_is_an_input_error_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        load_policy(path)
    assert "mine.toml" in str(info.value)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="policy file not found"):
        load_policy(tmp_path / "nope.toml")


def test_every_shipped_section_is_documented() -> None:
    # Each top-level section ([ageing], [channels.*], ...) carries comment lines explaining it.
    text = default_policy_text()
    comments: dict[str, int] = {}
    section = "(top)"
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            section = stripped.strip("[]").split(".")[0]
            comments.setdefault(section, 0)
        elif stripped.startswith("#"):
            # counted for the section the comment sits in
            comments[section] = comments.get(section, 0) + 1
    sections = set(tomllib.loads(text))
    undocumented = sorted(name for name in sections if comments.get(name, 0) == 0)
    assert not undocumented, f"sections without a comment: {undocumented}"
