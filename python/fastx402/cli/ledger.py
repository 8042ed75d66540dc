"""``fastx402 ledger``: the agent's spending, from its ledger (``fastx402.client.Ledger``):
statements per day/host/tool/user, CSV/JSON export, and a spend-over-time chart (PNG)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from fastx402.cli._common import CliError, Parser, print_json
from fastx402.cli._inputs import add_ledger_option, ledger_url

CHART_EXTRA = "fastx402[chart]"
BYS = ("day", "host", "tool", "user", "agent", "asset")


def add_parser(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser(
        "ledger",
        help="statements, exports and a spend chart from the agent's ledger",
        description="Read the agent's ledger (what `fastx402 pay` and the paying clients record).",
    )
    add_ledger_option(p)
    sub = p.add_subparsers(dest="ledger_command", metavar="SUBCOMMAND", parser_class=Parser)
    sub.required = True
    s = sub.add_parser("statement", help="spend per day, host, tool, user, agent or asset")
    s.add_argument("--by", choices=BYS, default="day")
    s.add_argument("--json", action="store_true", help="print JSON")
    add_ledger_option(s, inherit=True)
    s.set_defaults(run=statement)
    e = sub.add_parser("export", help="every ledger record as CSV or JSON")
    e.add_argument("--format", choices=("csv", "json"), default="csv")
    e.add_argument("-o", "--output", type=Path, metavar="FILE", help="default: stdout")
    e.add_argument("--force", action="store_true", help="overwrite an existing FILE")
    add_ledger_option(e, inherit=True)
    e.set_defaults(run=export)
    c = sub.add_parser("chart", help="spend over time as a PNG (needs fastx402[chart])")
    c.add_argument("-o", "--output", type=Path, metavar="FILE", required=True)
    c.add_argument("--by", choices=("day",), default="day")
    c.add_argument("--force", action="store_true", help="overwrite an existing FILE")
    add_ledger_option(c, inherit=True)
    c.set_defaults(run=chart)


def _ledger(args: argparse.Namespace) -> Any:
    from fastx402.client import Ledger

    url = ledger_url(args, must_exist=True)
    try:
        return Ledger(url)
    except ValueError as e:
        raise CliError(f"--ledger: {e}") from None


def _lines(args: argparse.Namespace, by: str) -> list[Any]:
    ledger = _ledger(args)
    try:
        lines: list[Any] = ledger.statement(by)
    finally:
        ledger.close()
    return lines


def statement(args: argparse.Namespace) -> int:
    lines = _lines(args, args.by)
    settled = sum((line.settled for line in lines), Decimal(0))
    unknown = sum((line.unknown for line in lines), Decimal(0))
    if args.json:
        print_json(
            {
                "by": args.by,
                "lines": [
                    {
                        "key": line.key,
                        "settled": str(line.settled),
                        "unknown": str(line.unknown),
                        "payments": line.payments,
                        "not_charged": line.not_charged,
                    }
                    for line in lines
                ],
                "total": {"settled": str(settled), "unknown": str(unknown)},
            }
        )
        return 0
    width = max([len(args.by), 5, *(len(line.key) for line in lines)])
    print(f"{args.by:<{width}}  {'settled':>12}  {'unknown':>12}  payments  not charged")
    for line in lines:
        print(
            f"{line.key:<{width}}  {line.settled:>12}  {line.unknown:>12}  "
            f"{line.payments:>8}  {line.not_charged:>11}"
        )
    print(f"{'total':<{width}}  {settled:>12}  {unknown:>12}")
    if unknown:
        print("unknown: may have been charged; reconcile before trusting the total")
    return 0


def _open_output(path: Path, force: bool, binary: bool = False) -> IO[Any]:
    try:
        return open(path, ("w" if force else "x") + ("b" if binary else ""))
    except FileExistsError:
        raise CliError(f"{path} exists: pass --force to overwrite it") from None
    except OSError as e:
        raise CliError(f"cannot write {path} ({e.strerror})") from None


def export(args: argparse.Namespace) -> int:
    ledger = _ledger(args)
    try:
        text: str = ledger.export_csv() if args.format == "csv" else ledger.export_json()
    finally:
        ledger.close()
    if args.output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return 0
    with _open_output(args.output, args.force) as f:
        f.write(text)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def chart(args: argparse.Namespace) -> int:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, never a window
        from matplotlib import dates, pyplot
    except ImportError:
        raise CliError(f"the chart needs matplotlib: pip install '{CHART_EXTRA}'") from None
    ledger = _ledger(args)
    try:
        lines = ledger.statement("day")
        symbols = sorted({str(p.get("symbol") or p["asset"]) for p in ledger.payments()})
    finally:
        ledger.close()
    days = [(date.fromisoformat(line.key), line.settled + line.unknown) for line in lines]
    days = [(d, spent) for d, spent in days if spent > 0]
    if not days:
        raise CliError("the ledger holds no spending to chart")
    total = sum((spent for _, spent in days), Decimal(0))
    unit = " + ".join(symbols)
    figure, axes = pyplot.subplots(figsize=(8, 4.5), dpi=100)
    # Floats only to draw; the exact total (a Decimal) is what the file states.
    x = dates.date2num([d for d, _ in days])  # type: ignore[no-untyped-call]
    axes.bar(x, [float(s) for _, s in days], width=0.8, label="per day")
    running = Decimal(0)
    cumulative = []
    for _, spent in days:
        running += spent
        cumulative.append(float(running))
    axes.plot(x, cumulative, marker="o", color="tab:orange", label="cumulative")
    axes.xaxis_date()
    axes.set_title(f"fastx402 spend per day: total {total} {unit}")
    axes.set_ylabel(unit)
    axes.legend()
    figure.autofmt_xdate()
    figure.tight_layout()
    with _open_output(args.output, args.force, binary=True) as f:
        figure.savefig(
            f,
            format="png",
            metadata={
                "Title": "fastx402 spend over time",
                "Description": f"total {total} {unit} over {len(days)} day(s)",
                "Total": str(total),
                "Software": "fastx402",
            },
        )
    pyplot.close(figure)
    print(f"wrote {args.output}: total {total} {unit} over {len(days)} day(s)", file=sys.stderr)
    return 0
