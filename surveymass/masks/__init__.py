"""Survey masks: footprints (HEALPix maps, mangle polygons), aperture coverage, fibre
collisions.

- :func:`load_footprint` -> :class:`Footprint` with ``.completeness(ra_deg, dec_deg)``;
- :func:`aperture_coverage` (fraction of a cluster aperture inside a footprint);
- :func:`apply_fibre_collisions` (which mock targets get a spectrum);
- :mod:`surveymass.masks.legacy` builds the shipped SDSS Legacy map.
- :mod:`surveymass.masks.healpix`: HEALPix pixels and maps (on astropy-healpix).
"""

from surveymass.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".fibres": ["apply_fibre_collisions", "apply_survey_fibre_collisions", "collision_pairs"],
    ".footprint": ["Footprint", "HealpixFootprint", "MangleFootprint", "aperture_coverage",
                   "load_footprint", "read_healpix_map", "read_mangle_footprint"],
    ".mangle": ["ManglePolygons", "read_mangle"],
})
