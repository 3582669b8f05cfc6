"""Benchmark: ``surveymass universe check`` on a universe file; wall time, time per check and
peak memory against the target (10 minutes on 2 cores for the default 1000 h^-1 Mpc box).

    taskset -c 0,1 python benchmarks/bench_universe_check.py --universe default.h5
    python benchmarks/bench_universe_check.py --box 250      # builds a small box first

(build the default box with ``bench_universe.py --keep default.h5``). Prints the machine,
the median wall time over repeats, each check's time and the peak resident memory; exits 1
when the target is missed on a box of 1000 h^-1 Mpc or more.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _machine import machine  # same folder

TARGET_SECONDS = 10 * 60


def main() -> int:
    from surveymass.universe.check import check_universe
    from surveymass.universe.synthetic import SyntheticConfig, build_universe

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--universe", type=Path, default=None, help="universe HDF5 file")
    parser.add_argument("--box", type=float, default=250.0,
                        help="without --universe: build a synthetic box of this side first")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.universe
        if path is None:
            path = build_universe(SyntheticConfig(box_size=args.box, seed=1),
                                  Path(tmp) / "universe.h5", progress=False)
        build_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        box_size = _box_size(path)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            results, _ = check_universe(path, Path(tmp) / "report", progress=False)
            times.append(time.perf_counter() - start)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux
    median = statistics.median(times)
    print(f"machine: {machine()}")
    print(f"{path}: median check {median:.1f} s over {len(times)} run(s); peak RSS "
          f"{peak_gb:.2f} GB (after building: {build_rss:.2f} GB)")
    for r in results:
        print(f"  {r.name:<22} {r.numbers['runtime_s']:>7.1f} s  {r.status:<11} {r.summary}")
    if box_size >= 1000.0:
        ok = median <= TARGET_SECONDS
        print(f"target <= {TARGET_SECONDS} s: {'met' if ok else 'MISSED'}")
        return 0 if ok else 1
    return 0


def _box_size(path: Path) -> float:
    from surveymass.universe import UniverseFile

    with UniverseFile(path) as universe:
        return universe.box_size


if __name__ == "__main__":
    sys.exit(main())
