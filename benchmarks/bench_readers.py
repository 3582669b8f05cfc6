"""Readers stream in bounded memory: peak RSS of a conversion must not grow with the input.

Writes Uchuu-UM HDF5 snapshots (readme layout) of N and 4N galaxies and hlist files of M
and 4M halos, converts each in a fresh process with a fixed chunk size, and reports the
peak resident memory (ru_maxrss of that process), the conversion time (imports
excluded) and the 4x / 1x RSS ratio. Beyond the chunk, only the host index grows (8 bytes
per host halo), so the ratio stays near 1 while the input grows fourfold.
Target: ratio <= 1.2 for both readers.

    python benchmarks/bench_readers.py                  # N = 1e6, M = 5e5 (~4 minutes)
    python benchmarks/bench_readers.py --n 250000 --m 100000 --chunk 50000 --repeats 1
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np
from _machine import machine  # benchmarks/ is on sys.path

TARGET_RATIO = 1.2

_CONVERT = """
import sys, time
from surveymass.universe.readers import convert_hlist, convert_uchuu_um
fmt, src, out, chunk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
start = time.perf_counter()
if fmt == "uchuu-um":
    convert_uchuu_um(src, out, chunk_size=chunk, quiet=True)
elif fmt == "hlist":
    convert_hlist(src, out, chunk_size=chunk, quiet=True)
# fmt "imports": the interpreter and libraries alone, the floor of every run
print(time.perf_counter() - start)
"""


def write_uchuu_um(folder: Path, n: int, seed: int, block: int = 500_000) -> Path:
    """A Uchuu-UM snapshot of ``n`` galaxies (40% centrals), written block by block."""
    rng = np.random.default_rng(seed)
    n_hosts = int(0.4 * n)
    files = {i: h5py.File(folder / f"Uchuu_UM_z0p09_data{i}.h5", "w") for i in (1, 2, 3)}
    names = {1: {"id": "i8", "upid": "i8", "Mvir": "f4", "sm": "f4", "sfr": "f4",
                 "obs_sm": "f4", "obs_sfr": "f4", "icl": "f4", "obs_uv": "f4"},
             2: {"x": "f4", "y": "f4", "z": "f4"},
             3: {"desc_id": "i8", "vx": "f4", "vy": "f4", "vz": "f4", "Mpeak": "f4",
                 "Vmax_Mpeak": "f4", "vmax": "f4", "A_UV": "f4"}}
    sets = {name: files[i].create_dataset(name, (n,), dtype=dt)
            for i, cols in names.items() for name, dt in cols.items()}
    for start in range(0, n, block):
        idx = np.arange(start, min(start + block, n))
        central = idx < n_hosts
        upid = np.where(central, -1, rng.integers(0, n_hosts, idx.size))
        sm = 10 ** rng.uniform(8.5, 11.5, idx.size)
        values = {"id": idx, "upid": upid, "Mvir": 10 ** rng.uniform(10.5, 15, idx.size),
                  "sm": sm, "obs_sm": sm, "sfr": sm * 10 ** rng.uniform(-12.5, -9.5, idx.size),
                  **{k: rng.uniform(0, 2000, idx.size) for k in ("x", "y", "z")},
                  **{k: rng.normal(0, 500, idx.size) for k in ("vx", "vy", "vz")}}
        values["obs_sfr"] = values["sfr"]
        for name, data in values.items():
            sets[name][idx[0]:idx[-1] + 1] = data
    for f in files.values():
        f.close()
    return folder / "Uchuu_UM_z0p09_data1.h5"


def write_hlist(path: Path, n: int, seed: int, block: int = 200_000) -> Path:
    """An hlist of ``n`` halos (80% distinct) with the Rockstar header lines the reader uses."""
    rng = np.random.default_rng(seed)
    header = ("#scale(0) id(1) upid(2) mvir(3) rs(4) x(5) y(6) z(7) vx(8) vy(9) vz(10) "
              "M200c(11)\n#a = 0.917400\n#Omega_M = 0.308900; Omega_L = 0.691100; "
              "h0 = 0.677400\n#Full box size = 2000.000000 Mpc/h\n#Mvir: Halo mass (Msun/h)."
              "\n#Rs: Scale radius (kpc/h comoving).\n#X/Y/Z: Halo position (Mpc/h comoving)."
              "\n#VX/VY/VZ: Halo velocity (km/s physical).\n"
              "#M200b--M2500c: Mass enclosed within specified overdensities (Msun/h)\n")
    with open(path, "w") as f:
        f.write(header)
        for start in range(0, n, block):
            k = min(block, n - start)
            mvir = 10 ** rng.uniform(10.5, 15, k)
            table = np.column_stack([
                np.full(k, 0.9174), np.arange(start, start + k),
                np.where(rng.random(k) < 0.8, -1, 1), mvir, rng.uniform(5, 300, k),
                rng.uniform(0, 2000, (k, 3)), rng.normal(0, 500, (k, 3)), 0.85 * mvir])
            np.savetxt(f, table, fmt="%.5g")
    return path


def peak_rss_mb(fmt: str, src: Path, out: Path, chunk: int) -> tuple[float, float]:
    """(peak RSS [MB], conversion time [s], imports excluded) of one conversion in a
    fresh Python process."""
    proc = subprocess.Popen([sys.executable, "-c", _CONVERT, fmt, str(src), str(out),
                             str(chunk)], stdout=subprocess.PIPE, text=True)
    elapsed = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"conversion of {src} failed")
    return usage.ru_maxrss / 1024.0, float(elapsed)




def measure(fmt: str, sources: dict[int, Path], folder: Path, chunk: int, repeats: int
            ) -> dict[int, tuple[float, float]]:
    """Median (peak RSS [MB], conversion time [s]) per input size."""
    results = {}
    for n, src in sources.items():
        runs = [peak_rss_mb(fmt, src, folder / f"out_{fmt}_{n}.h5", chunk)
                for _ in range(repeats)]
        results[n] = (statistics.median(r[0] for r in runs),
                      statistics.median(r[1] for r in runs))
        print(f"  {fmt:9s} {n:>9,d} rows: peak RSS {results[n][0]:7.1f} MB, "
              f"{results[n][1]:6.1f} s ({n / results[n][1]:,.0f} rows/s)")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="Uchuu-UM galaxies (1x)")
    parser.add_argument("--m", type=int, default=500_000, help="hlist halos (1x)")
    parser.add_argument("--chunk", type=int, default=200_000, help="reader chunk size")
    parser.add_argument("--repeats", type=int, default=3, help="runs per size (median)")
    args = parser.parse_args()
    print(f"machine: {machine()}, python {platform.python_version()}; "
          f"chunk {args.chunk:,d} rows, median of {args.repeats}")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        floors = [peak_rss_mb("imports", folder, folder / "none.h5", args.chunk)
                  for _ in range(args.repeats)]
        print("interpreter and imports alone: peak RSS "
              f"{statistics.median(f[0] for f in floors):.1f} MB")
        for fmt, sizes, writer in (("uchuu-um", (args.n, 4 * args.n), write_uchuu_um),
                                   ("hlist", (args.m, 4 * args.m), write_hlist)):
            sources = {}
            for n in sizes:
                target = folder / f"{fmt}_{n}"
                if fmt == "hlist":
                    sources[n] = writer(folder / f"hlist_{n}_0.91740.list", n, seed=n)
                else:
                    target.mkdir()
                    sources[n] = writer(target, n, seed=n)
            size_gb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e9
            print(f"{fmt}: inputs written ({size_gb:.2f} GB in the work folder so far)")
            results = measure(fmt, sources, folder, args.chunk, args.repeats)
            ratio = results[sizes[1]][0] / results[sizes[0]][0]
            ok = ratio <= TARGET_RATIO
            failed |= not ok
            print(f"  {fmt}: peak RSS ratio 4x/1x = {ratio:.3f} "
                  f"(target <= {TARGET_RATIO}) {'PASS' if ok else 'FAIL'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
