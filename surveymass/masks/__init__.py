"""Survey masks: footprints (HEALPix maps, mangle polygons), aperture coverage, fibre
collisions.

- :func:`load_footprint` -> :class:`Footprint` with ``.completeness(ra_deg, dec_deg)``;
- :func:`aperture_coverage` (fraction of a cluster aperture inside a footprint);
- :func:`apply_fibre_collisions` (which mock targets get a spectrum);
- :mod:`surveymass.masks.legacy` builds the shipped SDSS Legacy map.
"""

from surveymass.masks.fibres import (
    apply_fibre_collisions,
    apply_survey_fibre_collisions,
    collision_pairs,
)
from surveymass.masks.footprint import (
    Footprint,
    HealpixFootprint,
    MangleFootprint,
    aperture_coverage,
    load_footprint,
    read_healpix_map,
    read_mangle_footprint,
)
from surveymass.masks.mangle import ManglePolygons, read_mangle

__all__ = [
    "Footprint", "HealpixFootprint", "MangleFootprint", "ManglePolygons",
    "aperture_coverage", "apply_fibre_collisions", "apply_survey_fibre_collisions",
    "collision_pairs", "load_footprint", "read_healpix_map", "read_mangle",
    "read_mangle_footprint",
]
