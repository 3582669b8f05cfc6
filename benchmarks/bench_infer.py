"""Benchmark: ``surveymass infer`` throughput (a batch of 1000 clusters on CPU, file reading
excluded; target <= 10 s) and wall time of the command on one cluster (Coma, start-up
included; target <= 5 s).

    python benchmarks/bench_infer.py                      # shipped bundle if present
    python benchmarks/bench_infer.py --model PATH --repeats 3

Without a shipped bundle (surveymass/data/trained_models/sdss_legacy) two stand-ins are trained on toy
clusters (tests/toy_clusters.py): one with the default (shipped) architecture trained for
one epoch, whose speed is that of a real bundle, and the tests' tiny one; their cards get
the SDSS Legacy footprint map, so footprint coverage is timed as with a shipped bundle. The batch is
1000 toy clusters (~80 galaxies each in the aperture, the richness of SDSS clusters)
with 1000 posterior draws each. Prints the machine, medians over repeats; exits 1 when a
target is missed. CPU seconds are printed beside wall seconds: on a shared machine they
show the cost without the wait for other processes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import machine  # benchmarks/ is on sys.path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the toy-cluster generator of the model tests

TARGET_BATCH_S = 10.0
TARGET_ONE_S = 5.0
N_CLUSTERS = 1000




def stand_in_bundles(folder: Path) -> dict[str, Path]:
    """Bundles trained on toy clusters: default architecture (1 epoch) and tiny."""
    from toy_clusters import TINY_ARCHITECTURE, write_toy_training_set

    from surveymass.models.bundle import CARD, write_card
    from surveymass.models.deepsets import Architecture
    from surveymass.models.pipeline import train_bundle
    from surveymass.models.training import TrainingConfig

    data = write_toy_training_set(folder / "trainingset", {"train": 200, "val": 50,
                                                           "test": 50}, seed=3)
    bundles = {
        "default architecture (toy, 1 epoch)": train_bundle(
            data, "default_arch", folder / "default_arch", Architecture(),
            TrainingConfig(max_epochs=1), device="cpu", quiet=True),
        "tiny (tests)": train_bundle(
            data, "tiny", folder / "tiny", Architecture(**TINY_ARCHITECTURE),
            TrainingConfig(max_epochs=2), device="cpu", quiet=True),
    }
    for bundle in bundles.values():  # the shipped survey's footprint map, as a real bundle
        card = json.loads((bundle / CARD).read_text())
        card["survey"]["footprint"] = "sdss_legacy_footprint.fits"
        write_card(bundle, card)
    return bundles


def toy_batch(n: int):
    """``n`` toy cluster fields as ClusterFields (sky positions, redshifts, magnitudes)."""
    import numpy as np
    from toy_clusters import make_fields

    from surveymass.cluster import Cluster
    from surveymass.inference.fields import ClusterField

    fields, galaxies = make_fields(n, seed=11, z_range=(0.03, 0.09))
    gal_field = np.asarray(galaxies["field_id"])
    return [ClusterField(Cluster(f"toy{row['field_id']}", row["ra_cl"], row["dec_cl"],
                                 row["z_cl"]),
                         galaxies[gal_field == row["field_id"]]["ra", "dec", "z", "mag_r"])
            for row in fields]


def time_batch(bundle_dir: Path, repeats: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds of the batch, and its galaxies in apertures."""
    from surveymass.inference.infer import infer_fields
    from surveymass.models.bundle import load_bundle
    from surveymass.models.device import resolve_device

    device = resolve_device("cpu")
    bundle = load_bundle(bundle_dir, device)
    batch = toy_batch(N_CLUSTERS)
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = infer_fields(batch, bundle, n_samples=1000, seed=0, device=device)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return (statistics.median(wall), statistics.median(cpu),
            int(result.results["n_galaxies"].sum()))


def time_command(bundle_dir: Path, repeats: int) -> tuple[float, float]:
    """Median wall and CPU (user + system) seconds of the command in a fresh process."""
    wall, cpu = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([sys.executable, "-m", "surveymass", "infer",
                            "coma_sdss", "--model",
                            str(bundle_dir), "-o", f"{tmp}/coma.ecsv", "--device", "cpu",
                            "-q"], check=True, stdout=subprocess.DEVNULL)
            wall.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(wall), statistics.median(cpu)


def main() -> int:
    from surveymass.models.bundle import DEFAULT_BUNDLE, bundle_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="bundle folder to time")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}; torch threads: "
          f"{os.environ.get('SURVEYMASS_CPU_THREADS', '2')}")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        shipped = bundle_path(DEFAULT_BUNDLE)
        if args.model is not None:
            bundles = {str(args.model): args.model}
        elif (shipped / "model_card.json").exists():
            bundles = {f"shipped ({DEFAULT_BUNDLE})": shipped}
        else:
            print(f"no shipped bundle at {shipped}: timing stand-ins trained on toy clusters")
            bundles = stand_in_bundles(Path(tmp))
        for label, folder in bundles.items():
            batch_s, batch_cpu, n_gal = time_batch(folder, args.repeats)
            one_s, one_cpu = time_command(folder, args.repeats)
            ok &= batch_s <= TARGET_BATCH_S and one_s <= TARGET_ONE_S
            print(f"{label}: {N_CLUSTERS} clusters ({n_gal} galaxies in apertures, 1000 "
                  f"draws each) in {batch_s:.2f} s wall, {batch_cpu:.2f} s CPU (target "
                  f"{TARGET_BATCH_S:g} s wall, median of {args.repeats}); `surveymass infer` "
                  f"on Coma {one_s:.2f} s wall, {one_cpu:.2f} s CPU (target "
                  f"{TARGET_ONE_S:g} s wall)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on "
          f"{len(os.sched_getaffinity(0))} cores (a loaded machine stretches wall times)")
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
