"""Mangle polygon files (``.ply``): reading, point-in-polygon weights and areas.

A mangle polygon is the intersection of caps (Hamilton & Tegmark 2004, MNRAS 349, 115;
Swanson et al. 2008, MNRAS 387, 1391). A cap is a unit vector ``(x, y, z)`` and
``cm = 1 - cos(theta)``: for ``cm >= 0`` the cap is the disc of angular radius theta
around the vector, for ``cm < 0`` its complement (``1 - r.x > |cm|``). Every polygon
carries a weight (e.g. a sector's spectroscopic completeness) and its area [sr].

Hand-written because the maintained reader, ``pymangle`` (PyPI 0.9.4), only reads files
pixelized in the simple ``s`` scheme: it fails on the NYU-VAGC windows (``pixelization
1d``) that SDSS masks come in. The tests cross-check this reader against pymangle on the
BOSS outline, which pymangle can read, when it is installed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from surveymass.errors import InputError
from surveymass.masks import healpix
from surveymass.masks.sky import sky_positions, unit_vectors

_POLYGON_RE = re.compile(r"^polygon\s+(-?\d+)\s*\((.*)\)\s*:?\s*$")
_FIELD_RE = re.compile(r"([-+0-9.eE]+)\s+(caps?|weight|pixel|str)\b")

#: HEALPix resolution of the lookup index that pre-selects candidate polygons per point.
_INDEX_NSIDE = 256
#: Points tested per chunk (bounds the memory of the point x cap comparisons).
_CHUNK = 50_000


@dataclass(frozen=True)
class ManglePolygons:
    """The polygons of one mangle file.

    caps: (n_caps, 4) array of x, y, z, cm; cap_start: (n_polygons + 1) offsets of each
    polygon's caps in ``caps``; weights; areas_sr: areas [sr] from the file; ids: the
    polygon numbers of the file; name: where it came from.
    """

    caps: np.ndarray
    cap_start: np.ndarray
    weights: np.ndarray
    areas_sr: np.ndarray
    ids: np.ndarray
    name: str

    @property
    def n_polygons(self) -> int:
        return len(self.weights)

    def area_deg2(self, weighted: bool = False) -> float:
        """Total area [deg^2] of the polygons with non-zero weight (x weight if weighted)."""
        areas = self.areas_sr * (self.weights if weighted else (self.weights != 0))
        return float(np.sum(areas) * np.degrees(1.0) ** 2)

    def polygon_index(self, ra_deg, dec_deg) -> np.ndarray:
        """Index (0-based, file order) of the first polygon containing each point; -1 if none.

        ra_deg, dec_deg: positions [deg] (arrays or scalars).
        """
        ra_deg, dec_deg = sky_positions(ra_deg, dec_deg)
        vec = unit_vectors(ra_deg, dec_deg)
        out = np.full(len(vec), -1, dtype=np.int64)
        index = self._index
        for start in range(0, len(vec), _CHUNK):
            out[start:start + _CHUNK] = self._first_container(vec[start:start + _CHUNK], index)
        return out.reshape(np.shape(ra_deg))

    def weight(self, ra_deg, dec_deg) -> np.ndarray:
        """Weight of the polygon containing each point (0 outside every polygon)."""
        idx = self.polygon_index(ra_deg, dec_deg)
        return np.where(idx >= 0, self.weights[np.maximum(idx, 0)], 0.0)

    @cached_property
    def _index(self) -> _CandidateIndex:
        return _candidate_index(self)

    def _first_container(self, vec: np.ndarray, index: _CandidateIndex) -> np.ndarray:
        pix = healpix.vector_to_pixel(_INDEX_NSIDE, vec)
        point, poly = index.pairs(pix)
        # expand each (point, polygon) pair into its polygon's caps and test them all
        n_caps = np.diff(self.cap_start)[poly]
        pair = np.repeat(np.arange(len(poly)), n_caps)
        cap = self.cap_start[poly][pair] + _ramp(n_caps)
        one_minus_cos = 1.0 - np.einsum("ij,ij->i", vec[point[pair]], self.caps[cap, :3])
        cm = self.caps[cap, 3]
        in_cap = np.where(cm >= 0, one_minus_cos < cm, one_minus_cos > -cm)
        # a pair is inside when no cap rejects it
        rejected = np.zeros(len(poly), dtype=bool)
        np.logical_or.at(rejected, pair[~in_cap], True)
        inside = ~rejected
        out = np.full(len(vec), -1, dtype=np.int64)
        # pairs are ordered by point then polygon: the first hit is the lowest polygon
        hit_points, first = np.unique(point[inside], return_index=True)
        out[hit_points] = poly[inside][first]
        return out


def _ramp(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., c-1 for each count c, concatenated."""
    ends = np.cumsum(counts)
    return np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - counts, counts)


@dataclass(frozen=True)
class _CandidateIndex:
    """The polygons that may overlap each HEALPix pixel (CSR: start offsets, polygons)."""

    start: np.ndarray
    polygons: np.ndarray

    def pairs(self, pix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, polygon) candidate pairs for points in pixels ``pix``, point-major."""
        counts = self.start[pix + 1] - self.start[pix]
        point = np.repeat(np.arange(len(pix)), counts)
        poly = self.polygons[np.repeat(self.start[pix], counts) + _ramp(counts)]
        return point, poly


def _candidate_index(polys: ManglePolygons) -> _CandidateIndex:
    """List, for each pixel of the index, the polygons that may overlap it.

    Hierarchical refinement from nside 1 to ``_INDEX_NSIDE`` (NESTED children): a pixel is
    dropped for a polygon when one cap excludes the disc bounding the pixel. The test is
    conservative (it keeps a few pixels near polygon corners), never wrong.
    """
    poly = np.repeat(np.arange(polys.n_polygons), 12)
    pix = np.tile(np.arange(12), polys.n_polygons)
    nside = 1
    while True:
        keep = _may_overlap(polys, poly, pix, nside)
        poly, pix = poly[keep], pix[keep]
        if nside == _INDEX_NSIDE:
            break
        poly, pix, nside = np.repeat(poly, 4), (4 * pix[:, None] + np.arange(4)).ravel(), 2 * nside
    pix = healpix.nested_to_ring(nside, pix)
    order = np.lexsort((poly, pix))  # by pixel, then polygon (file order)
    start = np.zeros(healpix.npix(nside) + 1, dtype=np.int64)
    np.add.at(start, pix + 1, 1)
    return _CandidateIndex(start=np.cumsum(start), polygons=poly[order])


def _may_overlap(polys: ManglePolygons, poly: np.ndarray, pix: np.ndarray,
                 nside: int) -> np.ndarray:
    """False for (polygon, NESTED pixel) pairs where some cap excludes the whole pixel."""
    centre = healpix.pixel_vectors(nside, pix, nest=True)
    n_caps = np.diff(polys.cap_start)[poly]
    pair = np.repeat(np.arange(len(poly)), n_caps)
    cap = polys.caps[polys.cap_start[poly][pair] + _ramp(n_caps)]
    distance = np.arccos(np.clip(np.einsum("ij,ij->i", centre[pair], cap[:, :3]), -1.0, 1.0))
    radius = np.arccos(np.clip(1.0 - np.abs(cap[:, 3]), -1.0, 1.0))
    pixel_radius = healpix.max_pixel_radius(nside)
    excluded = np.where(cap[:, 3] >= 0, distance - pixel_radius > radius,
                        distance + pixel_radius < radius)
    rejected = np.zeros(len(poly), dtype=bool)
    np.logical_or.at(rejected, pair[excluded], True)
    return ~rejected


def read_mangle(path: str | Path) -> ManglePolygons:
    """Read a mangle polygon file (``.ply``, the format mangle's ``polygon`` writes)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"mangle file {path} does not exist")
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not a mangle polygon file (not text)") from exc
    caps, cap_start, weights, areas, ids = [], [0], [], [], []
    i = 0
    while i < len(lines):
        match = _POLYGON_RE.match(lines[i].strip())
        i += 1
        if match is None:
            continue  # header lines: "N polygons", "pixelization 1d", "snapped", ...
        fields = _polygon_fields(match.group(2), path, i)
        n = int(fields["caps"])
        caps.extend(_cap_rows(lines[i:i + n], n, path, i + 1))
        i += n
        cap_start.append(len(caps))
        weights.append(fields.get("weight", 1.0))
        areas.append(fields.get("str", np.nan))
        ids.append(int(match.group(1)))
    if not ids:
        raise InputError(f"{path} holds no mangle polygon: expected lines like "
                         "'polygon 1 ( 4 caps, 1 weight, 0 pixel, 0.19 str):' followed by caps")
    # a polygon without caps is the whole sky: give it one cap that contains everything
    cap_array = np.array(caps, dtype=float).reshape(-1, 4)
    polys = ManglePolygons(caps=cap_array, cap_start=np.array(cap_start), weights=np.array(weights),
                           areas_sr=np.array(areas), ids=np.array(ids), name=str(path))
    return _with_whole_sky_caps(polys)


def _polygon_fields(text: str, path: Path, line: int) -> dict[str, float]:
    fields = {}
    for value, key in _FIELD_RE.findall(text):
        try:
            fields["caps" if key.startswith("cap") else key] = float(value)
        except ValueError:
            raise InputError(f"{path}, line {line}: cannot read {key!r} from {value!r}") from None
    if "caps" not in fields or fields["caps"] < 0 or fields["caps"] != int(fields["caps"]):
        raise InputError(f"{path}, line {line}: polygon header lacks a valid cap count "
                         "(expected '( N caps, W weight, ... )')")
    return fields


def _cap_rows(rows: list[str], n: int, path: Path, first_line: int) -> list[list[float]]:
    out = []
    for k, row in enumerate(rows):
        try:
            values = [float(v) for v in row.split()]
        except ValueError:
            values = []
        if len(values) != 4:
            raise InputError(f"{path}, line {first_line + k}: expected a cap 'x y z cm', "
                             f"got {row.strip()!r}")
        out.append(values)
    if len(out) != n:
        raise InputError(f"{path}: the polygon before line {first_line} announces {n} caps "
                         f"but the file ends after {len(out)}")
    return out


def _with_whole_sky_caps(polys: ManglePolygons) -> ManglePolygons:
    n_caps = np.diff(polys.cap_start)
    if np.all(n_caps > 0):
        return polys
    whole_sky = np.array([[0.0, 0.0, 1.0, 3.0]])
    pieces = [polys.caps[polys.cap_start[i]:polys.cap_start[i + 1]] if n_caps[i] else whole_sky
              for i in range(polys.n_polygons)]
    start = np.concatenate([[0], np.cumsum([len(p) for p in pieces])])
    return ManglePolygons(caps=np.concatenate(pieces), cap_start=start, weights=polys.weights,
                          areas_sr=polys.areas_sr, ids=polys.ids, name=polys.name)
