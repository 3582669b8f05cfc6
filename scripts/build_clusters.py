"""Build surveymass/data/catalogs/clusters.ecsv, the shipped cluster registry.

Run from the repository root:  python scripts/build_clusters.py [SHARED_DATA]

Rows, in order of precedence (a name already present is not added again):
1. the hand-curated clusters below (the neural-flows paper's Table 1 and well-known nearby
   clusters), with NED J2000 centres and NED redshifts;
2. HeCS, Rines et al. (2013, ApJ 767, 15), VizieR J/ApJ/767/15 table1 (58 clusters);
3. Mahdavi & Geller (2001, ApJ 554, L129), VizieR J/ApJ/554/L129 (280 systems, NED positions,
   redshifts to 3 decimals), with the names its table holds cut short or run together
   replaced (``SOURCE_NAME_FIXES``).
Both literature tables are read from shared/data/real/literature (see its README). The
registry is written to the catalogs/ folder this script lies in (not to the installed
package's), so a checkout rebuilds its own.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
from astropy.table import Table

from surveymass.provenance import atomic_path

#: The repository root (this script lives in scripts/); SHARED_DATA defaults to ../shared/data.
REPO = Path(__file__).resolve().parents[1]
REGISTRY = REPO / "surveymass" / "data" / "catalogs" / "clusters.ecsv"

NED = "NED J2000 centre and redshift"
#: name, aliases, RA [deg], Dec [deg], z, source.
CURATED = [
    ("Coma", ["A1656", "Abell 1656", "ACO 1656", "Coma cluster"], 194.95, 27.98, 0.0231,
     "shared/data/README.md (Coma, used throughout the project); NED"),
    ("A1689", ["Abell 1689", "ACO 1689"], 197.8729, -1.3411, 0.1832, NED),
    ("A85", ["Abell 85", "ACO 85"], 10.4600, -9.3031, 0.0551, NED),
    ("A119", ["Abell 119", "ACO 119"], 14.0671, -1.2553, 0.0442, NED),
    ("A576", ["Abell 576", "ACO 576"], 110.3763, 55.7619, 0.0389, NED),
    ("A1651", ["Abell 1651", "ACO 1651"], 194.8438, -4.1961, 0.0845, NED),
    ("A2142", ["Abell 2142", "ACO 2142"], 239.5833, 27.2333, 0.0909, NED),
    ("A2670", ["Abell 2670", "ACO 2670"], 358.5571, -10.4190, 0.0762, NED),
    ("Virgo", ["Virgo cluster"], 186.6337, 12.7233, 0.0036, NED),
    ("Perseus", ["A426", "Abell 426", "ACO 426", "Perseus cluster"], 49.6517, 41.5150, 0.0179,
     NED),
    ("A2029", ["Abell 2029", "ACO 2029"], 227.7338, 5.7447, 0.0773, NED),
    ("A2199", ["Abell 2199", "ACO 2199"], 247.1592, 39.5514, 0.0302, NED),
    ("A1367", ["Abell 1367", "ACO 1367", "Leo cluster"], 176.1521, 19.7589, 0.0220, NED),
    ("A496", ["Abell 496", "ACO 496"], 68.4079, -13.2619, 0.0329, NED),
    ("A2065", ["Abell 2065", "ACO 2065"], 230.6217, 27.7075, 0.0726, NED),
    ("A2063", ["Abell 2063", "ACO 2063"], 230.7721, 8.6092, 0.0349, NED),
    ("A1795", ["Abell 1795", "ACO 1795"], 207.2188, 26.5928, 0.0625, NED),
    ("A2255", ["Abell 2255", "ACO 2255"], 258.1292, 64.0925, 0.0806, NED),
    ("A168", ["Abell 168", "ACO 168"], 18.7908, 0.2475, 0.0450, NED),
    ("Hercules", ["A2151", "Abell 2151", "ACO 2151", "Hercules cluster"], 241.3125, 17.7486,
     0.0366, NED),
]

HECS_SOURCE = "Rines et al. 2013, ApJ 767, 15 (HeCS, VizieR J/ApJ/767/15 table1)"
MAHDAVI_SOURCE = "Mahdavi & Geller 2001, ApJ 554, L129 (VizieR J/ApJ/554/L129)"
#: Names the Mahdavi & Geller table itself holds damaged (its ``Name`` column has "Centaurus
#: cluster" and "Hydra cluster" run together, the first also cut to 15 characters):
#: name and aliases, with the Abell number from the same row's ``Com`` column.
SOURCE_NAME_FIXES = {
    "Centauruscluste": ("Centaurus", ["Centaurus cluster", "A3526", "Abell 3526", "ACO 3526"]),
    "HYDRACLUSTER": ("Hydra", ["Hydra cluster", "A1060", "Abell 1060", "ACO 1060"]),
}


def abell_aliases(name: str) -> tuple[str, list[str]]:
    """Canonical name and aliases: 'Abell 2717' or 'A2717' -> ('A2717', ['Abell 2717', ...])."""
    match = re.fullmatch(r"(?:abell|aco|a)\s*0*(\d+)", name.strip(), flags=re.IGNORECASE)
    if not match:
        return " ".join(name.split()), []
    number = match.group(1)
    return f"A{number}", [f"Abell {number}", f"ACO {number}"]


def hecs_rows(path: Path) -> list[tuple]:
    """Rows of the HeCS table1 (CDS fixed format: Name|RA|Dec|z|...)."""
    rows = []
    for line in path.read_text().splitlines():
        fields = [f.strip() for f in line.split("|")]
        if len(fields) < 4:
            continue
        name, aliases = abell_aliases(fields[0])
        rows.append((name, aliases, float(fields[1]), float(fields[2]), float(fields[3]),
                     HECS_SOURCE))
    return rows


def mahdavi_rows(path: Path) -> list[tuple]:
    """Rows of Mahdavi & Geller (2001) systems (FITS from VizieR)."""
    table = Table.read(path)
    rows = []
    for row in table:
        source_name = str(row["Name"]).strip()
        name, aliases = SOURCE_NAME_FIXES.get(source_name) or abell_aliases(source_name)
        rows.append((name, aliases, float(row["RAJ2000"]), float(row["DEJ2000"]),
                     float(row["z"]), MAHDAVI_SOURCE))
    return rows


def build(shared_data: Path) -> Table:
    """The registry table from the curated rows and the two literature tables."""
    literature = shared_data / "real" / "literature"
    candidates = (CURATED + hecs_rows(literature / "HeCS_Rines2013_J_ApJ_767_15_table1.dat")
                  + mahdavi_rows(literature / "Mahdavi2001_systems_J_ApJ_554_L129.fits"))
    seen: set[str] = set()
    kept = []
    for name, aliases, ra, dec, z, source in candidates:
        keys = {k.lower().replace(" ", "") for k in [name, *aliases]}
        if keys & seen or not np.isfinite([ra, dec, z]).all() or z <= 0:
            continue
        seen |= keys
        kept.append((name, ";".join(aliases), round(ra, 5), round(dec, 5), round(z, 5), source))
    table = Table(rows=kept, names=["name", "aliases", "ra", "dec", "z", "source"],
                  dtype=[str, str, float, float, float, str])
    table["ra"].unit = table["dec"].unit = "deg"
    table["ra"].description = "J2000/ICRS right ascension of the cluster centre"
    table["dec"].description = "J2000/ICRS declination of the cluster centre"
    table["z"].description = "heliocentric redshift"
    table["aliases"].description = "other names, separated by ';'"
    table.meta["comments"] = [("surveymass cluster registry; built by scripts/build_clusters.py "
                               "(see surveymass/data/catalogs/PROVENANCE.md)")]
    return table


def main() -> None:
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data"
    table = build(shared)
    with atomic_path(REGISTRY) as tmp:
        table.write(tmp, format="ascii.ecsv")
    print(f"wrote {len(table)} clusters to {REGISTRY}")


if __name__ == "__main__":
    main()
