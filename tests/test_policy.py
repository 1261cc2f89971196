"""The policy file: shipped defaults, partial overrides, and errors for typos."""

from __future__ import annotations

import re
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
        ("[ageing]\noverdue_bound = [30]\n", "unknown policy key [ageing] overdue_bound (did you mean overdue_bounds?)"),
        ("[agieng]\n", "unknown policy section [agieng] (did you mean ageing?)"),
        ("[channels.vip]\nlight_reminder = ['email', 'friendly']\n", "unknown policy section [channels.vip]"),
        ("[amounts]\nsmall = 10.0\n", "unknown policy key [amounts] small"),
        ("[kpis]\nperiod_days = 'ninety'\n", "[kpis] period_days must be a whole number, got 'ninety'"),
        ("[ageing]\noverdue_bounds = [60, 30]\n", "strictly increasing"),
        ("[kpis]\nperiod_days = 0\n", "[kpis] period_days must be between 1 and 3650 days, got 0"),
        ("[kpis\n", "not valid TOML"),
        ("[sender]\ncompany = ''\n", "sender.company must be set"),
        ("[sender]\niban = ''\n", "sender.iban or sender.payment_link must be set"),
        ("[sender]\nshort_name = 'A very long trading name for an SMS'\n", "at most 30"),
        ("[sender.signatures]\n'Arthur Becker' = 3\n", "[sender.signatures] Arthur Becker must be text, got 3"),
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
    with pytest.raises(InputError, match=re.escape(message)) as info:
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


# --- issue 10: values of the wrong type, NaN, absurd periods, unreadable files ----------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[amounts]\nopen_tolerance = nan\n", "[amounts] open_tolerance must be a finite number, got nan"),
        ("[amounts]\nsmall_balance = inf\n", "[amounts] small_balance must be a finite number, got inf"),
        ("[risk_fallback]\nbase = -inf\n", "[risk_fallback] base must be a finite number, got -inf"),
        ("[segments]\nvalue_band_cuts = [1000, nan]\n", "[segments] value_band_cuts must be a list of finite numbers"),
        ("[amounts]\nopen_tolerance = '0.01'\n", "[amounts] open_tolerance must be a number, got '0.01'"),
        ("[kpis]\nperiod_days = true\n", "[kpis] period_days must be a whole number, got True"),
        ("[contact]\nrespect_preference = 1\n", "[contact] respect_preference must be true or false, got 1"),
        ("[ageing]\noverdue_bounds = 30\n", "[ageing] overdue_bounds must be a list of whole numbers, got 30"),
        ("[ageing]\noverdue_bounds = ['30']\n", "[ageing] overdue_bounds must be a list of whole numbers, got ['30']"),
        ("[cadence]\nwait_days = 3\n", "[cadence] wait_days must be a table (a [cadence.wait_days] section), got 3"),
        ("amounts = 3\n", "amounts must be a table (a [amounts] section), got 3"),
        ("[capacity]\ncalls_per_week = 5\n", "[capacity] calls_per_week must be a table, got 5"),
        ("[capacity.calls_per_week]\nAnne = 'many'\n", "[capacity.calls_per_week] Anne must be a whole number, got 'many'"),
        ("[behaviour]\ntrend_recent_days = -5\n", "[behaviour] trend_recent_days must be between 1 and 3650 days, got -5"),
        ("[behaviour]\ncontact_window_days = 0\n", "[behaviour] contact_window_days must be between 1 and 3650 days"),
        ("[behaviour]\npromise_grace_days = -1\n", "[behaviour] promise_grace_days must be between 0 and 3650 days"),
        ("[model]\nhorizon_days = 100000\n", "[model] horizon_days must be between 1 and 3650 days"),
        ("[model]\ntest_weeks = 1000000000\n", "[model] test_weeks must be between 1 and 521 weeks"),
        ("[ageing]\noverdue_bounds = [30, 60000]\n", "[ageing] overdue_bounds must be between 0 and 3650 days"),
        ("[cadence.delay_days]\nnew = -4000\n", "[cadence.delay_days] new must be between -3650 and 3650 days"),
        ("[model]\nrandom_state = -1\n", "[model] random_state must be between 0 and 4294967295"),
        ("[model]\nreason_late_share = 1.5\n", "[model] reason_late_share is a share (0-1)"),
    ],
)
def test_wrong_types_and_absurd_values_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=re.escape(message)) as info:
        load_policy(path)
    assert str(info.value).startswith(f"file {path}: ")


def test_every_number_of_days_is_bounded(tmp_path: Path) -> None:
    # Every key of the shipped file that counts days (its name says so) refuses ten years and a
    # day; the segment delays of [cadence.delay_days] may be negative, the others not.
    shipped = tomllib.loads(default_policy_text())
    checked = 0

    def walk(table: dict, path: tuple[str, ...]) -> None:
        nonlocal checked
        for key, value in table.items():
            if isinstance(value, dict):
                walk(value, (*path, key))
                continue
            days = "days" in key.split("_") or key.endswith("_dpd") or path[-1:] == ("wait_days",)
            if not days or not isinstance(value, int | float):
                continue
            section = ".".join(path)
            for bad in (3651, -1 if section != "cadence.delay_days" else -3651):
                file = tmp_path / f"{key}.toml"
                file.write_text(f"[{section}]\n{key} = {bad}\n")
                with pytest.raises(InputError, match=re.escape(f"[{section}] {key}")):
                    load_policy(file)
            checked += 1

    walk(shipped, ())
    assert checked >= 40, checked  # the shipped file has about 50 such keys


def test_delay_days_may_be_negative_and_whole_numbers_are_numbers(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text("[cadence.delay_days]\nnew = -10\n[amounts]\nsmall_balance = 75\n")
    policy = load_policy(path)
    assert policy.cadence.delay_days.new == -10
    assert policy.amounts.small_balance == 75.0 and type(policy.amounts.small_balance) is float


def test_policy_path_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the policy file is a folder") as info:
        load_policy(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_policy_file_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes("[sender]\n# comment\ncompany = 'Société'\n".encode("latin-1"))
    with pytest.raises(InputError) as info:
        load_policy(path)
    # 'é' is 0xe9 in Latin-1, on the third line
    assert str(info.value) == (
        f"file {path}: the policy file is not UTF-8 text (byte 0xe9 on line 3): save it as UTF-8"
    )


def test_toml_error_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[kpis]\nperiod_days = 30\nperiod_days = 60\n")
    with pytest.raises(InputError, match=r"not valid TOML: .*line 3, column \d+") as info:
        load_policy(path)
    assert str(path) in str(info.value)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes("\ufeff[kpis]\nperiod_days = 30\n".encode())
    assert load_policy(path).kpis.period_days == 30
