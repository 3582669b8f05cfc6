"""Derive the recorded service responses in this folder from the real Coma files.

Run from the repository root:  python tests/data/recorded/derive_coma.py [SHARED_DATA]
Keeps the rows within RADIUS_ARCMIN of Coma (194.95, +27.98); see README.md.
"""

import math
import sys
from pathlib import Path

RADIUS_ARCMIN = 30.0
RA0, DEC0 = 194.95, 27.98
HERE = Path(__file__).resolve().parent


def within(ra: float, dec: float) -> bool:
    """True when (ra, dec) [deg] lies within RADIUS_ARCMIN of Coma (haversine)."""
    d_ra, d_dec = math.radians(ra - RA0), math.radians(dec - DEC0)
    h = (math.sin(d_dec / 2) ** 2
         + math.cos(math.radians(dec)) * math.cos(math.radians(DEC0)) * math.sin(d_ra / 2) ** 2)
    return 2 * math.degrees(math.asin(math.sqrt(h))) * 60 < RADIUS_ARCMIN


def sdss_csv(lines: list[str]) -> list[str]:
    """SkyServer CSV (``#Table1``, header, rows) of the whitespace-separated 2019 output."""
    out = ["#Table1", "ra,dec,z,mag_r"]
    for line in lines[2:]:
        ra, dec, z, mag_r = line.split()[:4]
        if within(float(ra), float(dec)):
            out.append(f"{ra},{dec},{z},{mag_r}")
    return out


def ned_text(lines: list[str]) -> list[str]:
    """The NED text response with only the rows inside the radius (header kept as is)."""
    header_end = next(i for i, line in enumerate(lines) if line.startswith("No.\t"))
    rows = [line for line in lines[header_end + 1:]
            if line.strip() and within(*map(float, line.split("\t")[2:4]))]
    return lines[:header_end + 1] + rows


def main() -> None:
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[3] / "shared" / "data"
    coma = shared / "real" / "coma"
    sdss = sdss_csv((coma / "sdss_coma_vicinity.dat").read_text().splitlines())
    (HERE / "skyserver_coma_30arcmin.csv").write_text("\n".join(sdss) + "\n")
    ned = ned_text((coma / "ned_coma_cz2000-12000_500arcmin.txt").read_text().splitlines())
    (HERE / "ned_coma_30arcmin.txt").write_text("\n".join(ned) + "\n")
    print(f"wrote {len(sdss) - 2} SDSS rows and the NED rows within {RADIUS_ARCMIN} arcmin")


if __name__ == "__main__":
    main()
