"""Write vizier_galwcat19.xml: a reconstruction of VizieR's VOTable answer for J/ApJS/246/2.

Run from the repository root: ``python tests/data/recorded/build_vizier_galwcat19.py``.
See README.md beside this file for what is real and what is format-only.
"""

from pathlib import Path

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
 <DESCRIPTION>VizieR Astronomical Server vizier.cds.unistra.fr (reconstruction for tests)</DESCRIPTION>
 <COOSYS ID="J2000" system="eq_FK5" equinox="J2000"/>
 <RESOURCE ID="yCat_22460002" name="J/ApJS/246/2">
  <DESCRIPTION>GalWeight cluster catalog GalWCat19 from SDSS-DR13 (Abdullah+, 2020)</DESCRIPTION>
"""

CLUSTER_FIELDS = """  <TABLE ID="J_ApJS_246_2_clusters" name="J/ApJS/246/2/clusters">
   <DESCRIPTION>GalWCat19 cluster catalog</DESCRIPTION>
   <FIELD name="GalWCat19" ucd="meta.id;meta.main" datatype="short" width="4"><DESCRIPTION>Cluster identifier</DESCRIPTION></FIELD>
   <FIELD name="RAJ2000" ucd="pos.eq.ra;meta.main" ref="J2000" datatype="double" width="9" precision="5" unit="deg"><DESCRIPTION>Right ascension (J2000)</DESCRIPTION></FIELD>
   <FIELD name="DEJ2000" ucd="pos.eq.dec;meta.main" ref="J2000" datatype="double" width="9" precision="5" unit="deg"><DESCRIPTION>Declination (J2000)</DESCRIPTION></FIELD>
   <FIELD name="z" ucd="src.redshift" datatype="float" width="6" precision="4"><DESCRIPTION>Cluster redshift</DESCRIPTION></FIELD>
   <FIELD name="N200" ucd="meta.number" datatype="short" width="4"><DESCRIPTION>Number of members within R200</DESCRIPTION></FIELD>
   <FIELD name="sigma200" ucd="phys.veloc.dispersion" datatype="short" width="4" unit="km/s"><DESCRIPTION>Velocity dispersion within R200</DESCRIPTION></FIELD>
   <FIELD name="R200" ucd="phys.size.radius" datatype="float" width="5" precision="2" unit="Mpc"><DESCRIPTION>Radius with mean density 200 times critical (h-1 Mpc)</DESCRIPTION></FIELD>
   <FIELD name="M200" ucd="phys.mass" datatype="float" width="6" precision="2" unit="10+14solMass"><DESCRIPTION>Mass within R200 (h-1 Msun)</DESCRIPTION></FIELD>
   <FIELD name="e_M200" ucd="stat.error;phys.mass" datatype="float" width="5" precision="2" unit="10+14solMass"><DESCRIPTION>Uncertainty in M200</DESCRIPTION></FIELD>
   <DATA><TABLEDATA>
"""

# GalWCat19, RA, Dec, z, N200, sigma200, R200, M200, e_M200; see README.md for each row.
CLUSTER_ROWS = [
    ("3", "194.95000", "27.98000", "0.0231", "", "", "", "", ""),
    ("1001", "14.08917", "-1.26306", "0.0442", "", "", "", "4.07", "1.03"),
    ("1002", "358.54208", "-10.40500", "0.0762", "", "", "", "5.25", "1.21"),
    ("9001", "150.00000", "2.20000", "0.1000", "25", "600", "1.00", "2.00", "0.40"),
    ("9002", "230.00000", "30.00000", "0.0500", "40", "700", "1.10", "3.00", "0.50"),
]

MEMBER_TABLE = """  <TABLE ID="J_ApJS_246_2_members" name="J/ApJS/246/2/members">
   <DESCRIPTION>GalWCat19 member galaxies</DESCRIPTION>
   <FIELD name="GalWCat19" ucd="meta.id.parent" datatype="short" width="4"><DESCRIPTION>Cluster identifier</DESCRIPTION></FIELD>
   <FIELD name="RAJ2000" ucd="pos.eq.ra;meta.main" ref="J2000" datatype="double" width="9" precision="5" unit="deg"/>
   <FIELD name="DEJ2000" ucd="pos.eq.dec;meta.main" ref="J2000" datatype="double" width="9" precision="5" unit="deg"/>
   <FIELD name="z" ucd="src.redshift" datatype="float" width="7" precision="5"/>
   <DATA><TABLEDATA>
<TR><TD>9001</TD><TD>150.01000</TD><TD>2.21000</TD><TD>0.10010</TD></TR>
<TR><TD>9001</TD><TD>149.99000</TD><TD>2.19000</TD><TD>0.09950</TD></TR>
<TR><TD>9002</TD><TD>230.02000</TD><TD>30.01000</TD><TD>0.05030</TD></TR>
   </TABLEDATA></DATA>
  </TABLE>
"""

FOOTER = """ </RESOURCE>
</VOTABLE>
"""


def votable() -> str:
    rows = "".join("<TR>" + "".join(f"<TD>{v}</TD>" for v in row) + "</TR>\n"
                   for row in CLUSTER_ROWS)
    clusters = CLUSTER_FIELDS + rows + "   </TABLEDATA></DATA>\n  </TABLE>\n"
    return HEADER + clusters + MEMBER_TABLE + FOOTER


if __name__ == "__main__":
    out = Path(__file__).with_name("vizier_galwcat19.xml")
    out.write_text(votable())
    print(f"wrote {out}")
