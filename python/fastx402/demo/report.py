"""What the demo shows a person: progress while things start, each step, every receipt, balances
and a one-screen summary. ``rich`` draws spinners on a terminal and plain lines otherwise;
:class:`Quiet` shows nothing (``--json`` prints one document at the end instead)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape


class Phase:
    """A step in progress; set ``result`` to say what it produced (shown instead of its name)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.result: str | None = None


class Quiet:
    """The reporter of ``--json``: nothing on stdout until the final document."""

    @contextlib.contextmanager
    def phase(self, text: str) -> Iterator[Phase]:
        yield Phase(text)

    def done(self, text: str) -> None: ...
    def section(self, title: str) -> None: ...
    def note(self, who: str, text: str) -> None: ...
    def receipt(self, row: Mapping[str, Any]) -> None: ...
    def refusal(self, row: Mapping[str, Any]) -> None: ...
    def skipped(self, text: str) -> None: ...
    def balances(self, title: str, rows: Sequence[Mapping[str, Any]]) -> None: ...
    def summary(self, data: Mapping[str, Any]) -> None: ...

    def serving(self, env: Mapping[str, str]) -> None:
        # --json --serve: the one line a script waits for, before the final document.
        print(json.dumps({"serving": dict(env)}), flush=True)


class Human(Quiet):
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False, soft_wrap=True)

    def print(self, text: str) -> None:
        self.console.print(text)

    @contextlib.contextmanager
    def phase(self, text: str) -> Iterator[Phase]:
        """A spinner while the step runs (on a terminal); then one line, ✓ or ✗."""
        t0 = time.perf_counter()
        step = Phase(text)
        status: Any = (
            self.console.status(f"{escape(text)}…", spinner="dots")
            if self.console.is_terminal
            else contextlib.nullcontext()
        )
        try:
            with status:
                yield step
        except BaseException:
            self.print(f"  [red]✗[/] {escape(text)}")
            raise
        took = time.perf_counter() - t0
        self.print(f"  [green]✓[/] {escape(step.result or text)} [dim]{took:.2f} s[/]")

    def done(self, text: str) -> None:
        self.print(f"  [green]✓[/] {escape(text)}")

    def section(self, title: str) -> None:
        self.print(f"\n[bold]{escape(title)}[/]")

    def note(self, who: str, text: str) -> None:
        self.print(f"  [cyan]{escape(who)}[/] {escape(text)}")

    def skipped(self, text: str) -> None:
        self.print(f"  [yellow]skipped[/] {escape(text)}")

    def receipt(self, row: Mapping[str, Any]) -> None:
        self.print(
            f"  [cyan]{escape(row['agent'])}[/] [green]paid[/] {row['route']} "
            f"[bold]{row['price']} {row['symbol']}[/] → {escape(row['content'])}"
        )
        self.print(
            f"      receipt: {row['payer']} → {row['pay_to']}\n"
            f"               tx {row['transaction']}\n"
            f"               block {row['block']}, gas {row['gas_used']:,}, "
            f"latency {row['latency_ms']:.0f} ms"
        )

    def refusal(self, row: Mapping[str, Any]) -> None:
        phase = f" (ledger: {row['ledger_phase']})" if row.get("ledger_phase") else ""
        self.print(
            f"  [cyan]{escape(row['agent'])}[/] [red]refused[/] {row['route']}: "
            f"{escape(row['reason'])} — nothing signed or paid{phase}"
        )

    def balances(self, title: str, rows: Sequence[Mapping[str, Any]]) -> None:
        self.section(title)
        for r in rows:
            change = f"  [dim]({r['change']})[/]" if r.get("change") else ""
            self.print(f"  {r['who']:<15} {r['address']}  {r['balance']:>14} {r['unit']}{change}")

    def serving(self, env: Mapping[str, str]) -> None:
        self.section("Serving until Ctrl-C: in another shell, paste these and pay it yourself")
        self.print("  [dim]# throwaway keys on a local test chain, printed because --serve asks[/]")
        for name, value in env.items():
            self.print(f"  export {name}={escape(value)}")

    def summary(self, data: Mapping[str, Any]) -> None:
        s = data["summary"]
        checks = data["checks"]
        self.section("Summary")
        lines = [
            f"payments      {s['payments']} ({', '.join(s['by_agent'])})",
            f"total paid    {s['total_paid']} {s['symbol']}",
            f"gas/payment   {s['gas_per_payment']['mean']:,} mean, "
            f"{s['gas_per_payment']['min']:,}-{s['gas_per_payment']['max']:,} "
            f"(paid by the facilitator: {s['gas_eth']} ETH in all)",
            f"latency/call  p50 {s['latency_ms']['p50']:.0f} ms, "
            f"max {s['latency_ms']['max']:.0f} ms"
            " (request → paid answer: 402, sign, verify, settle on chain)",
            f"refusals      {s['refusals']} (nothing paid for them)",
        ]
        for line in lines:
            self.print(f"  {escape(line)}")
        for check in checks:
            mark = "[green]✓[/]" if check["ok"] else "[red]✗[/]"
            self.print(f"  {mark} {escape(check['what'])}")
        if data["ok"]:
            self.print(f"\n[bold green]demo passed[/] in {data['seconds']:.1f} s")
