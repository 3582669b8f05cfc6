"""UniverseMachine galaxy catalogues: Uchuu-UM HDF5 and UniverseMachine DR1 ASCII.

Uchuu-UM (official layout: shared/data/formats/Readme_Uchuu_UM_data_structure.txt) stores
one snapshot in files ``<name>_<redshift>_data<N>.h5`` (e.g. ``Uchuu_UM_z0p09_data1.h5``)
with 1-D datasets at the root: data1 ``id, upid, Mvir [Msun/h], sm, obs_sm [Msun],
sfr, obs_sfr [Msun/yr], ...``; data2 ``x, y, z`` [comoving Mpc/h]; data3 ``vx, vy, vz``
[peculiar km/s], ``Mpeak``.... The UniverseMachine DR1 ASCII catalogues (header
``#ID UPID X Y Z VX VY VZ Mpeak Mnow ... SM ICL SFR Obs_SM Obs_SFR ...``, masses in Msun
without h) carry the same fields and go through the same conversion.

Conversion (two streaming passes, see :mod:`.common` for the memory model):

1. hosts: galaxies with ``upid == -1`` are centrals; their halo (same id, the central's
   position and velocity) becomes a halo. M200c and r_s come from the Uchuu Rockstar
   halo catalogue when given (:class:`RockstarHaloCatalogue`, c200c = R200c / r_s);
   otherwise Mvir is converted to M200c for NFW halos with the Ishiyama et al. (2021)
   concentrations of colossus (:func:`surveymass.universe.readers.common.m200c_from_mvir`)
   and the config says so;
2. galaxies: every galaxy with positive stellar mass is written with host ``id`` (central)
   or ``upid`` (satellite), and an r-band magnitude and colour from :mod:`.luminosity`.

A satellite whose ``upid`` is not a central of the input is an error by default
(``missing_hosts="drop"`` drops it and counts it); galaxies of hosts cut on purpose
(``min_host_mvir``, M200c = 0 in the halo catalogue) are dropped with their host.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import h5py
import numpy as np

from surveymass.cosmology import default_cosmology
from surveymass.errors import InputError
from surveymass.progress import progress_bar
from surveymass.universe.readers.common import (
    CONCENTRATION_MODEL,
    DEFAULT_CHUNK_SIZE,
    HostIndex,
    check_chunk_size,
    check_missing_host_policy,
    check_redshift,
    halo_columns,
    m200c_from_mvir,
    missing_host_error,
    r200c_and_concentration,
    wrap_positions,
)
from surveymass.universe.readers.hlist import HlistFile
from surveymass.universe.readers.luminosity import MassToLight, galaxy_photometry
from surveymass.universe.store import UniverseWriter

if TYPE_CHECKING:
    from astropy.cosmology import FLRW

#: Box sizes [h^-1 Mpc] of the Uchuu suite (Ishiyama et al. 2021, MNRAS 506, 4210, Table 1),
#: keyed by the catalogue name that starts the file names.
UCHUU_BOX_SIZES = {"uchuu": 2000.0, "miniuchuu": 400.0, "shinuchuu": 140.0}

_UM_FILE = re.compile(r"^(?P<name>.+?)_z(?P<zi>\d+)p(?P<zf>\d+)_data(?P<n>\d+)\.h5$")

#: Uchuu-UM datasets read: role -> (data file number, dataset name, accepted units).
_UCHUU_FIELDS = {
    "id": (1, "id", None), "upid": (1, "upid", None), "mvir": (1, "Mvir", "msun/h"),
    "sm": (1, "obs_sm", "msun"), "sfr": (1, "obs_sfr", "msun/yr"),
    "x": (2, "x", "mpc/h"), "y": (2, "y", "mpc/h"), "z": (2, "z", "mpc/h"),
    "vx": (3, "vx", "km/s"), "vy": (3, "vy", "km/s"), "vz": (3, "vz", "km/s"),
}
_HOST_ROLES = ["id", "upid", "mvir", "x", "y", "z", "vx", "vy", "vz"]
_GALAXY_ROLES = ["id", "upid", "x", "y", "z", "vx", "vy", "vz", "sm", "sfr"]
STELLAR_MASS_KINDS = ("obs", "true")


class GalaxyCatalogue(Protocol):
    """A UniverseMachine-like catalogue read in chunks of canonical columns: id, upid,
    mvir [h^-1 Msun], x, y, z [h^-1 Mpc], vx, vy, vz [km/s], sm [Msun], sfr [Msun/yr]."""

    inputs: list[str]
    n_rows: int | None

    def iter_chunks(self, roles: list[str], chunk_size: int
                    ) -> Iterator[dict[str, np.ndarray]]: ...


def _stellar_fields(kind: str) -> tuple[str, str]:
    if kind not in STELLAR_MASS_KINDS:
        raise InputError(f"stellar_mass must be 'obs' (obs_sm/obs_sfr, with the observational "
                         f"errors of UniverseMachine) or 'true' (sm/sfr), got {kind!r}")
    return ("obs_sm", "obs_sfr") if kind == "obs" else ("sm", "sfr")


class UchuuUMFiles:
    """The data1..data3 HDF5 files of one Uchuu-UM snapshot (path of data1 given)."""

    def __init__(self, data1: str | Path, stellar_mass: str = "obs"):
        self.data1 = Path(data1)
        match = _UM_FILE.match(self.data1.name)
        if not self.data1.is_file():
            raise InputError(f"Uchuu-UM file {self.data1} does not exist")
        if match is None or match["n"] != "1":
            raise InputError(f"{self.data1.name} is not named like a Uchuu-UM data1 file "
                             "('<name>_z<int>p<frac>_data1.h5', e.g. Uchuu_UM_z0p09_data1.h5)")
        self.name, self.redshift_in_name = match["name"], float(f"{match['zi']}.{match['zf']}")
        sm, sfr = _stellar_fields(stellar_mass)
        self.fields = dict(_UCHUU_FIELDS, sm=(1, sm, "msun"), sfr=(1, sfr, "msun/yr"))
        self.paths = {n: self.data1.with_name(self.data1.name.replace("_data1.h5",
                                                                        f"_data{n}.h5"))
                      for n in (1, 2, 3)}
        self.inputs = [str(p) for p in self.paths.values()]
        self.n_rows = self._validate()

    def _validate(self) -> int:
        lengths = {}
        for n, name, units in self.fields.values():
            with _open_hdf5(self.paths[n], f"Uchuu-UM data{n}") as f:
                if name not in f or not isinstance(f[name], h5py.Dataset):
                    raise InputError(f"{self.paths[n]} lacks the dataset {name!r}; a Uchuu-UM "
                                     f"data{n} file has {_layout(n)} at its root")
                _check_unit_attr(f[name], units, self.paths[n])
                lengths[f"data{n}/{name}"] = f[name].shape
        if len(set(lengths.values())) != 1 or len(next(iter(lengths.values()))) != 1:
            raise InputError(f"Uchuu-UM datasets of {self.data1.name} have different shapes "
                             f"{lengths}; data1..data3 must describe the same galaxies")
        return next(iter(lengths.values()))[0]

    def box_size(self) -> float | None:
        """Box size [h^-1 Mpc] from a file attribute or the Uchuu catalogue name."""
        with h5py.File(self.paths[1], "r") as f:
            for key in ("BoxSize", "Boxsize", "box_size"):
                if key in f.attrs:
                    return float(f.attrs[key])
        return UCHUU_BOX_SIZES.get(self.name.split("_")[0].replace("-", "").lower())

    def iter_chunks(self, roles: list[str], chunk_size: int
                    ) -> Iterator[dict[str, np.ndarray]]:
        files = {n: h5py.File(p, "r") for n, p in self.paths.items()}
        try:
            for start in range(0, self.n_rows, chunk_size):
                stop = min(start + chunk_size, self.n_rows)
                yield {role: files[self.fields[role][0]][self.fields[role][1]][start:stop]
                       for role in roles}
        finally:
            for f in files.values():
                f.close()


def _layout(n: int) -> str:
    names = sorted({name for m, name, _ in _UCHUU_FIELDS.values() if m == n})
    return ", ".join(names) + (", sm, sfr" if n == 1 else "")


def _open_hdf5(path: Path, what: str) -> h5py.File:
    if not path.is_file():
        raise InputError(f"{what} file {path} does not exist (expected beside the data1 file)")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"{path} is not an HDF5 file ({exc}); expected a {what} file") from exc


def _check_unit_attr(dataset: h5py.Dataset, expected: str | None, path: Path) -> None:
    """Raise when a dataset documents a unit (attribute 'unit' or 'units') other than
    ``expected``; datasets without one follow the Uchuu-UM readme."""
    for key in ("unit", "units"):
        if expected and key in dataset.attrs:
            unit = dataset.attrs[key]
            unit = unit.decode() if isinstance(unit, bytes) else str(unit)
            if unit.replace(" ", "").lower() != expected:
                raise InputError(f"{path}: dataset {dataset.name!r} is in {unit!r}; the "
                                 f"Uchuu-UM layout has {expected!r}")


MASS_UNITS = ("msun", "msun/h")  # halo-mass units of UniverseMachine ASCII catalogues


class UMAsciiCatalogue:
    """A UniverseMachine DR1 ASCII catalogue (``sfr_catalog_*.txt``), read in chunks."""

    def __init__(self, path: str | Path, stellar_mass: str = "obs", h: float = 1.0,
                 mass_units: str | None = None):
        self.file = HlistFile(path)
        header = self.file.header
        sm, sfr = _stellar_fields(stellar_mass)
        names = {"id": "ID", "upid": "UPID", "mvir": "Mnow", "x": "X", "y": "Y", "z": "Z",
                 "vx": "VX", "vy": "VY", "vz": "VZ", "sm": sm, "sfr": sfr}
        self.positions = header.require(names, "UniverseMachine ASCII")
        self.mass_units = self._mass_units(mass_units)
        self.mass_factor = h if self.mass_units == "msun" else 1.0
        self.inputs, self.n_rows = [str(self.file.path)], None

    def _mass_units(self, given: str | None) -> str:
        """'msun' or 'msun/h': the header's ``#Units`` line, else ``given``; never assumed."""
        units = " ".join(line.lower() for line in self.file.header.metadata
                         if line.lower().startswith("#units"))
        if "velocities" in units and "km/s" not in units:
            raise InputError(f"{self.file.path}: velocities are not in km/s ({units})")
        if given is not None and given.lower().replace(" ", "") not in MASS_UNITS:
            raise InputError(f"mass_units must be one of {MASS_UNITS}, got {given!r}")
        given = given.lower().replace(" ", "") if given is not None else None
        if "masses in msun (no h)" in units:
            header = "msun"
        elif "masses in msun/h" in units:
            header = "msun/h"
        elif "masses" in units:
            raise InputError(f"{self.file.path}: unrecognised mass unit in {units!r}; "
                             "expected 'all masses in Msun (no h)' (UniverseMachine) or "
                             "'Msun/h'")
        elif given is None:
            raise InputError(f"{self.file.path}: no '#Units: ... masses' header line; state "
                             "the halo mass unit (mass_units='msun' for UniverseMachine DR1, "
                             "masses without h, or 'msun/h')")
        else:
            return given
        if given is not None and given != header:
            raise InputError(f"{self.file.path}: the header says masses are in {header!r} "
                             f"but mass_units={given!r} was given")
        return header

    def iter_chunks(self, roles: list[str], chunk_size: int
                    ) -> Iterator[dict[str, np.ndarray]]:
        wanted = {role: self.positions[role] for role in roles}
        for chunk in self.file.iter_chunks(wanted, {"id": "i8", "upid": "i8"}, chunk_size):
            if "mvir" in chunk:
                chunk["mvir"] = chunk["mvir"] * self.mass_factor
            yield chunk


class RockstarHaloCatalogue:
    """Distinct halos (upid or pid == -1) of Uchuu Rockstar HDF5 halo catalogues, indexed
    by id: M200c [h^-1 Msun] and r_s [comoving h^-1 kpc].

    Columns are found by name, case-insensitively, in a ``HaloCatalogue`` group (uchuutools
    layout) or at the file root (the published Uchuu ``halolist_z*_<i>.h5`` files);
    needed: ``id``, ``upid`` (or ``pid``), ``M200c``, ``rs``. Memory: 16 bytes per halo.
    """

    def __init__(self, paths: list[str | Path], chunk_size: int = DEFAULT_CHUNK_SIZE):
        self.paths = [Path(p) for p in paths]
        self.redshift = self.box_size = None
        parts: dict[str, list] = {"id": [], "m200c": [], "rs": []}
        for path in self.paths:
            for chunk in self._read(path, chunk_size):
                distinct = chunk["host"] == -1
                for key, dtype in (("id", np.int64), ("m200c", np.float32), ("rs", np.float32)):
                    parts[key].append(chunk[key][distinct].astype(dtype))
        ids = np.concatenate(parts["id"]) if parts["id"] else np.empty(0, np.int64)
        order = np.argsort(ids)
        self.ids = ids[order]
        self.m200c, self.rs = (np.concatenate(parts[key])[order] if parts[key] else
                               np.empty(0, np.float32) for key in ("m200c", "rs"))

    def _read(self, path: Path, chunk_size: int) -> Iterator[dict[str, np.ndarray]]:
        with _open_hdf5(path, "Rockstar halo catalogue") as f:
            group = f.get("HaloCatalogue", f)
            self._read_attrs(f)
            names = {k.lower(): k for k in group if isinstance(group[k], h5py.Dataset)}
            host = "upid" if "upid" in names else "pid"
            wanted = {"id": "id", "host": host, "m200c": "m200c", "rs": "rs"}
            missing = [name for name in wanted.values() if name not in names]
            if missing:
                raise InputError(f"{path} lacks the halo field(s) {missing}; a Rockstar halo "
                                 "catalogue (HDF5, datasets at the root or in 'HaloCatalogue') "
                                 "has id, upid or pid, M200c and rs")
            n = group[names["id"]].shape[0]
            for start in range(0, n, chunk_size):
                yield {role: group[names[name]][start:start + chunk_size]
                       for role, name in wanted.items()}

    def _read_attrs(self, f: h5py.File) -> None:
        if "redshift" in f.attrs:
            self.redshift = float(f.attrs["redshift"])
        params = f.get("simulation_params")
        if params is not None and "Boxsize" in params.attrs:
            self.box_size = float(params.attrs["Boxsize"])

    def lookup(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(found, m200c, rs) for each halo id; m200c and rs are 0 where not found."""
        if self.ids.size == 0:
            zeros = np.zeros(len(ids))
            return np.zeros(len(ids), bool), zeros, zeros
        pos = np.clip(np.searchsorted(self.ids, ids), 0, self.ids.size - 1)
        found = self.ids[pos] == ids
        return found, np.where(found, self.m200c[pos], 0.0), np.where(found, self.rs[pos], 0.0)


def convert_uchuu_um(data1: str | Path, output: str | Path, *,
                     halo_catalogue: list[str | Path] | None = None,
                     redshift: float | None = None, box_size: float | None = None,
                     cosmology: FLRW | None = None, stellar_mass: str = "obs",
                     min_stellar_mass: float = 0.0, min_host_mvir: float = 0.0,
                     missing_hosts: str = "error", luminosity: MassToLight | None = None,
                     chunk_size: int = DEFAULT_CHUNK_SIZE, quiet: bool = False,
                     overwrite: bool = False) -> dict:
    """Convert a Uchuu-UM snapshot (path of its ``*_data1.h5``) to a surveymass universe.

    ``halo_catalogue``: Uchuu Rockstar HDF5 file(s) of the same snapshot giving M200c and
    r_s. Redshift and box size [h^-1 Mpc] default to the halo catalogue's attributes, then
    to the file name (``z0p09`` -> 0.09, rounded to 0.01: pass the exact redshift) and the
    Uchuu box (2000). ``cosmology`` defaults to Planck15, the Uchuu cosmology.
    ``stellar_mass``: 'obs' (obs_sm, obs_sfr) or 'true' (sm, sfr). Other options: see
    :func:`convert_galaxy_catalogue`. Returns the config written.
    """
    files = UchuuUMFiles(data1, stellar_mass)
    chunk_size = check_chunk_size(chunk_size)
    catalogue = RockstarHaloCatalogue(halo_catalogue, chunk_size) if halo_catalogue else None
    redshift, z_source = _first_known(
        (redshift, "given"), (catalogue and catalogue.redshift, "halo catalogue attribute"),
        (files.redshift_in_name, "file name (rounded to 0.01)"))
    box_size, box_source = _first_known(
        (box_size, "given"), (catalogue and catalogue.box_size, "halo catalogue attribute"),
        (files.box_size(), "Uchuu-UM file attribute or catalogue name"))
    if box_size is None:
        raise InputError(f"cannot tell the box size of {files.data1.name} (no BoxSize "
                         "attribute, not a Uchuu catalogue name); pass it in h^-1 Mpc")
    return convert_galaxy_catalogue(
        files, output, format_name="uchuu-um", cosmology=cosmology or default_cosmology(),
        redshift=redshift, box_size=box_size, halo_catalogue=catalogue,
        min_stellar_mass=min_stellar_mass, min_host_mvir=min_host_mvir,
        missing_hosts=missing_hosts, luminosity=luminosity, chunk_size=chunk_size,
        quiet=quiet, overwrite=overwrite,
        notes={"stellar_mass": stellar_mass, "redshift_source": z_source,
                            "box_size_source": box_source})


def _first_known(*candidates: tuple[float | None, str]) -> tuple[float | None, str]:
    """The first (value, source) whose value is not None."""
    for value, source in candidates:
        if value is not None:
            return value, source
    return None, "unknown"


def convert_um_ascii(path: str | Path, output: str | Path, *, box_size: float,
                     redshift: float | None = None, cosmology: FLRW | None = None,
                     stellar_mass: str = "obs", min_stellar_mass: float = 0.0,
                     min_host_mvir: float = 0.0, missing_hosts: str = "error",
                     luminosity: MassToLight | None = None,
                     chunk_size: int = DEFAULT_CHUNK_SIZE, quiet: bool = False,
                     mass_units: str | None = None, overwrite: bool = False) -> dict:
    """Convert a UniverseMachine DR1 ASCII catalogue to a surveymass universe.

    The header gives the scale factor (``#a = ...``) but neither box size [h^-1 Mpc] nor
    cosmology (default Planck15; pass the simulation's). Halo masses are converted from
    Msun to h^-1 Msun with the cosmology's h. Their unit comes from the header's
    ``#Units: all masses in ...`` line, else from ``mass_units`` ('msun' or 'msun/h');
    with neither it is an InputError, never a guess. Other options: see
    :func:`convert_uchuu_um` and :func:`convert_galaxy_catalogue`.
    """
    cosmology = cosmology or default_cosmology()
    source = UMAsciiCatalogue(path, stellar_mass, h=cosmology.h, mass_units=mass_units)
    if redshift is None:
        if source.file.header.scale_factor is None:
            raise InputError(f"{path}: no '#a = ' scale-factor line; pass the redshift")
        redshift = 1.0 / source.file.header.scale_factor - 1.0
    return convert_galaxy_catalogue(
        source, output, format_name="um-ascii", cosmology=cosmology, redshift=redshift,
        box_size=box_size, min_stellar_mass=min_stellar_mass, min_host_mvir=min_host_mvir,
        missing_hosts=missing_hosts, luminosity=luminosity, chunk_size=chunk_size,
        quiet=quiet, overwrite=overwrite,
        notes={"stellar_mass": stellar_mass, "mass_units": source.mass_units})


def convert_galaxy_catalogue(source: GalaxyCatalogue, output: str | Path, *,
                             format_name: str, cosmology: FLRW, redshift: float,
                             box_size: float,
                             halo_catalogue: RockstarHaloCatalogue | None = None,
                             min_stellar_mass: float = 0.0, min_host_mvir: float = 0.0,
                             missing_hosts: str = "error",
                             luminosity: MassToLight | None = None,
                             chunk_size: int = DEFAULT_CHUNK_SIZE,
                             quiet: bool = False, notes: dict | None = None,
                             overwrite: bool = False) -> dict:
    """Two-pass streaming conversion of a UniverseMachine-like catalogue (module doc);
    an existing ``output`` is replaced only with ``overwrite``.

    ``min_stellar_mass`` [Msun] and ``min_host_mvir`` [h^-1 Msun] cut galaxies and hosts;
    ``missing_hosts``: 'error' or 'drop' for satellites whose host is not in the input;
    ``luminosity``: the mass-to-light model (default :class:`MassToLight`); ``notes``:
    extra config entries (how redshift and box were found).
    """
    luminosity = luminosity or MassToLight()
    chunk_size = check_chunk_size(chunk_size)
    check_missing_host_policy(missing_hosts)
    redshift = check_redshift(redshift)
    config = {
        "source": format_name, "inputs": source.inputs,
        "halo_mass": ("M200c and rs from the Rockstar halo catalogue "
                      f"{[str(p) for p in halo_catalogue.paths]}" if halo_catalogue else
                      "Mvir converted to M200c for NFW halos (colossus "
                      f"{CONCENTRATION_MODEL} concentration); no halo catalogue given"),
        "halo_position": "position and velocity of the central galaxy (UniverseMachine)",
        "luminosity": luminosity.to_dict(), "min_stellar_mass": min_stellar_mass,
        "min_host_mvir": min_host_mvir, "missing_hosts": missing_hosts,
        "chunk_size": chunk_size, **(notes or {}),
    }
    counts: dict[str, int] = {}
    inputs = source.inputs + ([str(p) for p in halo_catalogue.paths] if halo_catalogue else [])
    with UniverseWriter(output, cosmology, redshift, box_size, config,
                        source={"inputs": inputs}, overwrite=overwrite) as writer:
        pass_args = (writer, source, chunk_size, counts, quiet)
        hosts = _write_hosts(*pass_args, halo_catalogue, redshift, box_size, cosmology,
                             min_host_mvir, missing_hosts)
        _write_galaxies(*pass_args, hosts, box_size, cosmology.h, min_stellar_mass,
                        missing_hosts, luminosity)
        config["counts"] = counts
        writer.update_config(config)
    return config


def _progress(source: GalaxyCatalogue, desc: str, quiet: bool):
    return progress_bar(total=source.n_rows, desc=desc, unit=" rows", quiet=quiet)


def _add(counts: dict, key: str, n) -> None:
    counts[key] = counts.get(key, 0) + int(n)


def _write_hosts(writer, source, chunk_size, counts, quiet, catalogue, redshift, box_size,
                 cosmology, min_host_mvir, missing_hosts) -> HostIndex:
    """First pass: centrals -> halos; returns the index of every central's id."""
    hosts = HostIndex()
    with _progress(source, "hosts", quiet) as bar:
        for chunk in source.iter_chunks(_HOST_ROLES, chunk_size):
            bar.update(len(chunk["id"]))
            central = chunk["upid"] == -1
            rows = {k: v[central] for k, v in chunk.items()}
            m200c, r200c, c200c, ok = _host_masses(rows, catalogue, redshift, cosmology,
                                                   missing_hosts, counts)
            kept = ok & (rows["mvir"] >= min_host_mvir)
            _add(counts, "hosts_below_min_host_mvir", np.sum(ok & ~kept))
            hosts.add(rows["id"], kept)
            columns = {k: v[kept] for k, v in rows.items()}
            wrap_positions(columns, box_size)
            writer.append("halos", halo_columns(
                columns["id"], m200c[kept], r200c[kept], c200c[kept],
                *(columns[k] for k in ("x", "y", "z", "vx", "vy", "vz"))))
            _add(counts, "halos", np.sum(kept))
    return hosts.freeze()


def _host_masses(rows, catalogue, redshift, cosmology, missing_hosts, counts):
    """M200c [h^-1 Msun], R200c [h^-1 Mpc], c200c and a usable flag for central halos."""
    if catalogue is None:
        if rows["mvir"].size == 0:
            empty = np.empty(0)
            return empty, empty, empty, np.empty(0, bool)
        m200c, r200c, c200c = m200c_from_mvir(rows["mvir"], redshift, cosmology)
        return m200c, r200c, c200c, np.ones(len(m200c), bool)
    found, m200c, rs = catalogue.lookup(rows["id"])
    if not found.all():
        if missing_hosts == "error":
            raise missing_host_error("central galaxies", int(np.sum(~found)),
                                     int(rows["id"][~found][0]),
                                     "the Rockstar halo catalogue lacks their halos: give all "
                                     "its files for this snapshot")
        _add(counts, "hosts_missing_from_halo_catalogue", np.sum(~found))
    positive = m200c > 0
    _add(counts, "hosts_nonpositive_m200c", np.sum(found & ~positive))
    r200c, c200c = np.zeros(len(m200c)), np.zeros(len(m200c))
    r200c[positive], c200c[positive], model = r200c_and_concentration(
        m200c[positive], rs[positive], redshift, cosmology)
    _add(counts, "halos_model_concentration", np.sum(model))
    return m200c, r200c, c200c, found & positive


def _write_galaxies(writer, source, chunk_size, counts, quiet, hosts, box_size, h,
                    min_stellar_mass, missing_hosts, luminosity) -> None:
    """Second pass: galaxies of kept hosts, with magnitudes and colours."""
    with _progress(source, "galaxies", quiet) as bar:
        for chunk in source.iter_chunks(_GALAXY_ROLES, chunk_size):
            bar.update(len(chunk["id"]))
            host = np.where(chunk["upid"] == -1, chunk["id"], chunk["upid"]).astype(np.int64)
            found, kept = hosts.lookup(host)
            if not found.all():
                if missing_hosts == "error":
                    raise missing_host_error("satellites", int(np.sum(~found)),
                                             int(host[~found][0]),
                                             "their upid is not a central of this catalogue")
                _add(counts, "satellites_missing_host_dropped", np.sum(~found))
            _add(counts, "galaxies_of_cut_hosts", np.sum(found & ~kept))
            positive = chunk["sm"] > 0
            bright = chunk["sm"] >= min_stellar_mass
            _add(counts, "galaxies_nonpositive_stellar_mass", np.sum(kept & ~positive))
            _add(counts, "galaxies_below_min_stellar_mass", np.sum(kept & positive & ~bright))
            keep = kept & positive & bright
            rows = {k: v[keep] for k, v in chunk.items()}
            wrap_positions(rows, box_size)
            photometry = galaxy_photometry(rows["sm"], rows["sfr"], h, luminosity)
            writer.append("galaxies", dict(
                galaxy_id=rows["id"], host_id=host[keep], is_central=rows["upid"] == -1,
                **{k: rows[k] for k in ("x", "y", "z", "vx", "vy", "vz")}, **photometry))
            _add(counts, "galaxies", np.sum(keep))
