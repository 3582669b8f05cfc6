"""Benchmark: catalogue mode, ``surveymass infer GALAXIES --clusters CLUSTERS``, on the SDSS
DR7 volume-limited sample (120,606 galaxies, shared/data/real/sdss_dr7_bright) and cluster
positions drawn from it. Target: 1,000 clusters <= 60 s wall on 2 cores including reading,
peak memory <= 4 GB; cost per cluster roughly flat from 10 to 10,000 clusters.

Each size runs the command in a fresh process (reading, cleaning, indexing, the fields,
the networks, the checks and the writing included; plots off) and reports wall seconds,
seconds per cluster and peak RSS. The cluster centres are galaxies of the table with
0.02 <= z <= 0.098 (the volume-limited survey's cluster range), drawn with a fixed seed:
most of them field galaxies, as for a cluster list
whose positions are not all clusters; ``--rich`` draws them from galaxies in groups and
clusters only, so that most are weighed (the networks' and checks' full cost).

    python benchmarks/bench_catalogue.py [--sizes 10 100 1000] [--rich] [--model sdss_dr7_vlim20]
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
#: Neighbours a galaxy needs to be a cluster position with --rich.
RICH_NEIGHBOURS = 10
#: The child process: run the command and print its peak RSS [kB] last.
CHILD = ("import resource, sys; from surveymass.cli import main; rc = main(sys.argv[1:]); "
         "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)")


def cluster_table(galaxies: Path, n: int, seed: int = 0, rich: bool = False) -> Table:
    """``n`` cluster positions: galaxies of the table in the survey's cluster range (with
    ``rich``, only those with at least RICH_NEIGHBOURS others within 0.5 deg and 1000 km/s:
    group and cluster members, so that most positions can be weighed)."""
    table = Table.read(galaxies)
    pool = table[(table["z"] >= 0.02) & (table["z"] <= 0.098)]
    if rich:
        pool = pool[_neighbours(pool) >= RICH_NEIGHBOURS]
    rows = np.random.default_rng(seed).choice(len(pool), size=n, replace=n > len(pool))
    return Table({"name": [f"c{i:05d}" for i in range(n)], "ra": pool["ra"][rows],
                  "dec": pool["dec"][rows], "z": pool["z"][rows]})


def _neighbours(table: Table) -> np.ndarray:
    """Others within 0.5 deg and |dv| < 1000 km/s of each galaxy (the package's sky index)."""
    from surveymass.masks.sky import SkyIndex
    from surveymass.phasespace import los_velocity

    z = np.asarray(table["z"], float)
    cones = SkyIndex(table["ra"], table["dec"]).cones(table["ra"], table["dec"], np.radians(0.5))
    return np.array([int((np.abs(los_velocity(z[c], z[i])) < 1000).sum()) - 1
                     for i, c in enumerate(cones)])


def run_size(galaxies: Path, n: int, model: str, folder: Path, rich: bool
             ) -> tuple[float, float, int]:
    """Wall seconds, peak RSS [GB] and clusters weighed of catalogue mode on ``n``."""
    clusters = folder / f"clusters_{n}.ecsv"
    cluster_table(galaxies, n, rich=rich).write(clusters, overwrite=True)
    command = [sys.executable, "-c", CHILD, "infer", str(galaxies), "--clusters",
               str(clusters), "--model", model, "--selected", "--device", "cpu", "-q",
               "-o", str(folder / f"results_{n}.ecsv"), "--overwrite"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"catalogue mode on {n} clusters failed:\n{done.stderr[-2000:]}")
    results = Table.read(folder / f"results_{n}.ecsv")
    weighed = int(np.isfinite(np.asarray(results["log10_m200c_median"], float)).sum())
    return wall, int(done.stdout.split()[-1]) / 1e6, weighed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--model", default="sdss_dr7_vlim20")
    parser.add_argument("--galaxies", type=Path, default=GALAXIES)
    parser.add_argument("--rich", action="store_true",
                        help="centres in groups and clusters only (most get weighed)")
    args = parser.parse_args()
    print(f"machine: {machine()}; {args.galaxies.name}, bundle {args.model}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            wall, rss, weighed = run_size(args.galaxies, n, args.model, Path(tmp), args.rich)
            results[n] = wall, rss
            print(f"{n:6d} clusters ({weighed:5d} weighed)  {wall:7.1f} s  "
                  f"{1e3 * wall / n:8.1f} ms/cluster  peak RSS {rss:.2f} GB")
    missed = [f"{n} clusters: {wall:.1f} s > {TARGET_1000_S:g} s" for n, (wall, _) in
              results.items() if n == 1000 and wall > TARGET_1000_S]
    missed += [f"{n} clusters: peak {rss:.2f} GB > {TARGET_RSS_GB:g} GB"
               for n, (_, rss) in results.items() if rss > TARGET_RSS_GB]
    print("TARGETS MET" if not missed else "TARGET MISSED: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
