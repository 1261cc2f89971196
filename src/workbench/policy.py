"""The collections policy: business thresholds read from TOML, with documented defaults.

The defaults ship in ``workbench/policy.toml``; a user file overrides any subset of its keys.
Unknown sections or keys are an input error, so a typo never silently keeps a default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, is_dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from workbench.errors import InputError, Problem


@dataclass(frozen=True)
class Amounts:
    open_tolerance: float = 0.01


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
class Policy:
    amounts: Amounts = field(default_factory=Amounts)
    ageing: Ageing = field(default_factory=Ageing)
    kpis: Kpis = field(default_factory=Kpis)
    behaviour: Behaviour = field(default_factory=Behaviour)


def _section(cls: type, values: dict[str, Any], where: str, file: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise InputError(Problem(f"unknown policy key {where}.{key}", file=file, column=key))
        default = getattr(cls(), key)
        if is_dataclass(default):
            kwargs[key] = _section(type(default), value, f"{where}.{key}", file)
        elif isinstance(default, tuple):
            if not isinstance(value, list):
                raise InputError(Problem(f"{where}.{key} must be a list", file=file, column=key))
            kwargs[key] = tuple(value)
        else:
            kwargs[key] = _scalar(value, default, f"{where}.{key}", file, key)
    return cls(**kwargs)


def _scalar(value: Any, default: Any, where: str, file: str, key: str) -> Any:
    """``value`` checked against the type of ``default`` (an int is accepted for a float)."""
    expected = type(default)
    ok = type(value) is expected or (expected is float and type(value) is int)
    if not ok:
        raise InputError(
            Problem(f"{where} must be {expected.__name__}, got {value!r}", file=file, column=key)
        )
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
    """The default policy, overridden by the TOML file at ``path`` when given."""
    values = tomllib.loads(default_policy_text())
    file = "policy.toml (default)"
    if path is not None:
        file = str(path)
        try:
            override = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(Problem("policy file not found", file=file)) from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(Problem(f"not valid TOML: {exc}", file=file)) from None
        values = _merged(values, override)
    policy = _section(Policy, values, "policy", file)
    _check(policy, file)
    return policy


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


DEFAULT_POLICY = Policy()
