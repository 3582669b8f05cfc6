"""Benchmark: catalogue mode, ``surveymass infer GALAXIES --clusters CLUSTERS``, on the SDSS
DR7 volume-limited sample (120,606 galaxies, shared/data/real/sdss_dr7_bright) and cluster
positions drawn from it. Target: 1,000 clusters <= 60 s wall on 2 cores including reading,
peak memory <= 4 GB; cost per cluster roughly flat from 10 to 10,000 clusters.

Each size runs the command in a fresh process (reading, cleaning, indexing, the fields,
the networks, the checks and the writing included; plots off) and reports wall seconds,
seconds per cluster and peak RSS. The cluster centres are galaxies of the table with
0.02 <= z <= 0.098 (the volume-limited survey's cluster range), drawn with a fixed seed:
about a third of them are real groups, the rest field galaxies, as for a cluster list
whose positions are not all clusters.

    python benchmarks/bench_catalogue.py [--sizes 10 100 1000] [--model sdss_dr7_vlim20]
        [--galaxies shared/data/real/sdss_dr7_bright/sdss_dr7_volume_limited_Mr-20.fits]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _machine import machine  # benchmarks/ is on sys.path
from astropy.table import Table

ROOT = Path(__file__).resolve().parents[1]
GALAXIES = ROOT.parent / "shared/data/real/sdss_dr7_bright/sdss_dr7_volume_limited_Mr-20.fits"
TARGET_1000_S = 60.0
TARGET_RSS_GB = 4.0
#: The child process: run the command and print its peak RSS [kB] last.
CHILD = ("import resource, sys; from surveymass.cli import main; rc = main(sys.argv[1:]); "
         "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)")


def cluster_table(galaxies: Path, n: int, seed: int = 0) -> Table:
    """``n`` cluster positions: galaxies of the table in the survey's cluster range."""
    table = Table.read(galaxies)
    pool = table[(table["z"] >= 0.02) & (table["z"] <= 0.098)]
    rows = np.random.default_rng(seed).choice(len(pool), size=n, replace=False)
    return Table({"name": [f"c{i:05d}" for i in range(n)], "ra": pool["ra"][rows],
                  "dec": pool["dec"][rows], "z": pool["z"][rows]})


def run_size(galaxies: Path, n: int, model: str, folder: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS [GB] of catalogue mode on ``n`` clusters."""
    clusters = folder / f"clusters_{n}.ecsv"
    cluster_table(galaxies, n).write(clusters, overwrite=True)
    command = [sys.executable, "-c", CHILD, "infer", str(galaxies), "--clusters",
               str(clusters), "--model", model, "--selected", "--device", "cpu", "-q",
               "-o", str(folder / f"results_{n}.ecsv"), "--overwrite"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"catalogue mode on {n} clusters failed:\n{done.stderr[-2000:]}")
    return wall, int(done.stdout.split()[-1]) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--model", default="sdss_dr7_vlim20")
    parser.add_argument("--galaxies", type=Path, default=GALAXIES)
    args = parser.parse_args()
    print(f"machine: {machine()}; {args.galaxies.name}, bundle {args.model}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            wall, rss = run_size(args.galaxies, n, args.model, Path(tmp))
            results[n] = wall, rss
            print(f"{n:6d} clusters  {wall:7.1f} s  {1e3 * wall / n:8.1f} ms/cluster  "
                  f"peak RSS {rss:.2f} GB")
    missed = [f"{n} clusters: {wall:.1f} s > {TARGET_1000_S:g} s" for n, (wall, _) in
              results.items() if n == 1000 and wall > TARGET_1000_S]
    missed += [f"{n} clusters: peak {rss:.2f} GB > {TARGET_RSS_GB:g} GB"
               for n, (_, rss) in results.items() if rss > TARGET_RSS_GB]
    print("TARGETS MET" if not missed else "TARGET MISSED: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
