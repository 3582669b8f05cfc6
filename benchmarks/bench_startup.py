"""Start-up: ``surveymass --help`` and a one-cluster ``infer`` pay only for what they use.

Medians over ``--repeats`` fresh processes, measured in the same run (the commands take
turns, so that a change of machine load hits all of them alike):
- ``python -c "import torch"``: the floor any command that runs a network pays;
- ``python -m surveymass --help``. Target: <= 1.0 s;
- ``python -m surveymass infer coma_sdss -o X --overwrite -q`` (shipped Coma catalogue and
  bundle, CPU, after one warm-up run that fills the file cache). Target: at most 1.5 s more
  than importing torch.

``--baseline TREE`` times the same commands run from another source tree too (e.g. an
older commit: ``git archive COMMIT | tar -x -C /tmp/before``), for before/after numbers.
It also prints the heaviest top-level imports of ``--help`` (``python -X importtime``).

    python benchmarks/bench_startup.py [--repeats 5] [--baseline /tmp/before]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import machine  # benchmarks/ is on sys.path

REPO = Path(__file__).resolve().parents[1]
HELP_TARGET_S = 1.0
INFER_OVER_TORCH_TARGET_S = 1.5


def median_walls(commands: dict[str, tuple[list[str], Path]], repeats: int) -> dict[str, float]:
    """Median wall seconds of each ``(command, cwd)`` in fresh processes, after one warm-up
    run each; the commands run in turn, ``repeats`` rounds."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(repeats + 1):
        for name, (command, cwd) in commands.items():
            start = time.perf_counter()
            subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
            if round_:  # round 0 warms the file cache
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def heaviest_imports(command: list[str], cwd: Path, n: int = 6) -> list[tuple[float, str]]:
    """The ``n`` top-level imports of ``command`` with the largest cumulative time [s]."""
    err = subprocess.run([sys.executable, "-X", "importtime", *command[1:]], cwd=cwd,
                         check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True).stderr
    rows = [(int(m.group(1)) / 1e6, m.group(2)) for m in
            re.finditer(r"import time:\s+\d+ \|\s+(\d+) \| {1,3}(\S+)", err)]
    return sorted(rows, reverse=True)[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another source tree to time alike")
    args = parser.parse_args()
    print(f"machine: {machine()}; medians of {args.repeats}")
    help_cmd = [sys.executable, "-m", "surveymass", "--help"]
    trees = {"": REPO, **({"baseline ": args.baseline.resolve()} if args.baseline else {})}
    with tempfile.TemporaryDirectory() as tmp:
        infer_cmd = [sys.executable, "-m", "surveymass", "infer", "coma_sdss", "-o",
                     f"{tmp}/coma.ecsv", "--overwrite", "--device", "cpu", "-q"]
        commands = {"import torch": ([sys.executable, "-c", "import torch"], REPO)}
        for label, tree in trees.items():
            commands[f"{label}surveymass --help"] = (help_cmd, tree)
            commands[f"{label}surveymass infer"] = (infer_cmd, tree)
        walls = median_walls(commands, args.repeats)
    torch_s = walls["import torch"]
    print(f"{'import torch':28s}{torch_s:6.2f} s")
    for label, tree in trees.items():
        help_s, infer_s = walls[f"{label}surveymass --help"], walls[f"{label}surveymass infer"]
        print(f"{label + 'surveymass --help':28s}{help_s:6.2f} s   (target <= {HELP_TARGET_S} s)")
        print(f"{label + 'surveymass infer':28s}{infer_s:6.2f} s   = import torch + "
              f"{infer_s - torch_s:.2f} s (target <= + {INFER_OVER_TORCH_TARGET_S} s)")
        print(f"{label}heaviest imports of --help: " + ", ".join(
            f"{name} {seconds:.2f} s" for seconds, name in heaviest_imports(help_cmd, tree)))
    print(f"load after: {machine().rsplit(', ', 1)[-1]}")
    help_s, infer_s = walls["surveymass --help"], walls["surveymass infer"]
    ok = help_s <= HELP_TARGET_S and infer_s - torch_s <= INFER_OVER_TORCH_TARGET_S
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
