"""Write vizier_galwcat19.xml: real GalWCat19 rows in the VOTable form of a VizieR answer.

Run from the repository root:
``python tests/data/recorded/build_vizier_galwcat19.py [SAMPLE]``, where SAMPLE defaults to
``../shared/data/real/literature/GalWCat19_galwcls_z0.12plus_sample.dat`` (40 exact lines of
the VizieR table J/ApJS/246/2 ``galwcls``, '|'-separated, no header; see shared/data/README.md).
Each cell is the line's text, stripped; nothing is recomputed or rounded. See README.md beside
this file for what is recorded and what follows VizieR's conventions.
"""

import sys
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
SAMPLE = (HERE.parents[3] / "shared" / "data" / "real" / "literature"
          / "GalWCat19_galwcls_z0.12plus_sample.dat")

#: The overdensities of the table's four blocks (x critical density).
DELTAS = ("500", "200", "100", "5.5")


def _block(delta: str) -> list[tuple[str, str, str, str, str]]:
    """The seven columns of one overdensity block (r, N, sig, e_sig, E_sig, M, e_M)."""
    return [
        (f"r{delta}", "double", "Mpc", "phys.size.radius",
         f"Radius enclosing {delta} times the critical density (h-1 Mpc)"),
        (f"N{delta}", "short", "", "meta.number", f"Number of members within r{delta}"),
        (f"sig{delta}", "double", "km/s", "phys.veloc.dispersion",
         f"Velocity dispersion of the members within r{delta}"),
        (f"e_sig{delta}", "double", "km/s", "stat.error", f"Lower error of sig{delta}"),
        (f"E_sig{delta}", "double", "km/s", "stat.error", f"Upper error of sig{delta}"),
        (f"M{delta}", "double", "solMass", "phys.mass", f"Mass within r{delta} (h-1 Msun)"),
        (f"e_M{delta}", "double", "solMass", "stat.error", f"Error of M{delta} (h-1 Msun)"),
    ]


#: (label, VOTable datatype, unit, UCD, description) of the 39 columns, in the order of
#: the CDS ReadMe (shared/data/README.md). Units are CDS strings; VizieR units cannot carry
#: h, so the h^-1 of radii and masses is in the descriptions.
COLUMNS = [
    ("ClID", "short", "", "meta.id;meta.main", "GalWCat19 cluster identifier (by descending M200)"),
    ("RAdeg", "double", "deg", "pos.eq.ra;meta.main", "Right ascension (J2000)"),
    ("DEdeg", "double", "deg", "pos.eq.dec;meta.main", "Declination (J2000)"),
    ("z", "double", "", "src.redshift", "Cluster redshift"),
    ("RV", "double", "km/s", "spect.dopplerVeloc", "Recession velocity"),
    ("CoDist", "double", "Mpc", "pos.distance", "Comoving distance (h-1 Mpc)"),
    *(column for delta in DELTAS for column in _block(delta)),
    ("Rs", "double", "Mpc", "phys.size.radius", "NFW scale radius (h-1 Mpc)"),
    ("e_Rs", "double", "Mpc", "stat.error", "Error of Rs"),
    ("Ms", "double", "solMass", "phys.mass", "Mass within Rs (h-1 Msun)"),
    ("e_Ms", "double", "solMass", "stat.error", "Error of Ms"),
    ("conc", "double", "", "phys.size;arith.ratio", "NFW concentration"),
]

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
 <DESCRIPTION>VizieR Astronomical Server vizier.cds.unistra.fr</DESCRIPTION>
 <!-- real GalWCat19 rows in VizieR's form: see README.md -->
 <COOSYS ID="J2000" system="eq_FK5" equinox="J2000"/>
 <RESOURCE ID="yCat_22460002" name="J/ApJS/246/2">
  <DESCRIPTION>GalWeight cluster catalogue GalWCat19 from SDSS-DR13 (Abdullah+, 2020)</DESCRIPTION>
  <TABLE ID="J_ApJS_246_2_galwcls" name="J/ApJS/246/2/galwcls">
   <DESCRIPTION>GalWCat19 clusters ({n} of the 1800 rows)</DESCRIPTION>
"""

FOOTER = """   </TABLEDATA></DATA>
  </TABLE>
 </RESOURCE>
</VOTABLE>
"""


def _field(label: str, datatype: str, unit: str, ucd: str, description: str) -> str:
    unit_attr = f' unit="{unit}"' if unit else ""
    ref = ' ref="J2000"' if ucd.startswith("pos.eq.") else ""
    return (f'   <FIELD name="{escape(label)}" ucd="{ucd}"{ref} datatype="{datatype}"'
            f"{unit_attr}><DESCRIPTION>{escape(description)}</DESCRIPTION></FIELD>\n")


def read_sample(path: Path) -> list[list[str]]:
    """The cells of each line, stripped; every line must have the 39 columns."""
    rows = [[cell.strip() for cell in line.split("|")]
            for line in path.read_text().splitlines() if line.strip()]
    bad = [i + 1 for i, row in enumerate(rows) if len(row) != len(COLUMNS)]
    if bad:
        raise SystemExit(f"{path}: lines {bad} do not have {len(COLUMNS)} '|'-separated cells")
    return rows


def votable(rows: list[list[str]]) -> str:
    fields = "".join(_field(*column) for column in COLUMNS)
    data = "".join("<TR>" + "".join(f"<TD>{escape(v)}</TD>" for v in row) + "</TR>\n"
                   for row in rows)
    return (HEADER.format(n=len(rows)) + fields + "   <DATA><TABLEDATA>\n" + data + FOOTER)


if __name__ == "__main__":
    sample = Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE
    out = HERE / "vizier_galwcat19.xml"
    rows = read_sample(sample)
    out.write_text(votable(rows))
    print(f"wrote {out} ({len(rows)} rows from {sample})")
