"""Peak memory and wall time of ``powertrace generate`` at several scales.

    .venv/bin/python bench/generate_memory.py --scales 0.1 1 --lake /tmp/gen{scale} --keep --record

The generator streams, so its peak at SF 1 must stay within 1.5 times its peak at SF 0.1 (the
last line compares the largest scale with the smallest). Each scale runs as its own
``powertrace --lake DIR generate --scale S --seed N --no-progress`` process, one after the other;
its peak resident set size is the kernel's account of the finished child (``wait4``'s ru_maxrss),
its wall time the clock's. A lake whose landing/ already holds deliveries is refused; lakes are
deleted afterwards unless --keep. Prints the figures and, with --record, updates bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from orchestration.settings import DEFAULT_SEED, PROJECT_DIR

POWERTRACE = Path(sys.executable).with_name("powertrace")
DISK_PER_SCALE = 4 * 2**30   # landing, truth and the generator's work folder at SF 1, with a margin
TARGET_RATIO = 1.5


def run_generate(lake: Path, scale: float, seed: int) -> dict:
    """Generate one world in a child process; its peak RSS (MB), wall time (s) and summary."""
    if (lake / "landing").is_dir() and any((lake / "landing").iterdir()):
        raise SystemExit(f"{lake / 'landing'} already holds deliveries: remove it or choose another --lake")
    lake.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(lake).free
    if free < DISK_PER_SCALE * max(scale, 0.1) + 2**30:
        raise SystemExit(f"only {free / 2**30:.1f} GiB free under {lake}: SF {scale} needs about "
                         f"{DISK_PER_SCALE * scale / 2**30:.1f} GiB")
    started = time.perf_counter()
    child = subprocess.Popen([str(POWERTRACE), "--lake", str(lake), "generate", "--scale", str(scale),
                              "--seed", str(seed), "--no-progress"], stdout=subprocess.PIPE, text=True)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"powertrace generate --scale {scale} failed (exit {child.returncode}):\n{out}")
    summary = re.search(r"([\d,]+) clean rows, ([\d,]+) files \(([\d,]+) records\)", out)
    clean, files, records = (int(g.replace(",", "")) for g in summary.groups())
    return {"scale": scale, "peak_mb": usage.ru_maxrss / 1024, "seconds": seconds, "clean": clean,
            "files": files, "records": records, "landing_bytes": _size(lake / "landing")}


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.1, 1.0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--lake", default="/tmp/powertrace-gen-sf{scale}",
                        help="lake folder per scale ({scale} is replaced by the scale)")
    parser.add_argument("--keep", action="store_true", help="keep the generated lakes")
    parser.add_argument("--record", action="store_true", help="write the figures into bench/RESULTS.md")
    args = parser.parse_args()
    results = []
    loads = [os.getloadavg()[0]]
    for scale in sorted(args.scales):
        lake = Path(args.lake.format(scale=f"{scale:g}"))
        result = run_generate(lake, scale, args.seed)
        results.append(result)
        print(f"SF {scale:g}: peak {result['peak_mb']:,.0f} MB, {result['seconds']:,.0f} s", flush=True)
        if not args.keep:
            shutil.rmtree(lake, ignore_errors=True)
        loads.append(os.getloadavg()[0])
    lines = [f"{'scale':>6} {'peak RSS':>10} {'wall':>9} {'clean rows':>12} {'files':>7} {'records':>12} {'landing':>9}"]
    lines += [f"{r['scale']:>6g} {r['peak_mb']:>7,.0f} MB {r['seconds']:>7,.0f} s {r['clean']:>12,} {r['files']:>7,} "
              f"{r['records']:>12,} {r['landing_bytes'] / 2**30:>5.2f} GiB" for r in results]
    if len(results) > 1:
        low, high = results[0], results[-1]
        ratio = high["peak_mb"] / low["peak_mb"]
        verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
        lines.append(f"peak SF {high['scale']:g} / SF {low['scale']:g}: {ratio:.2f} "
                     f"(target <= {TARGET_RATIO}: {verdict})")
    lines.append("load average (1 min) before and after each scale: " + ", ".join(f"{x:.1f}" for x in loads))
    print("\n".join(lines))
    if args.record:
        sys.path.insert(0, str(PROJECT_DIR))
        from bench.results import record

        scales = " ".join(f"{s:g}" for s in sorted(args.scales))
        record("Generator memory (streaming)", f"scales {scales}, seed {args.seed}, one generator process at a time",
               lines, command=f"python bench/generate_memory.py --scales {scales} --seed {args.seed} --record")


if __name__ == "__main__":
    main()
