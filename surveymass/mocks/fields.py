"""Mock sky fields: a simulated cluster as the survey would have observed it.

For one halo and one line of sight n (a unit vector in the box):

1. Observer. The cluster's comoving distance D_cl is drawn uniformly in comoving volume
   between D_C(z_min) and D_C(z_max) of the survey; the observer sits at halo - D_cl n.
   The cluster's sky position is drawn uniformly on the sphere (or inside the survey
   footprint when it is used): the box is rotated so that n points to (ra_cl, dec_cl),
   with a random roll about n. The cluster redshift z_cl is the observed redshift of the
   halo centre, (1 + z_cos(D_cl)) (1 + v_halo . n / c) - 1, without measurement error.
2. Window. Galaxies within a cone around n are gathered: |s| < L along n, where L is the
   comoving depth of |v| < v_max + velocity margin at z_max, and a projected radius that
   grows with distance as the aperture's angle does. Displacements from the halo are
   minimum images in the periodic box (so L must be below half the box). Queries are a
   chain of spheres along n in periodic KD-trees (scipy cKDTree with ``boxsize``), one
   tree per 0.5-mag slice of absolute magnitude: each sphere visits only the slices bright
   enough to pass the magnitude limit at its distance, so the far side of the window
   touches few galaxies. Set-up costs one pass over the catalogue (~30 s for the default
   5.8e7-galaxy universe); memory is the catalogue plus ~110 bytes per galaxy (12 GB peak
   for that universe, its 5.5 GB included).
3. Sky. For each galaxy: comoving distance d and direction, ra/dec; z_cos from d
   (:func:`surveymass.cosmology.distance_table`); (1 + z_obs) = (1 + z_cos)(1 + v_pec . u/c)
   with u the galaxy's own line of sight (DESIGN); a Gaussian redshift error of
   ``survey.velocity_error_kms`` (rest frame); the apparent magnitude
   (:func:`surveymass.photometry.apparent_magnitude`).
4. Survey, through :func:`surveymass.observe.observe_field` (the path of real catalogues in
   ``infer``): :meth:`~surveymass.survey.SurveyConfig.observes` (the magnitude limit, and
   for a volume-limited survey the absolute-magnitude and galaxy-redshift limits from the
   observed redshift, as for real data); fibre collisions among the observable galaxies of
   the window (:func:`surveymass.masks.fibres.apply_fibre_collisions`; galaxies far outside
   the velocity window are not in it, which misses the few collisions with unrelated
   fore/background galaxies); optionally the footprint completeness.
5. Phase space by :func:`surveymass.phasespace.sky_to_phase_space` and the
   :class:`~surveymass.phasespace.Aperture` cut (also in ``observe_field``). ``cylindrical``
   keeps every galaxy in the aperture, ``idealised`` only members of the target halo (in the
   aperture too, so that the setups differ only by interlopers). Fields with fewer than
   ``aperture.min_galaxies`` galaxies are dropped.

Truth: ``is_member`` (host is the target halo; centrals of neighbouring halos are
interlopers, as in the Deep Sets paper sec. 4.1), ``host_id``, ``host_log10_m200c``,
``is_central``. Every field is reproducible from (seed, halo_id, los_index) alone (and
the cluster redshift, when it is imposed).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import chain

import numpy as np
from scipy.spatial import cKDTree

from surveymass.cosmology import C_KMS, colossus_cosmology, distance_table
from surveymass.errors import InputError, SurveymassError
from surveymass.masks.fibres import apply_survey_fibre_collisions
from surveymass.masks.footprint import load_footprint
from surveymass.mocks.config import MockConfig
from surveymass.observe import observe_field
from surveymass.phasespace import observed_redshift
from surveymass.photometry import (
    Z_MAX_KCORRECTION,
    absolute_magnitude_limit,
    apparent_magnitude,
    distance_modulus_from_distance,
    k_correction_r,
)
from surveymass.survey import SurveyConfig
from surveymass.universe.store import HALO_COLUMNS, Universe
from surveymass.universe.synthetic.config import GENERATOR, SyntheticConfig
from surveymass.universe.synthetic.galaxies import GalaxyModel, magnitude_map
from surveymass.universe.synthetic.nuisance import (
    COLUMN_PREFIX,
    DEVIATE_COLUMN,
    galaxy_halo_config,
)

#: Fractional margin of the gathered cone beyond the aperture radius (for fibre neighbours).
_RADIUS_MARGIN = 0.1
#: Magnitude margin when pre-selecting the galaxies a window can possibly observe.
_MAG_MARGIN = 0.05
#: Highest cluster redshift (the window and K-corrections must stay below z = 0.3).
_Z_MAX_CLUSTER = 0.25
#: Width of the absolute-magnitude slices, each with its own KD-tree [mag].
_SLICE_MAG = 0.5


@dataclass
class MockField:
    """One accepted field: a row of truth and observables, and its galaxies' columns."""

    row: dict
    galaxies: dict[str, np.ndarray]


def _perpendicular_basis(n: np.ndarray, roll: float) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors completing ``n`` to a right-handed basis, rotated by ``roll``."""
    helper = np.array([1.0, 0.0, 0.0]) if abs(n[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    a = np.cross(n, helper)
    a /= np.linalg.norm(a)
    b = np.cross(n, a)
    return np.cos(roll) * a + np.sin(roll) * b, -np.sin(roll) * a + np.cos(roll) * b


def _sky_basis(ra_deg: float, dec_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit vectors (radial, east, north) at (ra, dec) in equatorial Cartesian axes."""
    ra, dec = np.radians(ra_deg), np.radians(dec_deg)
    radial = np.array([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])
    east = np.array([-np.sin(ra), np.cos(ra), 0.0])
    north = np.cross(radial, east)
    return radial, east, north


def check_window(survey: SurveyConfig, config: MockConfig, cosmology,
                 box_size: float) -> float:
    """Raise :class:`InputError` unless mocks of ``survey`` fit a box of ``box_size``
    [h^-1 Mpc]; returns the window's half depth L [h^-1 Mpc], the comoving depth of
    |v| < v_max + velocity margin (largest over the survey's redshifts)."""
    if not isinstance(survey, SurveyConfig):
        raise InputError("survey must be a SurveyConfig (see surveymass.survey.load_survey)")
    if survey.z_max > _Z_MAX_CLUSTER:
        raise InputError(f"survey {survey.name!r} has clusters to z_max = {survey.z_max}; "
                         f"mocks support z_max <= {_Z_MAX_CLUSTER} (K-corrections are "
                         f"used to z = {Z_MAX_KCORRECTION})")
    v = config.aperture.v_max + config.velocity_margin_kms
    zs = np.array([survey.z_min, survey.z_max])
    half_length = float(np.max((1 + zs) * v / (100.0 * cosmology.efunc(zs))))
    d_min = float(distance_table(cosmology).comoving_distance(survey.z_min))
    cone_radius = config.aperture.r_max * (1 + _RADIUS_MARGIN)
    extent = np.hypot(half_length, cone_radius * (d_min + half_length) / d_min)
    if extent >= box_size / 2:
        raise InputError(
            f"the mock window (depth +-{half_length:.1f} h^-1 Mpc for |v_los| < {v:.0f} km/s) "
            f"is larger than half the box ({box_size / 2:.1f} h^-1 Mpc): galaxies would be "
            "seen twice. Use a larger universe, or a smaller aperture v_max / velocity "
            "margin.")
    return half_length


class FieldMaker:
    """Makes mock fields from one universe for one survey (validates everything first)."""

    def __init__(self, universe: Universe, survey: SurveyConfig, config: MockConfig,
                 seed: int = 0):
        self.half_length = check_window(survey, config, universe.cosmology, universe.box_size)
        universe.validate()
        self.universe, self.survey, self.config, self.seed = universe, survey, config, seed
        self.cosmology = universe.cosmology
        self._table = distance_table(self.cosmology, z_max=max(0.5, 2 * survey.z_max))
        self.d_min = float(self._table.comoving_distance(survey.z_min))
        self.d_max = float(self._table.comoving_distance(survey.z_max))
        self.cone_radius = config.aperture.r_max * (1 + _RADIUS_MARGIN)
        self._footprint = self._load_footprint() if config.footprint else None
        self._repaint_base = self._repaint_config() if config.galaxy_halo else None
        self._prepare_catalogue()
        self._build_slices()

    # -- set-up -----------------------------------------------------------------------
    def _load_footprint(self):
        if self.survey.footprint_path is None:
            raise InputError(f"survey {self.survey.name!r} has no footprint map; make mocks "
                             "without the footprint (footprint=False)")
        return load_footprint(self.survey.footprint_path)

    def _repaint_config(self) -> tuple[SyntheticConfig, object]:
        """The universe's synthetic config and magnitude map, which repainting reuses."""
        if self.universe.provenance.get("generator") != GENERATOR:
            raise InputError(
                "a galaxy-halo prior repaints the target halo's satellites with the "
                "universe's own galaxy model, which only synthetic universes (built by "
                "'surveymass universe') store; this universe comes from "
                f"{self.universe.config.get('source', 'elsewhere')!r}: make its mocks "
                "without a galaxy-halo prior (--galaxy-halo none)")
        config = SyntheticConfig.from_dict(self.universe.config)
        colossus_cosmology(self.cosmology, config.sigma8, config.ns)
        return config, magnitude_map(config)

    def _prepare_catalogue(self) -> None:
        gal, halos = self.universe.galaxies, self.universe.halos
        self._halo_order = np.argsort(halos["halo_id"])
        self._halo_ids_sorted = halos["halo_id"][self._halo_order]
        host_row = self._halo_order[np.searchsorted(self._halo_ids_sorted, gal["host_id"])]
        self._host_log_mass = np.log10(halos["m200c"][host_row]).astype(np.float32)
        self._warn_if_shallow()

    def _columns(self, prefix: str, rows: np.ndarray) -> np.ndarray:
        """(len(rows), 3) float64 of galaxy columns prefix + x, y, z (positions or
        velocities), gathered without keeping a copy of the whole catalogue."""
        gal = self.universe.galaxies
        return np.column_stack([gal[prefix + axis][rows] for axis in "xyz"]).astype(float)

    def _warn_if_shallow(self) -> None:
        faintest = float(np.max(self.universe.galaxies["mag_r"]))
        needed = float(absolute_magnitude_limit(self.survey.z_min, self.survey,
                                                self.cosmology))
        if needed > faintest + 0.1:
            warnings.warn(f"the survey reaches M_r - 5 log h = {needed:.2f} at z_min = "
                          f"{self.survey.z_min} but the universe holds galaxies only to "
                          f"{faintest:.2f}: low-redshift fields miss faint galaxies",
                          stacklevel=3)

    def halo_row(self, halo_id: int) -> int:
        """Row of ``halo_id`` in the universe's halo table."""
        i = int(np.searchsorted(self._halo_ids_sorted, halo_id))
        if i >= len(self._halo_ids_sorted) or self._halo_ids_sorted[i] != halo_id:
            raise InputError(f"halo {halo_id} is not in the universe")
        return int(self._halo_order[i])

    # -- luminosity slices --------------------------------------------------------------
    def _build_slices(self) -> None:
        """One periodic KD-tree per slice of absolute magnitude (all galaxies, once).

        A query then visits, at each point of the window, only the slices bright enough
        to pass the magnitude limit there: far parts of the window touch few galaxies."""
        mag = self.universe.galaxies["mag_r"]
        first = np.floor(mag.min())
        edges = first + _SLICE_MAG * np.arange(int((mag.max() - first) / _SLICE_MAG) + 2)
        which = np.digitize(mag, edges) - 1
        self._slices = []
        for k in range(len(edges) - 1):
            index = np.flatnonzero(which == k)
            if index.size:
                # sliding-midpoint trees: 2x faster to build, as fast to query here
                tree = cKDTree(np.mod(self._columns("", index), self.universe.box_size),
                               boxsize=self.universe.box_size, balanced_tree=False,
                               compact_nodes=False)
                self._slices.append((float(edges[k]), index, tree))
        z_grid = np.linspace(0.0, Z_MAX_KCORRECTION, 300)
        colours = np.linspace(-0.5, 1.5, 41)
        self._k_min = (z_grid, k_correction_r(z_grid[:, None], colours[None, :]).min(axis=1))

    def _faintest_visible(self, d_near: np.ndarray) -> np.ndarray:
        """Faintest absolute magnitude any galaxy at comoving distance >= ``d_near`` can
        have and still pass the magnitude limit (bluest K-correction, velocity margin)."""
        z_cos = self._table.redshift(d_near)
        z_near = np.maximum(observed_redshift(z_cos, -self.config.velocity_margin_kms), 1e-4)
        k_min = np.interp(z_near, *self._k_min)
        faintest = (self.survey.mag_limit - distance_modulus_from_distance(d_near, z_near)
                    - k_min + _MAG_MARGIN)
        if self.survey.abs_mag_limit is None:
            return faintest
        # the survey's absolute magnitudes use D_M(z_obs): a galaxy receding by the
        # velocity margin looks brighter by 5 log10(D_M(z_obs) / D_M(z_cos))
        z_far = observed_redshift(z_cos, self.config.velocity_margin_kms)
        brightening = 5 * np.log10(self._table.transverse_distance(z_far)
                                   / self._table.transverse_distance(np.maximum(z_cos, 1e-4)))
        return np.minimum(faintest, self.survey.abs_mag_limit + brightening + _MAG_MARGIN)

    def _gather(self, centre: np.ndarray, n: np.ndarray, d_cl: float) -> np.ndarray:
        """Indices of galaxies in the window cone around ``centre`` along ``n`` that the
        survey could possibly observe (a superset: exact cuts follow)."""
        start = max(-self.half_length, -d_cl + 1.0)
        step = 2.0 * self.cone_radius
        s = np.arange(start + step / 2, self.half_length + step / 2, step)
        far_radius = self.cone_radius * (d_cl + s + step / 2) / d_cl
        radii = np.hypot(far_radius, step / 2)
        points = np.mod(centre + s[:, None] * n, self.universe.box_size)
        faintest = self._faintest_visible(np.maximum(d_cl + s - radii, 1.0))
        found = []
        for bright_edge, index, tree in self._slices:
            use = faintest >= bright_edge
            if not use.any():
                break
            hits = tree.query_ball_point(points[use], radii[use], return_sorted=False)
            found.append(index[np.fromiter(chain.from_iterable(hits), dtype=np.int64)])
        return np.unique(np.concatenate(found)) if found else np.empty(0, np.int64)

    # -- one field --------------------------------------------------------------------
    def make(self, halo_row: int, direction: np.ndarray, los_index: int,
             z_cos: float | None = None) -> MockField | None:
        """The mock field of universe halo ``halo_row`` seen along ``direction``, or None
        when it fails the richness cut. ``z_cos`` places the halo at that cosmological
        redshift instead of a random one (z_min <= z_cos <= z_max)."""
        if z_cos is not None and not self.survey.z_min <= z_cos <= self.survey.z_max:
            raise InputError(f"z_cos={z_cos} is outside the survey's cluster range "
                             f"[{self.survey.z_min}, {self.survey.z_max}]")
        halos = self.universe.halos
        halo_id = int(halos["halo_id"][halo_row])
        rng = np.random.default_rng([self.seed, halo_id, los_index])
        n = np.asarray(direction, float) / np.linalg.norm(direction)
        u = rng.random()
        d_cl = (self.d_min**3 + u * (self.d_max**3 - self.d_min**3)) ** (1 / 3)
        if z_cos is not None:
            d_cl = float(self._table.comoving_distance(z_cos))
        ra_cl, dec_cl = self._cluster_position(rng)
        box_axes = (n, *_perpendicular_basis(n, rng.uniform(0, 2 * np.pi)))
        centre = np.array([halos[k][halo_row] for k in ("x", "y", "z")], float)
        v_halo = np.array([halos[k][halo_row] for k in ("vx", "vy", "vz")], float)
        z_cl = float(observed_redshift(self._table.redshift(d_cl), v_halo @ n))

        window, delta = self._window(centre, n, d_cl)
        nuisance = None
        if self._repaint_base is not None:
            window, delta, nuisance = self._repaint(
                window, delta, halo_row, n, d_cl,
                np.random.default_rng([self.seed, halo_id, los_index, 1]))
        sky = self._observe(window, delta, d_cl, box_axes, _sky_basis(ra_cl, dec_cl), rng)
        field = self._cut(halo_row, halo_id, los_index, n, (ra_cl, dec_cl, z_cl),
                          window, sky, rng)
        if field is not None and nuisance is not None:
            field.row.update(nuisance)
        return field

    def _in_cone(self, delta: np.ndarray, n: np.ndarray, d_cl: float) -> np.ndarray:
        """Mask of displacements [h^-1 Mpc] from the halo inside the window cone."""
        s = delta @ n
        perp2 = np.einsum("ij,ij->i", delta, delta) - s**2
        return ((np.abs(s) <= self.half_length) & (d_cl + s > 0)
                & (perp2 <= (self.cone_radius * (d_cl + s) / d_cl) ** 2))

    def _window(self, centre: np.ndarray, n: np.ndarray,
                d_cl: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The galaxies in the window cone (columns galaxy_id, host_id, is_central,
        vel [km/s, (n, 3)], mag_r, color_gr and host_log10_m200c) and their minimum-image
        displacements [h^-1 Mpc] from the halo centre."""
        g = self._gather(centre, n, d_cl)
        box = self.universe.box_size
        delta = self._columns("", g) - centre
        delta -= box * np.round(delta / box)
        inside = self._in_cone(delta, n, d_cl)
        g = g[inside]
        gal = self.universe.galaxies
        window = {"galaxy_id": gal["galaxy_id"][g], "host_id": gal["host_id"][g],
                  "is_central": gal["is_central"][g], "vel": self._columns("v", g),
                  "mag_r": gal["mag_r"][g], "color_gr": gal["color_gr"][g],
                  "host_log10_m200c": self._host_log_mass[g]}
        return window, delta[inside]

    def _repaint(self, window: dict[str, np.ndarray], delta: np.ndarray, halo_row: int,
                 n: np.ndarray, d_cl: float, rng: np.random.Generator
                 ) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, float]]:
        """The window with the target halo's satellites replaced by new ones drawn with
        nuisance values from the prior (the central and every other halo's galaxies stay);
        returns the window, the displacements and the drawn values (training-set columns).
        Repainted satellites have galaxy_id < 0."""
        base, mag_map = self._repaint_base
        values = self.config.galaxy_halo.draw(rng)
        model = GalaxyModel(galaxy_halo_config(base, values), mag_map)
        deviate = model.number_deviates(1, rng)
        halos = self.universe.halos
        halo = {key: halos[key][[halo_row]] for key in HALO_COLUMNS}
        new = model.satellites(halo, 0, rng, deviate)
        box = self.universe.box_size
        centre = np.array([halos[k][halo_row] for k in ("x", "y", "z")], float)
        new_delta = np.column_stack([new[a] for a in "xyz"]).astype(float) - centre
        new_delta -= box * np.round(new_delta / box)
        inside = self._in_cone(new_delta, n, d_cl)
        new_columns = {"galaxy_id": -1 - new["galaxy_id"], "host_id": new["host_id"],
                       "is_central": new["is_central"],
                       "vel": np.column_stack([new["v" + a] for a in "xyz"]).astype(float),
                       "mag_r": new["mag_r"], "color_gr": new["color_gr"],
                       "host_log10_m200c": np.full(new["host_id"].size,
                                                   np.log10(halos["m200c"][halo_row]),
                                                   np.float32)}
        keep = ~((window["host_id"] == halo["halo_id"][0]) & ~window["is_central"])
        window = {key: np.concatenate([window[key][keep], new_columns[key][inside]])
                  for key in window}
        drawn = {COLUMN_PREFIX + name: value for name, value in values.items()}
        drawn[DEVIATE_COLUMN] = float(deviate[0])
        return window, np.concatenate([delta[keep], new_delta[inside]]), drawn

    def _observe(self, window, delta, d_cl, box_axes, sky_axes, rng) -> dict[str, np.ndarray]:
        """ra, dec [deg], z (observed, with error), z_err and mag_r of the ``window``
        galaxies at displacements ``delta`` from a halo at distance ``d_cl`` along
        box_axes[0]; the box axes (n, e1, e2) map onto the sky axes (radial, east, north).
        Galaxies with z <= 0 get mag_r = inf (never selected)."""
        q = d_cl * box_axes[0] + delta
        dist = np.linalg.norm(q, axis=1)
        unit = q / dist[:, None]
        sky = sum(np.outer(unit @ b, s) for b, s in zip(box_axes, sky_axes))
        z_cos = self._table.redshift(dist)
        v_pec = np.einsum("ij,ij->i", window["vel"], unit)
        z_obs = observed_redshift(z_cos, v_pec)
        z_err = self.survey.velocity_error_kms * (1 + z_obs) / C_KMS
        z_obs = z_obs + z_err * rng.standard_normal(len(dist))
        seen = z_obs > 0  # blueshifted foreground: thousands of km/s from any cluster
        mag = np.full(len(dist), np.inf)
        mag[seen] = apparent_magnitude(window["mag_r"][seen], z_obs[seen],
                                       self._table.transverse_distance(z_cos[seen]),
                                       window["color_gr"][seen])
        return {"ra": np.degrees(np.arctan2(sky[:, 1], sky[:, 0])) % 360.0,
                "dec": np.degrees(np.arcsin(np.clip(sky[:, 2], -1, 1))),
                "z": z_obs, "z_err": z_err, "mag_r": mag}

    def _cluster_position(self, rng: np.random.Generator) -> tuple[float, float]:
        """(ra, dec) [deg] uniform on the sphere, or inside the footprint when used."""
        for _ in range(1000):
            ra = rng.uniform(0.0, 360.0, 64)
            dec = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, 64)))
            if self._footprint is None:
                return float(ra[0]), float(dec[0])
            inside = np.flatnonzero(rng.random(64) < self._footprint.completeness(ra, dec))
            if inside.size:
                return float(ra[inside[0]]), float(dec[inside[0]])
        raise SurveymassError("could not place a cluster inside the survey footprint "
                              "(is the footprint map empty?)")

    def _spectra(self, sky, observed: np.ndarray, rng) -> np.ndarray:
        """The ``observed`` galaxies of ``sky`` that also get a spectrum: the survey's fibre
        collisions and the footprint's completeness (both simulated here; a real
        catalogue has suffered them)."""
        ra, dec = sky["ra"], sky["dec"]
        keep = observed.copy()
        if self.config.fibre_collisions and keep.sum() > 1:
            idx = np.flatnonzero(keep)
            kept = apply_survey_fibre_collisions(ra[idx], dec[idx], self.survey, seed=rng)
            keep[idx[~kept]] = False
        if self._footprint is not None and keep.any():
            idx = np.flatnonzero(keep)
            complete = self._footprint.completeness(ra[idx], dec[idx])
            keep[idx[rng.random(idx.size) >= complete]] = False
        return keep

    def _cut(self, halo_row, halo_id, los_index, n, cluster, window, sky,
             rng) -> MockField | None:
        """The field as the survey observes it (:func:`surveymass.observe.observe_field`),
        the richness cut, the field's truth and galaxy columns. ``cluster`` is (ra, dec,
        z); ``sky`` the observed columns of the ``window`` galaxies."""
        if window["host_id"].size == 0:
            return None
        ra_cl, dec_cl, z_cl = cluster
        seen = observe_field(sky["ra"], sky["dec"], sky["z"], sky["mag_r"], cluster,
                              self.survey, self.config.aperture, self.cosmology,
                              color_gr=window["color_gr"],
                              spectra=lambda observed: self._spectra(sky, observed, rng))
        member = window["host_id"] == halo_id
        keep = seen.in_aperture & member if self.config.setup == "idealised" else seen.in_aperture
        if keep.sum() < self.config.aperture.min_galaxies:
            return None
        ps = seen.phase_space
        row = {
            "halo_id": halo_id, "los_index": los_index,
            "los_x": n[0], "los_y": n[1], "los_z": n[2],
            "log10_m200c": float(np.log10(self.universe.halos["m200c"][halo_row])),
            "z_cl": z_cl, "ra_cl": ra_cl, "dec_cl": dec_cl,
            "n_galaxies": int(keep.sum()), "n_members": int(member[keep].sum()),
        }
        galaxies = {"galaxy_id": window["galaxy_id"][keep],
                    **{key: values[keep] for key, values in sky.items()},
                    "x": ps.x[keep], "y": ps.y[keep], "r": ps.r[keep], "v_los": ps.v_los[keep],
                    "is_member": member[keep], "host_id": window["host_id"][keep],
                    "host_log10_m200c": window["host_log10_m200c"][keep],
                    "is_central": window["is_central"][keep]}
        return MockField(row=row, galaxies=galaxies)

