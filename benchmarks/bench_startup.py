"""Start-up: ``surveymass --help`` and a one-cluster ``infer`` pay only for what they use.

Medians over ``--repeats`` fresh processes, measured in the same run:
- ``python -c "import torch"``: the floor any command that runs a network pays;
- ``python -m surveymass --help``. Target: <= 1.0 s;
- ``python -m surveymass infer .../coma_sdss.fits -q`` (shipped Coma catalogue and bundle, CPU, after
  one warm-up run that fills the file cache). Target: at most 1.5 s more than importing
  torch.

It also prints the heaviest top-level imports of ``--help`` (``python -X importtime``).

    python benchmarks/bench_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time

from _machine import machine  # benchmarks/ is on sys.path

from surveymass.paths import CATALOGS

HELP_TARGET_S = 1.0
INFER_OVER_TORCH_TARGET_S = 1.5


def median_wall(command: list[str], repeats: int) -> float:
    """Median wall seconds of ``command`` in fresh processes (after one warm-up run)."""
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def heaviest_imports(command: list[str], n: int = 6) -> list[tuple[float, str]]:
    """The ``n`` top-level imports of ``command`` with the largest cumulative time [s]."""
    err = subprocess.run([sys.executable, "-X", "importtime", *command[1:]], check=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    rows = [(int(m.group(1)) / 1e6, m.group(2)) for m in
            re.finditer(r"import time:\s+\d+ \|\s+(\d+) \| {1,3}(\S+)", err)]
    return sorted(rows, reverse=True)[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}; medians of {args.repeats}")
    help_cmd = [sys.executable, "-m", "surveymass", "--help"]
    with tempfile.TemporaryDirectory() as tmp:
        infer_cmd = [sys.executable, "-m", "surveymass", "infer", str(CATALOGS / "coma_sdss.fits"), "-o",
                     f"{tmp}/coma.ecsv", "--device", "cpu", "-q"]
        torch_s = median_wall([sys.executable, "-c", "import torch"], args.repeats)
        help_s = median_wall(help_cmd, args.repeats)
        infer_s = median_wall(infer_cmd, args.repeats)
    print(f"import torch        {torch_s:6.2f} s")
    print(f"surveymass --help   {help_s:6.2f} s   (target <= {HELP_TARGET_S} s)")
    print(f"surveymass infer    {infer_s:6.2f} s   = import torch + {infer_s - torch_s:.2f} s "
          f"(target <= + {INFER_OVER_TORCH_TARGET_S} s)")
    print("heaviest imports of --help: " + ", ".join(
        f"{name} {seconds:.2f} s" for seconds, name in heaviest_imports(help_cmd)))
    ok = help_s <= HELP_TARGET_S and infer_s - torch_s <= INFER_OVER_TORCH_TARGET_S
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
