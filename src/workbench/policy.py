"""The collections policy: business thresholds read from TOML, with documented defaults.

The defaults ship in ``workbench/policy.toml``; a user file overrides any subset of its keys.
Unknown sections or keys are an input error, so a typo never silently keeps a default; so are
a value of the wrong type (text for a number, a number for a table, a section given as a plain
value), NaN or an infinity, and a number of days out of range (:data:`MAX_PERIOD_DAYS`). Every
message names the file and the key as written in TOML (``[amounts] open_tolerance``).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass
from importlib import resources
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from workbench.errors import InputError, Problem
from workbench.schema import CUSTOMER_TYPES, TONES


@dataclass(frozen=True)
class Amounts:
    open_tolerance: float = 0.01
    small_balance: float = 50.0


@dataclass(frozen=True)
class Ageing:
    overdue_bounds: tuple[int, ...] = (30, 60, 90, 120)

    @property
    def bucket_names(self) -> list[str]:
        """Bucket labels in order: ``not yet due``, ``1-30``, ..., ``over 120``."""
        names = ["not yet due"]
        lower = 1
        for upper in self.overdue_bounds:
            names.append(f"{lower}-{upper}")
            lower = upper + 1
        names.append(f"over {self.overdue_bounds[-1]}" if self.overdue_bounds else "overdue")
        return names


@dataclass(frozen=True)
class Kpis:
    period_days: int = 90


@dataclass(frozen=True)
class Behaviour:
    late_after_days: int = 0
    severe_late_days: int = 30
    trend_recent_days: int = 90
    trend_reference_days: int = 365
    promise_grace_days: int = 3
    plan_grace_days: int = 3
    contact_window_days: int = 90


@dataclass(frozen=True)
class Model:
    """The ``[model]`` section: late-payment risk model and risk reasons (units in policy.toml)."""

    horizon_days: int = 30
    snapshot_every_days: int = 7
    history_days: int = 730
    warmup_days: int = 90
    test_weeks: int = 12
    calibration_method: str = "auto"
    isotonic_min_rows: int = 10_000
    cv_blocks: int = 4
    cv_share: float = 0.6
    grid_max_depth: tuple[int, ...] = (2, 3, 4)
    grid_min_samples_leaf: tuple[int, ...] = (20, 100, 200)
    grid_max_iter: tuple[int, ...] = (100, 200, 300)
    learning_rate: float = 0.05
    l2_regularization: float = 1.0
    monotone_increasing: tuple[str, ...] = ()
    search_rows: int = 15_000
    max_training_rows: int = 200_000
    bootstrap_resamples: int = 1000
    backtest_origins: int = 2
    retrain_after_days: int = 28
    random_state: int = 0
    calibration_bins: int = 10
    reason_min_settled: int = 3
    reason_late_share: float = 0.5
    reason_severe_late_share: float = 0.2
    reason_mean_days_late: float = 10.0
    reason_trend_days: float = 5.0
    reason_broken_promises: int = 1
    reason_missed_instalments: int = 1
    reason_open_disputes: int = 1
    reason_oldest_dpd: int = 30
    reason_credit_limit_use: float = 0.9
    reason_days_since_payment: int = 60
    reason_partial_rate: float = 0.5
    reason_new_customer_days: int = 90


SEGMENTS = (
    "reliable", "occasional", "chronic_late", "deteriorating", "in_difficulty", "disputing", "new",
)  # fmt: skip
"""Behaviour segments (:mod:`workbench.segments`); the fields of the per-segment sections."""

MESSAGE_STEPS = (
    "pre_due", "light_reminder", "personal_contact", "solution_offer", "last_notice",
    "formal_notice", "thank_you", "resolve_dispute",
)  # fmt: skip
"""Actions whose channel and tone the ``[channels.*]`` tables set: the cadence steps (DESIGN
2.3, from the pre-due reminder to the formal notice), the thank-you and the dispute routing."""

ACTION_CHANNELS = (
    "email", "sms", "phone", "letter", "registered_letter", "agency", "legal", "none",
)  # fmt: skip
"""Channels an action may name (``none``: an internal action, nothing sent to the customer)."""

LANGUAGES = ("en", "fr", "de", "es", "it", "nl")
"""Languages of the message drafts (ISO 639-1), each with a template set."""

TEAM_LANGUAGES = ("en", "fr")
"""Languages of the team's own outputs (reasons, worklist headers, number and date formats)."""
"""Languages of the message drafts."""


@dataclass(frozen=True)
class Segments:
    """The ``[segments]`` section: behaviour-segment thresholds and priority-matrix bands."""

    new_max_tenure_days: int = 120
    new_min_settled: int = 3
    difficulty_silent_days: int = 90
    difficulty_min_partial_rate: float = 0.3
    difficulty_min_missed_instalments: int = 1
    disputing_min_dispute_rate: float = 0.1
    chronic_min_share_late: float = 0.5
    chronic_min_mean_days_late: float = 15.0
    deteriorating_min_trend_days: float = 15.0
    reliable_max_share_late: float = 0.2
    risk_band_cuts: tuple[float, ...] = (0.3, 0.6)
    value_band_cuts: tuple[float, ...] = (1000.0, 10000.0)


@dataclass(frozen=True)
class SegmentDays:
    """A number of days per behaviour segment (``[cadence.delay_days]``)."""

    reliable: int = 0
    occasional: int = 0
    chronic_late: int = 0
    deteriorating: int = 0
    in_difficulty: int = 0
    disputing: int = 0
    new: int = 0


@dataclass(frozen=True)
class StepWaits:
    """Days to wait after each step before the next one (``[cadence.wait_days]``); the formal
    notice waits for its deadline instead (``[escalation]``)."""

    pre_due: int = 3
    light_reminder: int = 7
    personal_contact: int = 7
    solution_offer: int = 10
    last_notice: int = 10


@dataclass(frozen=True)
class Cadence:
    """The ``[cadence]`` section: days past due of each step, segment delays, pre-due window."""

    pre_due_days: int = 7
    pre_due_min_probability: float = 0.5
    light_reminder_dpd: int = 1
    personal_contact_dpd: int = 7
    solution_offer_dpd: int = 14
    last_notice_dpd: int = 30
    formal_notice_dpd: int = 45
    thank_you_days: int = 7
    first_contact_max_step: str = "last_notice"
    repeat_after_days: int = 30
    short_payment_max_share: float = 0.2
    wait_days: StepWaits = field(default_factory=StepWaits)
    delay_days: SegmentDays = field(
        default_factory=lambda: SegmentDays(
            reliable=7, occasional=7, chronic_late=-3, deteriorating=-3
        )
    )

    @property
    def step_bounds(self) -> dict[str, int]:
        """First day past due of each step after the due date, in cadence order."""
        return {
            "light_reminder": self.light_reminder_dpd,
            "personal_contact": self.personal_contact_dpd,
            "solution_offer": self.solution_offer_dpd,
            "last_notice": self.last_notice_dpd,
            "formal_notice": self.formal_notice_dpd,
        }


@dataclass(frozen=True)
class Contact:
    """The ``[contact]`` section: contact cap, recent payments, channel preference."""

    max_per_week: int = 2
    cap_window_days: int = 7
    min_gap_days: int = 3
    after_conversation_days: int = 7
    conversation_outcomes: tuple[str, ...] = (
        "reached", "promise_to_pay", "plan_agreed", "dispute_raised",
    )  # fmt: skip
    recent_payment_days: int = 7
    respect_preference: bool = True
    formal_channels: tuple[str, ...] = ("registered_letter", "agency", "legal")


@dataclass(frozen=True)
class Escalation:
    """The ``[escalation]`` section: broken promises, hand-over after a formal notice."""

    broken_promise_days: int = 90
    broken_promise_min_step: str = "personal_contact"
    broken_promise_channel: str = "phone"
    notice_answer_days: int = 8
    notice_postal_days: int = 3
    letter_min_amount: float = 100.0
    formal_notice_min_amount: float = 500.0
    handover_review_days: int = 30
    agency_min_amount: float = 1000.0
    legal_min_amount: float = 10000.0
    strategic_max_tone: str = "neutral"


@dataclass(frozen=True)
class StepFallback:
    """The automated channel of each step when the collector's phone capacity is used up."""

    pre_due: str = "email"
    light_reminder: str = "email"
    personal_contact: str = "email"
    solution_offer: str = "email"
    last_notice: str = "letter"
    formal_notice: str = "registered_letter"
    thank_you: str = "email"
    resolve_dispute: str = "email"


@dataclass(frozen=True)
class Capacity:
    """The ``[capacity]`` section: collectors' calls per week and the automated fallbacks."""

    default_calls_per_week: int = 40
    calls_per_week: dict[str, int] = field(default_factory=dict, hash=False)
    fallback: StepFallback = field(default_factory=StepFallback)

    def calls_of(self, collector: str | None) -> int:
        """Calls per week of ``collector`` (the default when it has no override)."""
        return self.calls_per_week.get(collector or "", self.default_calls_per_week)


@dataclass(frozen=True)
class StepChannels:
    """[channel, tone] of each step for one segment; an empty value keeps ``[channels.default]``."""

    pre_due: tuple[str, ...] = ()
    light_reminder: tuple[str, ...] = ()
    personal_contact: tuple[str, ...] = ()
    solution_offer: tuple[str, ...] = ()
    last_notice: tuple[str, ...] = ()
    formal_notice: tuple[str, ...] = ()
    thank_you: tuple[str, ...] = ()
    resolve_dispute: tuple[str, ...] = ()


@dataclass(frozen=True)
class Channels:
    """The ``[channels.*]`` tables: channel and tone of each step (rows) by segment."""

    default: StepChannels = field(
        default_factory=lambda: StepChannels(
            pre_due=("email", "friendly"),
            light_reminder=("email", "friendly"),
            personal_contact=("phone", "neutral"),
            solution_offer=("phone", "neutral"),
            last_notice=("letter", "firm"),
            formal_notice=("registered_letter", "formal"),
            thank_you=("email", "friendly"),
            resolve_dispute=("none", "neutral"),
        )
    )
    reliable: StepChannels = field(
        default_factory=lambda: StepChannels(
            personal_contact=("email", "friendly"),
            solution_offer=("phone", "friendly"),
            last_notice=("letter", "neutral"),
        )
    )
    occasional: StepChannels = field(
        default_factory=lambda: StepChannels(
            personal_contact=("phone", "friendly"), last_notice=("letter", "neutral")
        )
    )
    chronic_late: StepChannels = field(
        default_factory=lambda: StepChannels(
            light_reminder=("email", "neutral"),
            personal_contact=("phone", "firm"),
            solution_offer=("phone", "firm"),
        )
    )
    deteriorating: StepChannels = field(
        default_factory=lambda: StepChannels(light_reminder=("phone", "neutral"))
    )
    in_difficulty: StepChannels = field(
        default_factory=lambda: StepChannels(
            personal_contact=("phone", "friendly"), solution_offer=("phone", "friendly")
        )
    )
    disputing: StepChannels = field(
        default_factory=lambda: StepChannels(light_reminder=("email", "neutral"))
    )
    new: StepChannels = field(default_factory=StepChannels)

    def style(self, segment: str, step: str) -> tuple[str, str]:
        """(channel, tone) of ``step`` for ``segment``: its own value, else the default."""
        return tuple(getattr(getattr(self, segment), step) or getattr(self.default, step))


@dataclass(frozen=True)
class RiskFallback:
    """The ``[risk_fallback]`` section: P(still open at the horizon) when there is no model."""

    base: float = 0.1
    per_dpd_day: float = 0.01
    late_weight: float = 0.3
    severe_late_weight: float = 0.3
    broken_promise_weight: float = 0.1
    minimum: float = 0.02
    maximum: float = 0.95


@dataclass(frozen=True)
class WorklistRules:
    """The ``[worklist]`` section: what the exports must show besides the actions."""

    watch_min_exposure: float = 10000.0


@dataclass(frozen=True)
class Drafts:
    """The ``[drafts]`` section: language of each customer's drafts."""

    default_language: str = "en"
    country_languages: dict[str, str] = field(
        default_factory=lambda: {
            "FR": "fr", "BE": "fr", "LU": "fr", "MC": "fr", "CH": "fr", "DE": "de", "AT": "de",
            "ES": "es", "IT": "it", "NL": "nl", "GB": "en", "IE": "en", "US": "en",
        },
        hash=False,
    )  # fmt: skip


@dataclass(frozen=True)
class Team:
    """The ``[team]`` section: the language of the team's own outputs."""

    language: str = "en"


@dataclass(frozen=True)
class Sender:
    """The ``[sender]`` section: who signs the drafts and how to pay (shown in every draft)."""

    company: str = "Exemple Distribution SAS"
    short_name: str = "Exemple Distribution"
    address: str = "1 rue de l'Exemple, 75000 Paris, France"
    phone: str = "+33 1 00 00 00 00"
    email: str = "recouvrement@exemple.invalid"
    registration: str = "SIREN 000 000 000 RCS Paris"
    iban: str = "FR76 0000 0000 0000 0000 0000 000"
    bic: str = "EXAMPLEFRPPXXX"
    payment_link: str = ""
    consumer_mediator: str = ""
    signatures: dict[str, str] = field(default_factory=dict, hash=False)

    def signature_of(self, collector: str | None) -> str | None:
        """The signature line of ``collector`` (its ``[sender.signatures]`` entry, else its
        name; None when there is no collector)."""
        if not collector:
            return None
        return self.signatures.get(collector, collector)


@dataclass(frozen=True)
class Penalties:
    """The ``[penalties]`` section: late-payment penalties and the fixed recovery indemnity."""

    rate_percent: float = 12.15
    day_count: int = 365
    indemnity: float = 40.0
    indemnity_currency: str = "EUR"
    customer_types: tuple[str, ...] = ("B2B",)
    mention_steps: tuple[str, ...] = ("formal_notice",)


@dataclass(frozen=True)
class Forecast:
    """The ``[forecast]`` section: the weekly cash forecast and its range (units in policy.toml;
    :mod:`workbench.forecast`)."""

    weeks: int = 8
    history_weeks: int = 13
    sales_weeks: int = 13
    behaviour_days: int = 365
    dpd_bands: tuple[int, ...] = (-30, -15, -7, 0, 7, 15, 30, 60, 90, 180)
    late_bands: tuple[int, ...] = (0, 7, 20, 45)
    min_cell_rows: int = 30
    seasonal_window: int = 3
    seasonal_bounds: tuple[float, ...] = (0.5, 1.5)
    keep_prior_promises: float = 5.0
    default_keep_rate: float = 0.5
    calibration_origins: int = 12
    min_calibration_origins: int = 4
    low_quantile: float = 0.1
    high_quantile: float = 0.9
    fallback_spread: float = 0.3


@dataclass(frozen=True)
class Policy:
    amounts: Amounts = field(default_factory=Amounts)
    ageing: Ageing = field(default_factory=Ageing)
    kpis: Kpis = field(default_factory=Kpis)
    behaviour: Behaviour = field(default_factory=Behaviour)
    model: Model = field(default_factory=Model)
    segments: Segments = field(default_factory=Segments)
    cadence: Cadence = field(default_factory=Cadence)
    contact: Contact = field(default_factory=Contact)
    escalation: Escalation = field(default_factory=Escalation)
    capacity: Capacity = field(default_factory=Capacity)
    channels: Channels = field(default_factory=Channels)
    risk_fallback: RiskFallback = field(default_factory=RiskFallback)
    worklist: WorklistRules = field(default_factory=WorklistRules)
    drafts: Drafts = field(default_factory=Drafts)
    team: Team = field(default_factory=Team)
    sender: Sender = field(default_factory=Sender)
    penalties: Penalties = field(default_factory=Penalties)
    forecast: Forecast = field(default_factory=Forecast)


MAX_PERIOD_DAYS = 3650
"""Largest number of days (ten years) a policy period, delay or threshold may hold; a larger
value is a typo (a horizon of 100000 days, a bucket bound in cents) and would overflow the date
arithmetic of the as-of computations. Weeks are bounded alike (``MAX_PERIOD_DAYS // 7``)."""

POSITIVE_DAYS = frozenset({
    "kpis.period_days", "behaviour.trend_recent_days", "behaviour.trend_reference_days",
    "behaviour.contact_window_days", "behaviour.severe_late_days", "model.horizon_days",
    "model.snapshot_every_days", "model.history_days", "model.retrain_after_days",
    "contact.cap_window_days", "escalation.handover_review_days", "forecast.behaviour_days",
})  # fmt: skip
"""Periods (``section.key``) of at least one day: windows and horizons. Every other number of
days must be >= 0, except the segment delays of ``[cadence.delay_days]`` (earlier when < 0)."""

SIGNED_DAYS_SECTIONS = frozenset({"cadence.delay_days"})
"""Sections whose numbers of days may be negative."""

MAX_RANDOM_STATE = 2**32 - 1
"""scikit-learn and numpy take seeds in 0..2**32 - 1."""

_KINDS = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}
_PLURALS = {int: "whole numbers", float: "numbers", str: "texts", bool: "true/false values"}


def _key(path: tuple[str, ...], key: str | None = None) -> str:
    """A policy key as written in TOML: ``[amounts] open_tolerance``, ``[cadence.wait_days]``."""
    section = f"[{'.'.join(path)}]"
    return section if key is None else f"{section} {key}"


def _kind(annotation: Any) -> str:
    """What a value of type ``annotation`` is called in a message (``a list of numbers``)."""
    origin = get_origin(annotation) or annotation
    if is_dataclass(origin) or origin is dict:
        return "a table"
    if origin is tuple:
        return f"a list of {_PLURALS.get(get_args(annotation)[0], 'values')}"
    return _KINDS.get(origin, str(annotation))


def _section(cls: type, values: Any, path: tuple[str, ...], file: str) -> Any:
    """The dataclass ``cls`` built from the TOML table ``values`` found at ``path`` (InputError
    naming the file and the key when a key is unknown or a value of the wrong type)."""
    if not isinstance(values, dict):
        where = f"{_key(path[:-1], path[-1])}" if len(path) > 1 else f"{path[0]}"
        raise InputError(
            Problem(f"{where} must be a table (a {_key(path)} section), got {values!r}", file=file)
        )
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise InputError(Problem(_unknown(path, key, value, known), file=file))
        kwargs[key] = _typed(value, hints[key], path, key, file)
    return cls(**kwargs)


REMOVED_KEYS = {
    ("model", "calibration_share"): (
        "no slice is held out for calibration any more: the trees are fitted on every training "
        "row and calibrated on out-of-fold predictions (model.cv_blocks); remove the key"
    ),
}
"""Keys of earlier versions, with what replaced them (a clearer error than "unknown key")."""


def _unknown(path: tuple[str, ...], key: str, value: Any, known: set[str]) -> str:
    """The message for the unknown key ``key`` of section ``path`` (a section when ``value`` is
    a table), with the closest known name when one is close (a typo), or what replaced a key of
    an earlier version (:data:`REMOVED_KEYS`)."""
    import difflib

    if (*path, key) in REMOVED_KEYS:
        return f"policy key {_key(path, key)} is no longer used: {REMOVED_KEYS[(*path, key)]}"
    if isinstance(value, dict) or not path:
        message = f"unknown policy section {_key((*path, key))}"
    else:
        message = f"unknown policy key {_key(path, key)}"
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return message + (f" (did you mean {close[0]}?)" if close else "")


def _typed(value: Any, annotation: Any, path: tuple[str, ...], key: str, file: str) -> Any:
    """``value`` of the policy key ``key`` of section ``path`` checked against its
    ``annotation`` (a dataclass, ``tuple[T, ...]``, ``dict[str, T]`` or a scalar type) and
    converted (lists to tuples, whole numbers to floats where numbers are expected)."""
    origin = get_origin(annotation) or annotation
    if is_dataclass(origin):
        return _section(origin, value, (*path, key), file)

    def wrong(where: str, kind: str, shown: Any) -> Any:
        def error(bad: Any) -> InputError:
            finite = isinstance(bad, float) and not math.isfinite(bad)
            what = kind.replace("number", "finite number", 1) if finite else kind
            return InputError(Problem(f"{where} must be {what}, got {shown!r}", file=file))

        return error

    whole = wrong(_key(path, key), _kind(annotation), value)
    if origin is tuple:
        if not isinstance(value, list):
            raise whole(value)
        return tuple(_scalar(v, get_args(annotation)[0], whole) for v in value)
    if origin is dict:
        if not isinstance(value, dict):
            raise whole(value)
        item = get_args(annotation)[1]
        return {k: _scalar(v, item, wrong(_key((*path, key), k), _kind(item), v))
                for k, v in value.items()}  # fmt: skip
    return _scalar(value, origin, whole)


def _scalar(value: Any, expected: type, wrong: Any) -> Any:
    """``value`` checked against ``expected`` (a whole number is accepted for a number; a number
    must be finite: NaN and infinities are refused); raises ``wrong(value)`` otherwise."""
    ok = type(value) is expected or (expected is float and type(value) is int)
    if not ok or (expected is float and not math.isfinite(value)):
        raise wrong(value)
    return expected(value)


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def default_policy_text() -> str:
    """The shipped default policy file, comments included."""
    return resources.files("workbench").joinpath("policy.toml").read_text(encoding="utf-8")


def load_policy(path: str | Path | None = None) -> Policy:
    """The default policy, overridden by the TOML file at ``path`` when given.

    Raises :class:`InputError` naming the file when it is missing, a folder, unreadable, not
    UTF-8 or not TOML (with the line and column), and naming the key (``[amounts]
    open_tolerance``) when a key is unknown or a value of the wrong type or out of range."""
    values = tomllib.loads(default_policy_text())
    file = "policy.toml (default)"
    if path is not None:
        file = str(path)
        values = _merged(values, _policy_file(Path(path)))
    policy = _section(Policy, values, (), file)
    check_policy(policy, file)
    return policy


def _policy_file(path: Path) -> dict[str, Any]:
    """The TOML table of the user's policy file ``path`` (InputError naming it otherwise)."""
    file = str(path)
    if path.is_dir():
        raise InputError(Problem("the policy file is a folder; give a .toml file", file=file))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(Problem("policy file not found", file=file)) from None
    except OSError as exc:
        message = f"cannot read the policy file: {exc.strerror}"
        raise InputError(Problem(message, file=file)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = (
            f"the policy file is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}): "
            "save it as UTF-8"
        )
        raise InputError(Problem(message, file=file)) from None
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(Problem(f"not valid TOML: {exc}", file=file)) from None


def check_policy(policy: Policy, source: str = "policy") -> None:
    """Raise :class:`InputError` (naming ``source`` and the key) when a value is out of range."""
    _check_periods(policy, (), source)
    _check(policy, source)
    _check_model(policy.model, source)
    _check_forecast(policy.forecast, source)


def _check_forecast(forecast: Forecast, file: str) -> None:
    """The ``[forecast]`` section's values are in range (InputError naming the key otherwise).
    Days (behaviour_days) and weeks (history_weeks, sales_weeks) are checked with the other
    periods (:func:`_check_periods`)."""

    def fail(message: str, key: str) -> None:
        raise InputError(Problem(f"[forecast] {key} {message}", file=file, column=key))

    for key, low, high in (("weeks", 1, 52), ("min_cell_rows", 1, 10**6),
                           ("calibration_origins", 0, 104), ("seasonal_window", 0, 13),
                           ("min_calibration_origins", 1, 104)):  # fmt: skip
        if not low <= getattr(forecast, key) <= high:
            fail(f"must be between {low} and {high:,}", key)
    for key in ("dpd_bands", "late_bands"):
        bounds = getattr(forecast, key)
        if not bounds or list(bounds) != sorted(set(bounds)):
            fail("must be a non-empty list of strictly increasing days", key)
        if any(abs(b) > MAX_PERIOD_DAYS for b in bounds):
            fail(f"must be days between -{MAX_PERIOD_DAYS} and {MAX_PERIOD_DAYS}", key)
    if forecast.keep_prior_promises < 0:
        fail("must be >= 0", "keep_prior_promises")
    if not 0 <= forecast.default_keep_rate <= 1:
        fail("is a share (0-1)", "default_keep_rate")
    bounds = forecast.seasonal_bounds
    if len(bounds) != 2 or not 0 < bounds[0] <= 1 <= bounds[1]:
        fail("must be two numbers [low, high] with 0 < low <= 1 <= high", "seasonal_bounds")
    if not 0 < forecast.low_quantile < 0.5 < forecast.high_quantile < 1:
        fail("and high_quantile: 0 < low_quantile < 0.5 < high_quantile < 1", "low_quantile")
    if not 0 <= forecast.fallback_spread < 1:
        fail("is a share (0 <= spread < 1)", "fallback_spread")


def _is_days(path: tuple[str, ...], key: str) -> bool:
    """Whether the key ``key`` of section ``path`` holds a number of days."""
    words = key.split("_")
    return "days" in words or words[-1] == "dpd" or key == "overdue_bounds" or (
        path[-2:] in (("cadence", "wait_days"), ("cadence", "delay_days"))
    )  # fmt: skip


def _check_periods(section: Any, path: tuple[str, ...], file: str) -> None:
    """Every number of days of ``section`` (at ``path``; the whole policy at ``()``) is at most
    :data:`MAX_PERIOD_DAYS` and at least 1 (:data:`POSITIVE_DAYS`), -MAX_PERIOD_DAYS
    (:data:`SIGNED_DAYS_SECTIONS`) or 0; weeks at most MAX_PERIOD_DAYS // 7."""
    for item in fields(section):
        value, key = getattr(section, item.name), item.name
        if is_dataclass(value):
            _check_periods(value, (*path, key), file)
            continue
        dotted = ".".join((*path, key))
        if _is_days(path, key):
            low = 1 if dotted in POSITIVE_DAYS else 0
            low = -MAX_PERIOD_DAYS if ".".join(path) in SIGNED_DAYS_SECTIONS else low
            high, unit = MAX_PERIOD_DAYS, "days"
        elif key.endswith("_weeks"):
            low, high, unit = 1, MAX_PERIOD_DAYS // 7, "weeks"
        else:
            continue
        values = value if isinstance(value, tuple) else (value,)
        if any(not low <= v <= high for v in values):
            message = f"{_key(path, key)} must be between {low} and {high} {unit}, got {value!r}"
            raise InputError(Problem(message, file=file))


def _check(policy: Policy, file: str) -> None:
    bounds = policy.ageing.overdue_bounds
    if not bounds or any(b <= 0 for b in bounds) or list(bounds) != sorted(set(bounds)):
        raise InputError(
            Problem(
                "ageing.overdue_bounds must be positive, strictly increasing days",
                file=file,
                column="overdue_bounds",
            )
        )
    if policy.kpis.period_days <= 0:
        raise InputError(Problem("kpis.period_days must be > 0", file=file, column="period_days"))
    if policy.amounts.open_tolerance < 0:
        raise InputError(
            Problem("amounts.open_tolerance must be >= 0", file=file, column="open_tolerance")
        )
    _check_collections(policy, file)


def _check_model(model: Model, file: str) -> None:
    """The ``[model]`` section's values are in range (InputError naming the key otherwise)."""
    positive = ("horizon_days", "snapshot_every_days", "history_days", "test_weeks",
                "retrain_after_days", "calibration_bins")  # fmt: skip
    for key in positive:
        if getattr(model, key) <= 0:
            raise InputError(Problem(f"model.{key} must be > 0", file=file, column=key))
    for key in ("warmup_days", "backtest_origins"):
        if getattr(model, key) < 0:
            raise InputError(Problem(f"model.{key} must be >= 0", file=file, column=key))
    for key, high in (("random_state", MAX_RANDOM_STATE), ("calibration_bins", 1000),
                      ("backtest_origins", 52)):  # fmt: skip
        if not 0 <= getattr(model, key) <= high:
            raise InputError(Problem(f"[model] {key} must be between 0 and {high}", file=file))
    for key in ("reason_late_share", "reason_severe_late_share", "reason_partial_rate"):
        if not 0 <= getattr(model, key) <= 1:
            raise InputError(Problem(f"[model] {key} is a share (0-1)", file=file))
    for key in ("reason_min_settled", "reason_broken_promises", "reason_missed_instalments",
                "reason_open_disputes", "reason_credit_limit_use"):  # fmt: skip
        if getattr(model, key) < 0:
            raise InputError(Problem(f"[model] {key} must be >= 0", file=file))
    if model.calibration_method not in ("auto", "sigmoid", "isotonic"):
        raise InputError(
            Problem(
                'model.calibration_method must be "auto", "sigmoid" or "isotonic"',
                file=file,
                column="calibration_method",
            )
        )
    _check_model_fit(model, file)


def _check_model_fit(model: Model, file: str) -> None:
    """The fitting keys of ``[model]`` (grid, cross-validation, row caps) are in range."""
    from workbench.snapshots import NUMERIC_FEATURES

    def fail(message: str, key: str) -> None:
        raise InputError(Problem(f"model.{key} {message}", file=file, column=key))

    for key, low, high in (("cv_blocks", 2, 20), ("isotonic_min_rows", 0, 10**9),
                           ("search_rows", 1_000, 10**8), ("max_training_rows", 1_000, 10**9),
                           ("bootstrap_resamples", 0, 100_000)):  # fmt: skip
        if not low <= getattr(model, key) <= high:
            fail(f"must be between {low:,} and {high:,}", key)
    if not 0 < model.cv_share < 1:
        fail("must be in (0, 1)", "cv_share")
    if not 0 < model.learning_rate <= 1:
        fail("must be in (0, 1]", "learning_rate")
    if model.l2_regularization < 0:
        fail("must be >= 0", "l2_regularization")
    for key, low, high in (("grid_max_depth", 1, 12), ("grid_min_samples_leaf", 1, 100_000),
                           ("grid_max_iter", 1, 5_000)):  # fmt: skip
        values = getattr(model, key)
        if not values or not all(low <= v <= high for v in values):
            fail(f"must be a non-empty list of whole numbers from {low} to {high:,}", key)
        if len(set(values)) != len(values):
            fail("lists a value twice", key)
    unknown = [name for name in model.monotone_increasing if name not in NUMERIC_FEATURES]
    if unknown:
        fail(f"names unknown numeric features: {', '.join(unknown)}", "monotone_increasing")


def _check_collections(policy: Policy, file: str) -> None:
    """The sections of segments, cadence, contact, escalation, capacity, channels, risk fallback
    and drafts hold values in range and known names (InputError naming the key otherwise)."""

    def fail(message: str, key: str) -> None:
        raise InputError(Problem(message, file=file, column=key))

    segments = policy.segments
    for key in ("risk_band_cuts", "value_band_cuts"):
        cuts = getattr(segments, key)
        numeric = all(isinstance(c, int | float) and not isinstance(c, bool) for c in cuts)
        if len(cuts) != 2 or not numeric or not 0 <= cuts[0] < cuts[1]:
            fail(f"segments.{key} must be two increasing numbers >= 0", key)
    if segments.risk_band_cuts[1] > 1:
        fail("segments.risk_band_cuts are probabilities (0-1)", "risk_band_cuts")
    for key in ("difficulty_min_partial_rate", "disputing_min_dispute_rate",
                "chronic_min_share_late", "reliable_max_share_late"):  # fmt: skip
        if not 0 <= getattr(segments, key) <= 1:
            fail(f"segments.{key} is a share (0-1)", key)
    for key in ("new_max_tenure_days", "new_min_settled", "difficulty_silent_days",
                "difficulty_min_missed_instalments"):  # fmt: skip
        if getattr(segments, key) < 0:
            fail(f"segments.{key} must be >= 0", key)

    cadence = policy.cadence
    bounds = list(cadence.step_bounds.values())
    if bounds[0] < 1 or bounds != sorted(set(bounds)):
        fail("cadence step days past due must be >= 1, strictly increasing", "light_reminder_dpd")
    if cadence.pre_due_days < 0 or cadence.thank_you_days < 0:
        fail("cadence.pre_due_days and thank_you_days must be >= 0", "pre_due_days")
    if not 0 <= cadence.pre_due_min_probability <= 1:
        fail("cadence.pre_due_min_probability is a probability (0-1)", "pre_due_min_probability")
    if cadence.first_contact_max_step not in cadence.step_bounds:
        fail(
            f"cadence.first_contact_max_step must be one of {', '.join(cadence.step_bounds)}",
            "first_contact_max_step",
        )
    if cadence.repeat_after_days < 0:
        fail("cadence.repeat_after_days must be >= 0", "repeat_after_days")
    if not 0 <= cadence.short_payment_max_share <= 1:
        fail("cadence.short_payment_max_share is a share (0-1)", "short_payment_max_share")
    for step in ("pre_due", *cadence.step_bounds):
        if step != "formal_notice" and getattr(cadence.wait_days, step) < 0:
            fail(f"cadence.wait_days.{step} must be >= 0", step)

    contact = policy.contact
    if contact.max_per_week < 1 or contact.cap_window_days < 1:
        fail("contact.max_per_week and cap_window_days must be >= 1", "max_per_week")
    if contact.recent_payment_days < 0:
        fail("contact.recent_payment_days must be >= 0", "recent_payment_days")
    if contact.min_gap_days < 0 or contact.after_conversation_days < 0:
        fail("contact.min_gap_days and after_conversation_days must be >= 0", "min_gap_days")
    channels = ", ".join(ACTION_CHANNELS)
    if not set(contact.formal_channels) <= set(ACTION_CHANNELS):
        fail(f"contact.formal_channels must be among {channels}", "formal_channels")

    escalation = policy.escalation
    for key, allowed in (
        ("broken_promise_min_step", tuple(cadence.step_bounds)),
        ("broken_promise_channel", ACTION_CHANNELS),
        ("strategic_max_tone", TONES),
    ):
        if getattr(escalation, key) not in allowed:
            fail(f"escalation.{key} must be one of {', '.join(allowed)}", key)
    if not 0 <= escalation.agency_min_amount <= escalation.legal_min_amount:
        fail("escalation: 0 <= agency_min_amount <= legal_min_amount", "agency_min_amount")
    if escalation.handover_review_days < 1:
        fail("escalation.handover_review_days must be >= 1", "handover_review_days")
    for key in ("broken_promise_days", "notice_answer_days", "notice_postal_days"):
        if getattr(escalation, key) < 0:
            fail(f"escalation.{key} must be >= 0", key)
    if not 0 <= escalation.letter_min_amount <= escalation.formal_notice_min_amount:
        fail(
            "escalation: 0 <= letter_min_amount <= formal_notice_min_amount",
            "letter_min_amount",
        )
    if policy.amounts.small_balance < 0 or policy.worklist.watch_min_exposure < 0:
        fail("amounts.small_balance and worklist.watch_min_exposure must be >= 0", "small_balance")

    capacity = policy.capacity
    if capacity.default_calls_per_week < 0:
        fail("capacity.default_calls_per_week must be >= 0", "default_calls_per_week")
    for collector, calls in capacity.calls_per_week.items():
        if type(calls) is not int or calls < 0:
            fail(f"capacity.calls_per_week of {collector!r} must be a whole number >= 0", collector)
    for step in MESSAGE_STEPS:
        channel = getattr(capacity.fallback, step)
        if channel not in ACTION_CHANNELS or channel == "phone":
            fail(f"capacity.fallback.{step} must be an automated channel, not {channel!r}", step)

    for segment in ("default", *SEGMENTS):
        row = getattr(policy.channels, segment)
        for step in MESSAGE_STEPS:
            value = getattr(row, step)
            if segment == "default" and not value:
                fail(f"channels.default.{step} must be set", step)
            known = len(value) == 2 and value[0] in ACTION_CHANNELS and value[1] in TONES
            if value and not known:
                fail(
                    f"channels.{segment}.{step} must be [channel, tone] with a channel among "
                    f"{channels} and a tone among {', '.join(TONES)}",
                    step,
                )

    risk = policy.risk_fallback
    if not 0 <= risk.minimum <= risk.maximum <= 1:
        fail("risk_fallback: 0 <= minimum <= maximum <= 1", "minimum")

    drafts = policy.drafts
    languages = [drafts.default_language, *drafts.country_languages.values()]
    if any(language not in LANGUAGES for language in languages):
        fail(f"drafts languages must be among {', '.join(LANGUAGES)}", "country_languages")
    if policy.team.language not in TEAM_LANGUAGES:
        fail(f"team.language must be one of {', '.join(TEAM_LANGUAGES)}", "language")
    _check_sender_and_penalties(policy, fail)


def _check_sender_and_penalties(policy: Policy, fail: Any) -> None:
    """``[sender]`` names a company and a way to pay; ``[penalties]`` values are in range."""
    sender = policy.sender
    for key in ("company", "short_name", "address"):
        if not getattr(sender, key).strip():
            fail(f"sender.{key} must be set: every draft is signed with it", key)
    if not (sender.iban.strip() or sender.payment_link.strip()):
        fail("sender.iban or sender.payment_link must be set: every draft says how to pay", "iban")
    if not (sender.phone.strip() or sender.payment_link.strip()):
        fail("sender.phone or sender.payment_link must be set: the SMS gives one", "phone")
    if len(sender.short_name) > 30:
        fail("sender.short_name must be at most 30 characters: it opens every SMS", "short_name")
    if any(type(v) is not str for v in sender.signatures.values()):
        fail("sender.signatures maps a collector to its signature line (text)", "signatures")
    penalties = policy.penalties
    if not 0 <= penalties.rate_percent <= 100:
        fail("penalties.rate_percent is a yearly rate in % (0-100)", "rate_percent")
    if penalties.day_count not in (360, 365):
        fail("penalties.day_count must be 360 or 365", "day_count")
    if penalties.indemnity < 0:
        fail("penalties.indemnity must be >= 0", "indemnity")
    if not set(penalties.customer_types) <= set(CUSTOMER_TYPES):
        fail(
            f"penalties.customer_types must be among {', '.join(CUSTOMER_TYPES)}", "customer_types"
        )
    if not set(penalties.mention_steps) <= set(MESSAGE_STEPS):
        fail(f"penalties.mention_steps must be among {', '.join(MESSAGE_STEPS)}", "mention_steps")


DEFAULT_POLICY = Policy()
