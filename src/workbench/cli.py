"""The ``workbench`` command line (DESIGN section 10).

Exit status: 0 on success, 2 on bad input (the message names the file, table, row and column),
1 on an internal error. Built on click; heavy modules are imported by the command that needs them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from workbench.errors import InputError

if TYPE_CHECKING:
    from workbench.policy import Policy
    from workbench.sources import SourceOptions

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 12, 31)
"""Dates the command line accepts (``--as-of``, ``--from``, ``--start``...): the range the data
may hold too. A technical limit, not a business rule: date arithmetic (an as-of date minus ten
years of history, plus a horizon) must stay inside what Python and polars represent, and
``0001-01-01`` or ``9999-12-31`` are typos, not dates a receivables team works on."""

MAX_GENERATED_CUSTOMERS = 1_000_000
"""``generate --customers`` at most: the synthetic portfolio is built in memory."""

MAX_GENERATED_INVOICES = 20_000_000
"""``generate`` refuses a portfolio of more invoices than this (about 2 per customer per month
over the period): with their payments and contacts it would not fit in memory (tens of GB)."""


class IsoDate(click.DateTime):
    """A date written ``YYYY-MM-DD`` between :data:`EARLIEST_DATE` and :data:`LATEST_DATE`
    (a :class:`datetime` at midnight, like ``click.DateTime``)."""

    name = "date"

    def __init__(self) -> None:
        super().__init__(formats=["%Y-%m-%d"])

    def get_metavar(self, *args: Any, **kwargs: Any) -> str:
        return "YYYY-MM-DD"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        try:
            converted = super().convert(value, param, ctx)
        except click.BadParameter:
            self.fail(f"{value!r} is not a date written YYYY-MM-DD (e.g. 2026-11-20)", param, ctx)
        if not EARLIEST_DATE <= converted.date() <= LATEST_DATE:
            self.fail(
                f"{value!r} is outside the dates the workbench handles ({EARLIEST_DATE} to "
                f"{LATEST_DATE})",
                param,
                ctx,
            )
        return converted


ISO_DATE = IsoDate()


def check_output(out: Path, *, folder: bool) -> None:
    """Refuse (:class:`InputError` naming the path) an ``--out`` that cannot be written, before
    any work: a folder where a file is wanted, a file where a folder is wanted, a path under a
    file, or a folder this process may not write in (read-only, permission denied)."""
    if not folder and out.is_dir():
        raise InputError(f"--out {out} is a directory; give a file name")
    if folder and out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; give a folder")
    target = out.absolute()
    existing = target if folder and target.is_dir() else None
    if existing is None:
        existing = next(p for p in target.parents if p.exists() or p == p.parent)
    if not existing.is_dir():
        raise InputError(f"--out {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(
            f"--out {out}: cannot write in {existing} (permission denied or read-only)"
        )


def check_not_an_input(out: Path, data: str, suffix: str | None = None) -> None:
    """Refuse an output file ``out`` that would overwrite or shadow the data it is computed
    from: a name not ending in ``suffix`` (when given), an existing file of the ``--data`` folder (or the
    workbook / database file itself), or a canonical table name inside the ``--data`` folder
    (``customers.parquet`` beside ``customers.csv`` blocks the next run)."""
    from workbench.schema import TABLES

    if suffix is not None and out.suffix.lower() != suffix:
        raise InputError(f"--out {out}: the file name must end in {suffix}")
    if data.startswith(("duckdb://", "sqlite://")):
        from workbench.databases import database_path

        source = database_path(data)  # the same reading of the URI as the loader's
    elif "://" in data:
        return  # a database server: no file of ours to overwrite
    else:
        source = Path(data)
    target = out.absolute()
    inputs = {source.absolute()}
    if source.is_dir():
        inputs |= {path.absolute() for path in source.iterdir()}
    if target in inputs or (target.parent == source.absolute() and out.stem.lower() in TABLES):
        raise InputError(
            f"--out {out} is (or would shadow) an input of --data {data}: write it elsewhere"
        )


def _names_output(exc: OSError, out: Path) -> bool:
    """Whether ``exc`` is about ``out``: the path itself, a folder above it, anything inside it,
    or a temporary sibling ``.<name>...`` of the atomic writers."""
    target = out.absolute()
    for name in (exc.filename, exc.filename2):
        if name is None or isinstance(name, int):
            continue
        path = Path(os.fsdecode(name)).absolute()
        if path == target or path in target.parents or target in path.parents:
            return True
        if path.parent == target.parent and path.name.startswith(f".{target.name}"):
            return True
    return False


@contextlib.contextmanager
def output_errors(out: Path) -> Iterator[None]:
    """Turn an :class:`OSError` about the output path ``out`` (see :func:`_names_output`:
    permission denied, read-only file system, disk full, a path under a file) raised in the block
    into an :class:`InputError` naming it; any other error passes through unchanged."""
    try:
        yield
    except OSError as exc:
        if not _names_output(exc, out):
            raise
        culprit = exc.filename if exc.filename is not None else out
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"cannot write --out {out}: {reason} ({os.fsdecode(culprit)})") from None


def data_option(command):
    """``--data SRC`` and the options that say how to read it (``--mapping``, ``--encoding``,
    ``--dialect``), passed to the command as ``data`` (str) and ``source``
    (:class:`workbench.sources.SourceOptions`)."""
    import functools

    @click.option(
        "--data",
        "data",
        required=True,
        help="Data source: a folder of CSV or Parquet files named after the tables, an .xlsx "
        "workbook with a sheet per table, or duckdb:///file.duckdb, sqlite:///file.db, "
        "postgresql://user@host/db.",
    )
    @click.option(
        "--mapping",
        "mapping",
        type=click.Path(path_type=Path),
        default=None,
        help="Column-mapping file (TOML) for a source whose tables or columns are named "
        "otherwise (examples/mappings/).",
    )
    @click.option(
        "--encoding",
        "encoding",
        default=None,
        help="Text encoding of the CSV files (utf-8, cp1252, latin-1) [default: detected: "
        "UTF-8 with or without BOM, else Windows-1252 with a warning].",
    )
    @click.option(
        "--dialect",
        "dialect",
        type=click.Choice(["fr", "iso"]),
        default=None,
        help="Numbers and dates written as text: fr = 1 234,56 and 31/12/2026; iso = 1234.56 "
        "and 2026-12-31 [default: detected where unambiguous].",
    )
    @functools.wraps(command)
    def wrapper(*args, mapping=None, encoding=None, dialect=None, **kwargs):
        from workbench.sources import SourceOptions

        source = SourceOptions(mapping=mapping, encoding=encoding, dialect=dialect)
        return command(*args, source=source, **kwargs)

    return wrapper


as_of_option = click.option(
    "--as-of",
    "as_of",
    required=True,
    type=ISO_DATE,
    help="As-of date (YYYY-MM-DD): nothing dated after it is visible.",
)
policy_option = click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Policy file (TOML) overriding the shipped defaults.",
)
TEAM_LANGUAGES = ("en", "fr")
"""Choices of ``--lang`` (:data:`workbench.policy.TEAM_LANGUAGES`, not imported here: the
command line imports no heavy module before a command runs)."""
lang_option = click.option(
    "--lang",
    "lang",
    type=click.Choice(TEAM_LANGUAGES),
    default=None,
    help="Language of the team's outputs: reasons, headers, numbers and dates (en: 1,234.56 "
    "and 2026-11-20; fr: 1 234,56 and 20/11/2026) [default: policy team.language, en].",
)


def team_policy(policy_file: Path | None, lang: str | None) -> Policy:
    """The policy of ``policy_file`` (shipped defaults when None), its team language replaced
    by ``lang`` when given."""
    import dataclasses

    from workbench.policy import Team, load_policy

    policy = load_policy(policy_file)
    return policy if lang is None else dataclasses.replace(policy, team=Team(language=lang))


def warn_if_fictitious_sender(policy: Policy) -> None:
    """A note on stderr when the drafts would be signed by the shipped fictitious company."""
    from workbench.policy import Sender

    if policy.sender == Sender():
        click.echo(
            f"note: the drafts are signed by the shipped fictitious company "
            f"({policy.sender.company}, IBAN {policy.sender.iban}): set [sender] in your policy "
            "file before sending them (README: 'Your company in the drafts').",
            err=True,
        )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="workbench")
def cli() -> None:
    """Collections workbench: receivables KPIs, risk, actions and worklists, as of a date."""


@cli.command()
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option(
    "--customers",
    default=400,
    show_default=True,
    type=click.IntRange(min=1, max=MAX_GENERATED_CUSTOMERS),
)
@click.option("--seed", default=7, show_default=True, type=click.IntRange(min=0))
@click.option("--start", default="2024-11-01", show_default=True, type=ISO_DATE)
@click.option("--end", default="2026-11-20", show_default=True, type=ISO_DATE)
def generate(out: Path, customers: int, seed: int, start: datetime, end: datetime) -> None:
    """Write a synthetic portfolio (Parquet, every table) and its hidden ground truth."""
    from workbench.generate import generate_portfolio, write_portfolio

    if end <= start:
        raise InputError("--end must be after --start")
    invoices = 2 * customers * (end - start).days / 30.4  # about 2 per customer per month
    if invoices > MAX_GENERATED_INVOICES:
        raise InputError(
            f"--customers {customers} from {start.date()} to {end.date()} would make about "
            f"{invoices:,.0f} invoices, more than {MAX_GENERATED_INVOICES:,} fit in memory: give "
            "fewer customers or a shorter period"
        )
    check_output(out, folder=True)
    tables = generate_portfolio(customers=customers, seed=seed, start=start.date(), end=end.date())
    with output_errors(out):
        paths = write_portfolio(tables, out)
    for path in paths:
        rows = tables[path.stem].height if path.stem in tables else ""
        click.echo(f"{path}  {rows} rows")


@cli.command()
@data_option
@as_of_option
@policy_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@lang_option
def kpis(
    data: str,
    source: SourceOptions,
    as_of: datetime,
    policy_file: Path | None,
    as_json: bool,
    lang: str | None,
) -> None:
    """Receivables KPIs as of a date: AR, ageing, DSO, best possible DSO, ADD, CEI."""
    from workbench.kpis import portfolio_kpis
    from workbench.load import load_portfolio

    policy = team_policy(policy_file, lang)
    result = portfolio_kpis(load_portfolio(data, source), as_of.date(), policy)
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        click.echo(kpi_table(result, policy.team.language))


def kpi_table(result: dict, language: str = "en") -> str:
    """The KPIs as a readable two-column text table, in ``language`` (labels, numbers, dates:
    :data:`workbench.phrases.KPI_LABELS`)."""
    from workbench.phrases import KPI_LABELS
    from workbench.wording import number_text

    say = KPI_LABELS[language]
    currency = result.get("currency") or ""
    space = " " if language == "en" else "\u00a0"

    def money(value: float | None) -> str:
        """An amount in the reporting currency."""
        return (
            say["na"]
            if value is None
            else f"{number_text(value, 2, language)}{space}{currency}".strip()
        )

    def days(value: float | None) -> str:
        """A number of days, one decimal."""
        return (
            say["na"]
            if value is None
            else say["days"].format(value=number_text(value, 1, language))
        )

    def bucket(name: str) -> str:
        """An ageing bucket name (``not yet due``, ``1-30``, ``over 120``) in words."""
        if name == "not yet due":
            return say["not_due"]
        return say["over"].format(days=name[5:]) if name.startswith("over ") else name

    as_of = str(result["as_of"])
    if language != "en":
        as_of = datetime.strptime(as_of, "%Y-%m-%d").strftime("%d/%m/%Y")
    rows: list[tuple[str, str]] = [
        (say["as_of"], as_of),
        (say["total_ar"], money(result["total_ar"])),
        (say["overdue_ar"], money(result["overdue_ar"])),
        (say["open_invoices"], number_text(result["open_invoices"], 0, language)),
        (say["customers"], number_text(result["customers_with_balance"], 0, language)),
    ]
    rows += [(say["ageing"].format(bucket=bucket(name)), money(amount))
             for name, amount in result["ageing"].items()]  # fmt: skip
    period = result.get("period_days")
    cei = result["cei"]
    rows += [
        (say["dso_standard"].format(period=period), days(result["dso_standard"])),
        (say["dso_countback"], days(result["dso_countback"])),
        (say["best_dso"], days(result["best_possible_dso"])),
        (say["add"], days(result["add"])),
        (say["cei"].format(period=period),
         say["na"] if cei is None else say["percent"].format(value=number_text(cei, 1, language))),
    ]  # fmt: skip
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value:>24}" for label, value in rows)


@cli.command()
@data_option
@as_of_option
@policy_option
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output Parquet file.")
def features(
    data: str, source: SourceOptions, as_of: datetime, policy_file: Path | None, out: Path
) -> None:
    """Per-customer payment-behaviour features as of a date, written to Parquet."""
    from workbench.features import customer_features
    from workbench.files import atomic_file
    from workbench.load import load_portfolio
    from workbench.policy import load_policy

    check_output(out, folder=False)
    check_not_an_input(out, data, ".parquet")
    policy = load_policy(policy_file)
    frame = customer_features(load_portfolio(data, source), as_of.date(), policy).collect()
    with output_errors(out), atomic_file(out) as tmp:
        frame.write_parquet(tmp)
    click.echo(f"{out}  {frame.height} customers, {frame.width} columns")


@cli.command()
@data_option
@as_of_option
@click.option(
    "--model",
    "model_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Risk model (workbench train). Without it, a documented fallback probability from days "
    "past due and payment behaviour.",
)
@policy_option
@lang_option
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder: the run replaces its own files and keeps any other file: "
    "worklist.xlsx, worklist.csv, excluded.csv, "
    "watchlist.csv.",
)
@click.option(
    "--outcomes",
    "outcomes",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Outcomes folder (workbench outcomes) loaded with the data: the contacts, promises, "
    "disputes and follow-ups the collectors recorded. Repeatable.",
)
def worklist(
    data: str,
    source: SourceOptions,
    as_of: datetime,
    model_file: Path | None,
    policy_file: Path | None,
    lang: str | None,
    out: Path,
    outcomes: tuple[Path, ...] = (),
) -> None:
    """Prioritized worklist of the collectors as of a date, with message drafts."""
    from workbench.export import check_out_dir, write_worklist
    from workbench.load import load_portfolio
    from workbench.worklist import build_worklist

    check_output(out, folder=True)
    check_out_dir(out)
    policy = team_policy(policy_file, lang)
    warn_if_fictitious_sender(policy)
    portfolio = load_portfolio(data, source, outcomes=outcomes)
    scores = None
    if model_file is not None:
        from workbench.model import check_trained_by, load_model, score

        model = load_model(model_file)
        check_trained_by(model, as_of.date(), str(model_file))
        scores = score(model, portfolio, as_of.date(), policy)
    result = build_worklist(portfolio, as_of.date(), policy, scores)
    with output_errors(out):
        written = write_worklist(result, out)
    for path in written:
        click.echo(str(path))
    click.echo(
        f"{result.rows.height} actions, {result.excluded.height} customers excluded "
        f"({'model' if scores is not None else 'fallback'} probabilities)"
    )


@cli.command()
@data_option
@as_of_option
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Model file to write (skops); its metadata is also written beside it as MODEL.json.",
)
@click.option(
    "--horizon",
    type=click.IntRange(min=1, max=3650),
    default=None,
    help="Horizon of the label, in days: still open this many days after the snapshot "
    "[default: policy model.horizon_days, 30].",
)
@click.option(
    "--cutoff",
    type=ISO_DATE,
    default=None,
    help="Training cut-off (YYYY-MM-DD): training snapshots s have s + horizon <= cutoff, test "
    "snapshots s > cutoff [default: as-of - horizon - policy model.test_weeks weeks].",
)
@policy_option
@click.option("--quiet", is_flag=True, help="No progress bar (it is written to standard error).")
def train(
    data: str,
    source: SourceOptions,
    as_of: datetime,
    out: Path,
    horizon: int | None,
    cutoff: datetime | None,
    policy_file: Path | None,
    quiet: bool,
) -> None:
    """Train the late-payment risk model; print its out-of-time evaluation as one JSON object."""
    from workbench.load import load_portfolio
    from workbench.model import save_model, train_model
    from workbench.policy import load_policy
    from workbench.progress import Steps

    check_output(out, folder=False)
    check_not_an_input(out, data)
    policy = load_policy(policy_file)
    portfolio = load_portfolio(data, source)
    with Steps("train", enabled=not quiet) as progress:
        model, report = train_model(
            portfolio,
            as_of.date(),
            policy,
            horizon_days=horizon,
            cutoff=None if cutoff is None else cutoff.date(),
            progress=progress,
        )
    with output_errors(out):
        sidecar = save_model(model, out)
    report = {**report, "model": str(out), "metadata": str(sidecar)}
    click.echo(json.dumps(report, indent=2, ensure_ascii=False))


@cli.command()
@data_option
@as_of_option
@policy_option
@click.option(
    "--out",
    default="reports",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Reports folder; the run writes <out>/<ISO year>-W<week>/.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@lang_option
def weekly(
    data: str,
    source: SourceOptions,
    as_of: datetime,
    policy_file: Path | None,
    out: Path,
    quiet: bool,
    lang: str | None,
) -> None:
    """The weekly run: model, worklist exports, the managers' HTML report and a manifest."""
    from workbench.weekly import run_weekly

    check_output(out, folder=True)
    warn_if_fictitious_sender(team_policy(policy_file, lang))
    with output_errors(out):
        result = run_weekly(data, as_of.date(), out=out, policy_file=policy_file, progress=not quiet,
                            source=source, echo=click.echo, language=lang)  # fmt: skip
    click.echo(result.summary())


@cli.command()
@click.option(
    "--worklist",
    "worklist_file",
    required=True,
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="A call sheet (worklist.xlsx) the collectors filled in.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder: contacts.csv, promises.csv, disputes.csv, follow_ups.csv (other files "
    "kept).",
)
def outcomes(worklist_file: Path, out: Path) -> None:
    """Read what the collectors filled in a call sheet: contacts, promises, disputes and
    follow-ups as CSV files that `worklist --outcomes` and `weekly` load with the data."""
    from workbench.outcomes import read_outcomes, write_outcomes

    check_output(out, folder=True)
    result = read_outcomes(worklist_file)
    with output_errors(out):
        written = write_outcomes(result, out)
    for text in result.warnings:
        click.echo(f"warning: {text}", err=True)
    for path in written:
        click.echo(str(path))
    counts = result.counts()
    click.echo(
        f"{counts['rows_read']} filled rows: {counts['contact_rows']} contacts "
        f"({counts['contacts']} records, one per invoice of the action), "
        f"{counts['promises']} promises, {counts['disputes']} disputes, "
        f"{counts['follow_ups']} follow-ups"
    )


@cli.command()
@data_option
@click.option("--from", "start", required=True, type=ISO_DATE, help="First week (YYYY-MM-DD).")
@click.option("--to", "end", required=True, type=ISO_DATE, help="Last day (YYYY-MM-DD).")
@policy_option
@lang_option
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder: the run replaces its own files and keeps any other file: "
    "weeks.csv, actions.csv, contacts.csv, "
    "violations.csv, per_customer.csv, summary.json.",
)
def replay(
    data: str,
    source: SourceOptions,
    start: datetime,
    end: datetime,
    policy_file: Path | None,
    lang: str | None,
    out: Path,
) -> None:
    """Run the recommendation every week on history, feeding each week's actions back as
    contacts; report actions, contacts per customer, governance violations, amount chased
    (the reasons in actions.csv in the team's language)."""
    from workbench.load import load_portfolio
    from workbench.replay import write_replay

    if end < start:
        raise InputError("--to must not be before --from")
    check_output(out, folder=True)
    policy = team_policy(policy_file, lang)
    portfolio = load_portfolio(data, source)
    with output_errors(out):
        summary = write_replay(portfolio, start.date(), end.date(), policy, out, echo=click.echo)
    click.echo(json.dumps(summary, indent=2))


def _show_input_warnings() -> None:
    """Print each :class:`InputWarning` once as ``warning: ...`` on stderr; other warnings as
    Python prints them."""
    import warnings

    from workbench.errors import InputWarning

    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, InputWarning):
            click.echo(f"warning: {message}", err=True)
        else:
            default(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    warnings.simplefilter("default", InputWarning)


def _show_usage_error(exc: click.UsageError) -> None:
    """A usage error on stderr, the problem on the first line (``error: Missing option
    '--as-of'.``), then the command's usage and where to find help."""
    ctx = exc.ctx
    if isinstance(exc, click.exceptions.NoArgsIsHelpError) and ctx is not None:
        commands = ", ".join(getattr(ctx.command, "commands", {}))
        click.echo(f"error: no command given: one of {commands}", err=True)
    else:
        click.echo(f"error: {exc.format_message()}", err=True)
    if ctx is not None:
        click.echo(ctx.get_usage(), err=True)
        click.echo(f"Try '{ctx.command_path} {ctx.help_option_names[-1]}' for help.", err=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the command and maps errors to exit codes (2 bad input, 1 internal)."""
    import warnings

    try:
        with warnings.catch_warnings():
            _show_input_warnings()
            cli.main(args=argv, prog_name="workbench", standalone_mode=False)
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.UsageError as exc:
        _show_usage_error(exc)
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the one place that turns crashes into exit 1
        click.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
        if os.environ.get("WORKBENCH_DEBUG"):
            traceback.print_exc()
        else:
            click.echo("(set WORKBENCH_DEBUG=1 for the traceback)", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
