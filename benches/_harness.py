"""Shared timing and reporting helpers for the fastx402 benchmarks.

Used by ``bench_crypto.py`` and ``bench_x402.py``. The method, in short:

- one ``timeit`` statement per operation, written as a caller would write it;
- each case is warmed up, then its loop count is calibrated so that one sample
  takes about ``Settings.sample_s`` seconds;
- the cases of a group are sampled round-robin, ``Settings.repeats`` times, so
  drift in machine load affects every implementation of the group alike;
- the report gives the median per-op time, the interquartile range, and
  ``ratio = peer median / fastx402 median`` (the first case of a group is the
  reference, and is always fastx402);
- GC is off while a sample runs (the ``timeit`` default).

Machine facts (CPU, cores, Python, package versions, the fastx402 build and the
eth-hash / eth-keys backends) and the load average are printed with every run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import time
import timeit
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_hash.auto import keccak as eth_hash_keccak

import fastx402

# --------------------------------------------------------------------------- machine facts

CPU_FLAGS_OF_INTEREST = ("adx", "bmi2", "avx2", "avx512f", "sha_ni")

# Any valid key: only used to ask eth-keys which backend it picked.
_PROBE_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


def eth_hash_backend() -> str:
    """The backend eth-hash chose (it decides lazily, on the first hash)."""
    eth_hash_keccak(b"")
    hasher = getattr(eth_hash_keccak, "hasher", None)
    backend = getattr(hasher, "__self__", None)
    return type(backend).__name__ if backend is not None else repr(hasher)


def eth_keys_backend() -> str:
    """The ECC backend eth-keys uses under eth-account (coincurve if installed)."""
    return type(Account.from_key(_PROBE_KEY)._key_obj.backend).__name__


def cpu_info() -> dict[str, str]:
    """Model name, family/model/stepping and a few ISA flags from /proc/cpuinfo."""
    info: dict[str, str] = {}
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        name, _, value = line.partition(":")
        name = name.strip()
        if name in ("model name", "cpu family", "model", "stepping", "flags"):
            info.setdefault(name, value.strip())
    flags = set(info.pop("flags", "").split())
    return {
        "model_name": info.get("model name") or platform.processor() or "unknown",
        "family_model_stepping": "/".join(
            info.get(k, "?") for k in ("cpu family", "model", "stepping")
        ),
        "flags": " ".join(f for f in CPU_FLAGS_OF_INTEREST if f in flags),
    }


def git_head() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_facts(packages: Iterable[str]) -> dict[str, Any]:
    core_file = Path(fastx402._core.__file__)
    return {
        "cpu": cpu_info(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "fastx402": fastx402.__version__,
        "fastx402_ecdsa_backend": fastx402.ecdsa_backend(),
        "fastx402_core_sha256": hashlib.sha256(core_file.read_bytes()).hexdigest()[:16],
        "git_head": git_head(),
        "eth_hash_backend": eth_hash_backend(),
        "eth_keys_backend": eth_keys_backend(),
        "packages": {name: version(name) for name in packages},
    }


def print_machine(title: str, facts: dict[str, Any], load: tuple[float, float, float]) -> None:
    print(title)
    print(f"  date             {facts['date']}")
    cpu = facts["cpu"]
    print(
        f"  cpu              {cpu['model_name']} (family/model/stepping"
        f" {cpu['family_model_stepping']}; {cpu['flags']})"
    )
    print(f"  cpus             {facts['logical_cpus']} logical, {facts['usable_cpus']} usable")
    print(f"  platform         {facts['platform']}")
    print(f"  python           {facts['python']}")
    print(
        f"  fastx402         {facts['fastx402']} (ecdsa_backend={facts['fastx402_ecdsa_backend']},"
        f" _core sha256 {facts['fastx402_core_sha256']}, git {facts['git_head']})"
    )
    print(f"  eth-hash backend {facts['eth_hash_backend']} (used by eth_utils.keccak)")
    print(f"  eth-keys backend {facts['eth_keys_backend']} (used by eth-account and x402)")
    pkgs = ", ".join(f"{k} {v}" for k, v in facts["packages"].items())
    print(f"  packages         {pkgs}")
    print(f"  load average     {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (at start)")


# --------------------------------------------------------------------------- settings


@dataclass
class Settings:
    sample_s: float
    repeats: int
    warmup_s: float


def add_timing_args(parser: argparse.ArgumentParser) -> None:
    """``--json``, ``--quick``, ``--markdown``, ``--repeats``, ``--sample-ms``."""
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write results as JSON")
    parser.add_argument("--quick", action="store_true", help="short smoke run (noisy)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--repeats", type=int, default=None, help="samples per case (default 21)")
    parser.add_argument(
        "--sample-ms", type=float, default=None, help="target ms per sample (default 40)"
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = (
        Settings(sample_s=0.005, repeats=7, warmup_s=0.01)
        if args.quick
        else Settings(sample_s=0.040, repeats=21, warmup_s=0.1)
    )
    if args.repeats is not None:
        settings.repeats = max(3, min(args.repeats, 201))
    if args.sample_ms is not None:
        settings.sample_s = max(0.001, min(args.sample_ms, 500.0)) / 1e3
    return settings


def settings_line(settings: Settings) -> str:
    return (
        f"  settings         {settings.repeats} samples x ~{settings.sample_s * 1e3:g} ms"
        " per case, median of per-op times"
    )


# --------------------------------------------------------------------------- timing


@dataclass
class Case:
    group: str
    impl: str
    call: str
    stmt: str
    ns: dict[str, Any] = field(repr=False)
    number: int = 0
    per_op_ns: list[float] = field(default_factory=list, repr=False)


def calibrate(timer: timeit.Timer, sample_s: float) -> int:
    """Loop count such that one sample takes about ``sample_s`` seconds."""
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= sample_s / 5 or number >= 1 << 24:
            break
        number *= 4 if elapsed < sample_s / 50 else 2
    return max(1, round(number * sample_s / max(elapsed, 1e-9)))


def run_group(cases: list[Case], settings: Settings) -> None:
    timers = [timeit.Timer(c.stmt, globals=c.ns) for c in cases]
    for c, t in zip(cases, timers, strict=True):
        t.timeit(10)  # first-run effects (lazy backends, caches)
        c.number = calibrate(t, settings.sample_s)
        deadline = time.perf_counter() + settings.warmup_s
        while time.perf_counter() < deadline:
            t.timeit(max(1, c.number // 4))
    # Round-robin over the group so load drift affects every implementation alike.
    for _ in range(settings.repeats):
        for c, t in zip(cases, timers, strict=True):
            c.per_op_ns.append(t.timeit(c.number) / c.number * 1e9)


def run_groups(cases: list[Case], settings: Settings) -> None:
    """Time each group (consecutive cases sharing ``group``) round-robin."""
    groups: dict[str, list[Case]] = {}
    for c in cases:
        groups.setdefault(c.group, []).append(c)
    for group_cases in groups.values():
        run_group(group_cases, settings)


@dataclass
class Result:
    group: str
    impl: str
    call: str
    median_us: float
    p25_us: float
    p75_us: float
    min_us: float
    ratio_vs_fastx402: float
    loops_per_sample: int
    samples: int


def summarize(cases: list[Case]) -> list[Result]:
    reference: dict[str, float] = {}
    results: list[Result] = []
    for c in cases:
        q1, _, q3 = statistics.quantiles(c.per_op_ns, n=4, method="inclusive")
        med = statistics.median(c.per_op_ns)
        reference.setdefault(c.group, med)  # the first case of a group is fastx402
        results.append(
            Result(
                group=c.group,
                impl=c.impl,
                call=c.call,
                median_us=med / 1e3,
                p25_us=q1 / 1e3,
                p75_us=q3 / 1e3,
                min_us=min(c.per_op_ns) / 1e3,
                ratio_vs_fastx402=med / reference[c.group],
                loops_per_sample=c.number,
                samples=len(c.per_op_ns),
            )
        )
    return results


# --------------------------------------------------------------------------- targets


@dataclass
class Target:
    name: str
    goal: str
    observed: str
    met: bool


# --------------------------------------------------------------------------- output


def print_table(results: list[Result], markdown: bool) -> None:
    if markdown:
        print("| operation | implementation | call | median µs/op | IQR µs | peer / fastx402 |")
        print("|---|---|---|---:|---:|---:|")
        for r in results:
            ratio = "1 (reference)" if r.impl == "fastx402" else f"{r.ratio_vs_fastx402:.1f}x"
            print(
                f"| {r.group} | {r.impl} | `{r.call}` | {r.median_us:.3f} |"
                f" {r.p25_us:.3f}-{r.p75_us:.3f} | {ratio} |"
            )
        return
    gw = max([18, *(len(r.group) for r in results)])
    iw = max([26, *(len(r.impl) for r in results)])
    head = (
        f"{'operation':<{gw}} {'implementation':<{iw}} {'median µs/op':>12} {'IQR µs':>19}"
        f" {'peer/fastx402':>13}"
    )
    print(head)
    print("-" * len(head))
    group = None
    for r in results:
        if group is not None and r.group != group:
            print()
        label = r.group if r.group != group else ""
        group = r.group
        ratio = "ref" if r.impl == "fastx402" else f"{r.ratio_vs_fastx402:.1f}x"
        iqr = f"{r.p25_us:.3f}-{r.p75_us:.3f}"
        print(f"{label:<{gw}} {r.impl:<{iw}} {r.median_us:>12.3f} {iqr:>19} {ratio:>13}")
    print()
    print("calls:")
    for r in results:
        print(f"  {r.group:<{gw}} {r.impl:<{iw}} {r.call}")


def print_targets(targets: list[Target]) -> None:
    print("targets (fastx402):")
    nw = max([16, *(len(t.name) for t in targets)])
    gw = max([22, *(len(t.goal) for t in targets)])
    ow = max([32, *(len(t.observed) for t in targets)])
    for t in targets:
        status = "met" if t.met else "MISSED"
        print(f"  {t.name:<{nw}} {t.goal:<{gw}} {t.observed:<{ow}} {status}")


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {path}")


def results_payload(
    facts: dict[str, Any],
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
    settings: Settings,
    results: list[Result],
    targets: list[Target],
    elapsed: float,
) -> dict[str, Any]:
    return {
        "machine": facts,
        "load_average_start": load_start,
        "load_average_end": load_end,
        "settings": asdict(settings),
        "ratio": "peer median / fastx402 median",
        "results": [asdict(r) for r in results],
        "targets": [asdict(t) for t in targets],
        "wall_time_s": elapsed,
    }
