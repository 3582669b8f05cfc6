"""Rockstar / Consistent-Trees ``hlist`` ASCII halo catalogues, parsed by header names.

The first line names the columns (``#scale(0) id(1) ... mvir(10) rvir(11) rs(12) ...
x(17) ... M200c(40) ...``); the following ``#`` lines carry the cosmology
(``#Omega_M = ...; Omega_L = ...; h0 = ...``), the box (``#Full box size = 250 Mpc/h``)
and one description per field with its unit (``#X/Y/Z: Halo position (Mpc/h comoving).``).
:class:`HlistFile` reads any such whitespace table (also the UniverseMachine DR1 ASCII
catalogues, whose header lists array columns as ``SFH(1..num_scales)``) chunk by chunk.

Conversion (:func:`convert_hlist`): distinct halos (``upid == -1``) become halos with the
catalogue's M200c and c200c = R200c / r_s; subhalos are not written, and the galaxy table
stays empty (an hlist has no galaxies: populate it with an occupation model). Halos whose
M200c is zero (no bound mass inside 200 rho_crit) are dropped and counted in the config.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.cosmology import FLRW, FlatLambdaCDM, LambdaCDM

from surveymass.cosmology import default_cosmology
from surveymass.errors import InputError
from surveymass.progress import progress_bar
from surveymass.universe.readers.common import (
    DEFAULT_CHUNK_SIZE,
    check_chunk_size,
    check_redshift,
    halo_columns,
    m200c_from_mvir,
    r200c_and_concentration,
    wrap_positions,
)
from surveymass.universe.store import UniverseWriter

_OB0 = 0.0486  # Planck15 (Ishiyama et al. 2021), for headers that do not give Omega_b
_INDEXED_NAME = re.compile(r"^(?P<name>.+)\((?P<index>\d+)\)$")
_ARRAY_NAME = re.compile(r"^(?P<name>[^(]+)\((?:[^;)]*;)?1\.\.(?P<count>\w+)\)$")
_BOX = re.compile(r"box size\s*[=:]\s*(?P<value>[0-9.eE+-]+)\s*(?P<unit>[^\s.;,]+)", re.IGNORECASE)
_COSMO = {
    "omega_m": re.compile(r"\b(?:Omega_M|Om)\s*=\s*(?P<v>[0-9.eE+-]+)"),
    "omega_l": re.compile(r"\b(?:Omega_L|Ol)\s*=\s*(?P<v>[0-9.eE+-]+)"),
    "h": re.compile(r"\b(?:h0|h)\s*=\s*(?P<v>[0-9.eE+-]+)"),
}
_SCALE_LINE = re.compile(r"^#\s*a\s*=\s*(?P<v>[0-9.eE+-]+)")
_SCALE_IN_NAME = re.compile(r"_(?P<a>[01]\.\d+)\.(?:list|txt|dat|ascii)")
_DESCRIPTION = re.compile(r"^#\s*(?P<key>[^:=]+?)\s*:\s*(?P<text>.*)$")
_UNIT = re.compile(r"\(([^()]*)\)[.\s]*$")

#: Units of the hlist fields the converter reads (Rockstar / Consistent-Trees conventions):
#: description key (lower case) -> required unit text (spaces ignored, lower case).
HLIST_UNITS = {
    "x/y/z": "mpc/hcomoving",
    "vx/vy/vz": "km/sphysical",
    "mvir": "msun/h",
    "m200b--m2500c": "msun/h",
    "rs": "kpc/hcomoving",
}


@dataclass
class HlistHeader:
    """What the ``#`` lines of an hlist-like file say."""

    path: Path
    columns: list[str]
    metadata: list[str]
    descriptions: dict[str, str] = field(default_factory=dict)
    scale_factor: float | None = None
    box_size: float | None = None  # h^-1 Mpc
    omega_m: float | None = None
    omega_l: float | None = None
    h: float | None = None

    def index(self, name: str) -> int | None:
        """Position of column ``name`` (case-insensitive), or None."""
        lower = [c.lower() for c in self.columns]
        return lower.index(name.lower()) if name.lower() in lower else None

    def require(self, names: dict[str, str], layout: str) -> dict[str, int]:
        """Positions of the columns ``names`` (role -> header name); raise
        :class:`InputError` naming the missing field and the expected layout."""
        positions = {role: self.index(name) for role, name in names.items()}
        missing = [names[role] for role, pos in positions.items() if pos is None]
        if missing:
            raise InputError(f"{self.path} lacks the column(s) {missing} that a {layout} "
                             f"file has; its header lists {self.columns[:12]}...")
        return positions  # type: ignore[return-value]

    def cosmology(self) -> FLRW | None:
        """The header's cosmology (flat when Omega_M + Omega_L = 1), or None.

        The CMB temperature and baryon density, absent from the header, are the Planck15
        values (2.7255 K, massless neutrinos, Omega_b = 0.0486): the first changes distances
        by < 1e-4 at z < 1, the second only enters the power spectrum behind the
        concentration model.
        """
        if None in (self.omega_m, self.omega_l, self.h):
            return None
        params = dict(H0=100 * self.h, Om0=self.omega_m, Tcmb0=2.7255, Ob0=_OB0)
        if abs(self.omega_m + self.omega_l - 1.0) < 1e-4:
            return FlatLambdaCDM(**params)
        return LambdaCDM(Ode0=self.omega_l, **params)


def _open_text(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def read_hlist_header(path: str | Path) -> HlistHeader:
    """Parse the ``#`` header of an hlist / UniverseMachine ASCII catalogue."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"catalogue file {path} does not exist")
    try:
        with _open_text(path) as f:
            lines = []
            for line in f:
                if not line.startswith("#"):
                    first_row = line.split()
                    break
                lines.append(line.rstrip("\n"))
            else:
                first_row = []
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not a text catalogue ({exc})") from exc
    if not lines:
        raise InputError(f"{path} has no '#' header line naming its columns; expected a "
                         "Rockstar/Consistent-Trees hlist or UniverseMachine ASCII catalogue")
    header = HlistHeader(path=path, columns=[], metadata=lines[1:])
    _parse_metadata(header)
    header.columns = _column_names(lines[0], header)
    if first_row and len(first_row) != len(header.columns):
        raise InputError(f"{path}: the header names {len(header.columns)} columns but the "
                         f"first row has {len(first_row)} values; the file is truncated or "
                         "not in the layout its header describes")
    return header


def _parse_metadata(header: HlistHeader) -> None:
    for line in header.metadata:
        if (match := _SCALE_LINE.match(line)):
            header.scale_factor = float(match["v"])
        if (match := _BOX.search(line)):
            if match["unit"].lower() != "mpc/h":
                raise InputError(f"{header.path}: box size is given in {match['unit']!r}; "
                                 "expected comoving Mpc/h (Rockstar convention)")
            header.box_size = float(match["value"])
        for key, pattern in _COSMO.items():
            if getattr(header, key) is None and (match := pattern.search(line)):
                setattr(header, key, float(match["v"]))
        if (match := _DESCRIPTION.match(line)):
            header.descriptions.setdefault(match["key"].strip().lower(), match["text"])


def _column_names(line: str, header: HlistHeader) -> list[str]:
    """Names of the first header line, with ``name(i)`` indices checked and
    ``name(1..count)`` arrays expanded to ``name[1]..name[count]``."""
    names: list[str] = []
    for token in line.lstrip("#").split():
        if (match := _ARRAY_NAME.match(token)):
            count = _array_length(match["count"], header)
            names.extend(f"{match['name']}[{i}]" for i in range(1, count + 1))
        elif (match := _INDEXED_NAME.match(token)):
            if int(match["index"]) != len(names):
                raise InputError(f"{header.path}: header column {token!r} is number "
                                 f"{len(names)}; the header is corrupt")
            names.append(match["name"])
        else:
            names.append(token)
    return names


def _array_length(count: str, header: HlistHeader) -> int:
    if count.isdigit():
        return int(count)
    text = header.descriptions.get(count.lower(), "")
    if not text.strip().isdigit():
        raise InputError(f"{header.path}: header uses array columns of length {count!r} "
                         f"but has no '#{count}: N' line")
    return int(text)


def check_units(header: HlistHeader, expected: dict[str, str]) -> None:
    """Raise :class:`InputError` when a field's documented unit differs from ``expected``
    (description key -> unit text); fields without a description keep the convention."""
    for key, unit in expected.items():
        text = header.descriptions.get(key)
        if text is None:
            continue
        match = _UNIT.search(text)
        found = match.group(1) if match else text
        if unit not in found.replace(" ", "").lower():
            raise InputError(f"{header.path}: field {key!r} is documented in ({found}); the "
                             f"reader expects {unit!r} (Rockstar/Consistent-Trees units). "
                             "Convert the catalogue or correct its header")


class HlistFile:
    """A whitespace-separated catalogue with an hlist-style header, read in chunks."""

    def __init__(self, path: str | Path):
        self.header = read_hlist_header(path)
        self.path = self.header.path

    def iter_chunks(self, columns: dict[str, int], dtypes: dict[str, str],
                    chunk_size: int) -> Iterator[dict[str, np.ndarray]]:
        """Yield {role: array} for the column positions ``columns``, ``chunk_size`` rows
        at a time (pandas' C parser; memory bounded by the chunk)."""
        import pandas as pd

        chunk_size = check_chunk_size(chunk_size)
        by_position = {pos: role for role, pos in columns.items()}
        last = len(self.header.columns) - 1  # read too: a short row leaves it empty
        dtype = {pos: dtypes.get(role, "f8") for pos, role in by_position.items()}
        reader = pd.read_csv(self.path, sep=r"\s+", comment="#", header=None,
                             usecols=sorted(set(by_position) | {last}), chunksize=chunk_size,
                             dtype=dtype)
        try:
            with reader:
                for frame in reader:
                    if frame[last].isna().any():
                        raise ValueError(f"a row has fewer than {last + 1} values")
                    yield {by_position[pos]: frame[pos].to_numpy() for pos in by_position}
        except (ValueError, pd.errors.ParserError) as exc:
            raise InputError(f"{self.path}: a row does not match the header's layout "
                             f"({exc}); the file is truncated or corrupt") from exc


#: hlist columns the converter reads: role -> header name.
_HALO_FIELDS = {"id": "id", "x": "x", "y": "y", "z": "z", "vx": "vx", "vy": "vy",
                "vz": "vz", "rs": "rs"}


def convert_hlist(path: str | Path, output: str | Path, *, redshift: float | None = None,
                  box_size: float | None = None, cosmology: FLRW | None = None,
                  min_m200c: float = 0.0, chunk_size: int = DEFAULT_CHUNK_SIZE,
                  quiet: bool = False, overwrite: bool = False) -> dict:
    """Convert an hlist catalogue to a surveymass universe (halos only) at ``output`` (an
    existing file is replaced only with ``overwrite``).

    ``redshift``, ``box_size`` [h^-1 Mpc] and ``cosmology`` default to the header's values
    (scale factor from the ``#a =`` line, the ``scale`` column or the file name).
    ``min_m200c`` [h^-1 Msun] keeps only more massive halos. Returns the config written.
    """
    chunk_size = check_chunk_size(chunk_size)
    catalogue = HlistFile(path)
    header = catalogue.header
    check_units(header, HLIST_UNITS)
    fields = dict(_HALO_FIELDS)
    fields["host_flag"] = "upid" if header.index("upid") is not None else "pid"
    mass_column = "m200c" if header.index("m200c") is not None else "mvir"
    fields["mass"] = mass_column
    positions = header.require(fields, "Rockstar/Consistent-Trees hlist")
    redshift = _redshift(header, positions_scale=header.index("scale"), given=redshift)
    box_size = _box_size(header, box_size)
    cosmology, cosmology_source = _cosmology(header, cosmology)

    config = {"source": "hlist", "input": str(header.path), "halo_mass": (
        "M200c column of the catalogue" if mass_column == "m200c" else
        "Mvir converted to M200c for NFW halos (colossus ishiyama21 concentration)"),
        "concentration": "R200c / rs (rs <= 0: ishiyama21 model)",
        "cosmology_source": cosmology_source, "min_m200c": min_m200c,
        "chunk_size": chunk_size, "galaxies": "none (hlist holds halos only)"}
    counts = dict(rows=0, subhalos_skipped=0, halos_nonpositive_m200c_dropped=0,
                  halos_below_min_m200c=0, halos_model_concentration=0, halos=0)
    dtypes = {"id": "i8", "host_flag": "i8"}
    with UniverseWriter(output, cosmology, redshift, box_size, config,
                        source={"inputs": [str(header.path)]}, overwrite=overwrite) as writer, \
            progress_bar(desc="hlist halos", unit=" rows", quiet=quiet) as bar:
        for chunk in catalogue.iter_chunks(positions, dtypes, chunk_size):
            _append_hlist_halos(writer, chunk, redshift, box_size, cosmology, mass_column,
                                min_m200c, counts)
            bar.update(len(chunk["id"]))
        config["counts"] = counts
        writer.update_config(config)
    return config


def _append_hlist_halos(writer: UniverseWriter, chunk: dict, redshift: float,
                        box_size: float, cosmology: FLRW, mass_column: str,
                        min_m200c: float, counts: dict) -> None:
    counts["rows"] += len(chunk["id"])
    distinct = chunk["host_flag"] == -1
    counts["subhalos_skipped"] += int(np.sum(~distinct))
    rows = {k: v[distinct] for k, v in chunk.items()}
    if mass_column == "m200c":
        positive = rows["mass"] > 0
        counts["halos_nonpositive_m200c_dropped"] += int(np.sum(~positive))
        rows = {k: v[positive] for k, v in rows.items()}
        m200c = rows["mass"]
        r200c, c200c, model = r200c_and_concentration(m200c, rows["rs"], redshift, cosmology)
        counts["halos_model_concentration"] += int(np.sum(model))
    else:
        m200c, r200c, c200c = m200c_from_mvir(rows["mass"], redshift, cosmology)
    keep = m200c >= min_m200c
    counts["halos_below_min_m200c"] += int(np.sum(~keep))
    columns = {k: v[keep] for k, v in rows.items()}
    wrap_positions(columns, box_size)
    writer.append("halos", halo_columns(columns["id"], m200c[keep], r200c[keep], c200c[keep],
                                        *(columns[k] for k in ("x", "y", "z", "vx", "vy", "vz"))))
    counts["halos"] += int(np.sum(keep))


def _redshift(header: HlistHeader, positions_scale: int | None, given: float | None) -> float:
    """Snapshot redshift: given, else the header's scale factor, the first row's ``scale``
    column, or the scale factor in the file name (``hlist_0.07812.list``)."""
    if given is not None:
        return check_redshift(given)
    scale = header.scale_factor
    if scale is None and positions_scale is not None:
        scale = _first_row_value(header.path, positions_scale)
    if scale is None and (match := _SCALE_IN_NAME.search(header.path.name)):
        scale = float(match["a"])
    if scale is None or not 0 < scale <= 1.5:
        raise InputError(f"{header.path}: cannot tell the snapshot's scale factor (no '#a =' "
                         "line, scale column or scale in the file name); pass the redshift")
    return check_redshift(1.0 / scale - 1.0)


def _first_row_value(path: Path, position: int) -> float | None:
    with _open_text(path) as f:
        for line in f:
            if not line.startswith("#") and line.strip():
                return float(line.split()[position])
    return None


def _box_size(header: HlistHeader, given: float | None) -> float:
    box = given if given is not None else header.box_size
    if box is None:
        raise InputError(f"{header.path}: the header gives no box size; pass it "
                         "(comoving h^-1 Mpc)")
    if not box > 0:
        raise InputError(f"box size must be positive, got {box}")
    return float(box)


def _cosmology(header: HlistHeader, given: FLRW | None) -> tuple[FLRW, str]:
    if given is not None:
        return given, "given"
    from_header = header.cosmology()
    if from_header is not None:
        return from_header, "file header"
    return default_cosmology(), "not in the file: surveymass default (Planck15)"
