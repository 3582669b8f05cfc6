"""Simulation readers: Uchuu-UM HDF5, UniverseMachine ASCII and Rockstar hlist into the
surveymass universe format. Small files are written in exactly the published layouts
(shared/data/formats) and read back; the real hlist fixture is parsed."""

from __future__ import annotations

import json

import astropy.units as u
import h5py
import numpy as np
import pytest
from scipy.optimize import brentq

from surveymass.cli import main
from surveymass.cosmology import default_cosmology
from surveymass.errors import InputError
from surveymass.universe import UniverseFile, read_universe
from surveymass.universe.readers import (
    convert_hlist,
    convert_uchuu_um,
    convert_um_ascii,
    detect_format,
    galaxy_photometry,
    read_hlist_header,
)
from surveymass.universe.readers.luminosity import absolute_magnitude_r

H_UCHUU = default_cosmology().h  # 0.6774


# ----------------------------------------------------------------------------- helpers

def r200c_by_hand(m200c, z, cosmo):
    """Comoving R200c [h^-1 Mpc] from (3 M / (4 pi 200 rho_c(z)))^(1/3), astropy rho_c."""
    rho_c = cosmo.critical_density(z).to_value(u.Msun / u.Mpc**3) / cosmo.h**2  # h^2 Msun/Mpc^3
    return (3 * np.asarray(m200c) / (4 * np.pi * 200 * rho_c)) ** (1 / 3) * (1 + z)


def write_uchuu_um(folder, galaxies, name="Uchuu_UM_z0p09", skip=(), units=None, n3=None):
    """Write data1..data3 of a Uchuu-UM snapshot with the readme's datasets and dtypes."""
    n = len(galaxies["id"])
    f4 = lambda key, default=0.0: np.asarray(galaxies.get(key, np.full(n, default)), "f4")
    data = {
        1: {"id": np.asarray(galaxies["id"], "i8"), "upid": np.asarray(galaxies["upid"], "i8"),
            "Mvir": f4("Mvir"), "sm": f4("sm"), "icl": f4("icl"), "sfr": f4("sfr"),
            "obs_sm": f4("obs_sm"), "obs_sfr": f4("obs_sfr"), "obs_uv": f4("obs_uv", -18.0)},
        2: {k: f4(k) for k in ("x", "y", "z")},
        3: {"desc_id": np.full(n, -1, "i8"), **{k: f4(k) for k in ("vx", "vy", "vz")},
            "Mpeak": f4("Mvir"), "Vmax_Mpeak": f4("vmax", 300.0), "vmax": f4("vmax", 300.0),
            "A_UV": f4("A_UV")},
    }
    if n3 is not None:
        data[3] = {k: v[:n3] for k, v in data[3].items()}
    for i, columns in data.items():
        with h5py.File(folder / f"{name}_data{i}.h5", "w") as f:
            for key, values in columns.items():
                if key not in skip:
                    f.create_dataset(key, data=values)
            for key, unit in (units or {}).items():
                if key in f:
                    f[key].attrs["units"] = unit
    return folder / f"{name}_data1.h5"


def toy_galaxies():
    """Two hosts (100: a cluster, 200: a group), their centrals, three satellites and an
    orphan (id 10^15 + ...), one galaxy with no stellar mass; positions straddle the box."""
    ids = [100, 200, 101, 102, 10**15 + 7, 201, 202]
    upid = [-1, -1, 100, 100, 100, 200, 200]
    sm = [10**11.2, 10**10.5, 10**10.5, 10**9.8, 10**9.0, 10**10.0, 0.0]
    sfr = [0.01, 3.0, 0.1, 1.0, 0.001, 0.5, 0.0]
    return dict(
        id=ids, upid=upid, Mvir=[1e15, 3e13, 5e11, 1e11, 2e10, 1e11, 1e10],
        sm=sm, sfr=sfr, obs_sm=sm, obs_sfr=sfr,
        x=[1999.9, 10.0, 0.05, 1999.5, 0.2, 10.3, 9.8],  # comoving h^-1 Mpc, box 2000
        y=[5.0, 20.0, 5.2, 4.9, 5.1, 20.1, 19.9], z=[7.0, 30.0, 7.1, 6.8, 7.2, 30.2, 29.7],
        vx=[100.0, -50.0, 900.0, -700.0, 300.0, 200.0, -150.0],
        vy=[0.0, 10.0, 50.0, -60.0, 40.0, 0.0, 0.0], vz=[5.0, 0.0, -400.0, 600.0, 0.0, 0.0, 0.0])


def write_rockstar_h5(path, ids, upid, m200c, rs, grouped=True, redshift=None, box=None):
    """A Rockstar HDF5 halo catalogue: uchuutools layout ('HaloCatalogue' group, attrs
    redshift and simulation_params/Boxsize) or the published Uchuu one (datasets at root)."""
    with h5py.File(path, "w") as f:
        group = f.create_group("HaloCatalogue") if grouped else f
        group.create_dataset("id", data=np.asarray(ids, "i8"))
        group.create_dataset("upid", data=np.asarray(upid, "i8"))
        group.create_dataset("pid", data=np.asarray(upid, "i8"))
        group.create_dataset("Mvir", data=np.asarray(m200c, "f4") * 1.2)
        group.create_dataset("M200c", data=np.asarray(m200c, "f4"))
        group.create_dataset("Rvir", data=np.full(len(ids), 500.0, "f4"))
        group.create_dataset("rs", data=np.asarray(rs, "f4"))
        if redshift is not None:
            f.attrs["redshift"] = redshift
            f.attrs["scale_factor"] = 1 / (1 + redshift)
        if box is not None:
            f.create_group("simulation_params").attrs["Boxsize"] = box
    return path


# ----------------------------------------------------------------------------- luminosity

def test_mass_to_light_worked_example():
    """A quiescent 10^10.5 Msun galaxy (Chabrier), h = 0.6774, by hand:
    g - r = 0.75; log10(M/L_r) = -0.306 + 1.097 * 0.75 - 0.1 = 0.41675 (Bell et al. 2003,
    Chabrier offset); log10 L_r = 10.5 - 0.41675 = 10.08325;
    M_r = 4.65 - 2.5 * 10.08325 = -20.558125; 5 log10(0.6774) = -0.845774
    -> M_r - 5 log10 h = -19.712351.
    Star forming (g - r = 0.45): log10(M/L) = 0.08765, M_r = -21.380875 -> -20.535101."""
    out = galaxy_photometry(np.array([10**10.5, 10**10.5]), np.array([0.1, 3.0]), h=0.6774)
    assert out["quiescent"].tolist() == [True, False]  # sSFR 3.2e-12 and 9.5e-11 /yr
    assert out["color_gr"] == pytest.approx([0.75, 0.45])
    assert out["mag_r"] == pytest.approx([-19.712351, -20.535101], abs=1e-5)


def test_magnitude_scales_with_mass_and_threshold_is_strict():
    """Ten times the stellar mass is 2.5 mag brighter; sSFR exactly 1e-11 is star forming."""
    m = absolute_magnitude_r(np.array([1e10, 1e11]), np.array([0.45, 0.45]), h=1.0)
    assert m[0] - m[1] == pytest.approx(2.5)
    assert not galaxy_photometry(np.array([1e10]), np.array([0.1]), h=1.0)["quiescent"][0]
    with pytest.raises(InputError, match="stellar masses must be positive"):
        absolute_magnitude_r(np.array([0.0]), np.array([0.75]), h=1.0)


# ----------------------------------------------------------------------------- Uchuu-UM

def test_uchuu_um_with_rockstar_catalogue(tmp_path):
    gal = toy_galaxies()
    data1 = write_uchuu_um(tmp_path, gal)
    cat = write_rockstar_h5(tmp_path / "halolist_z0p09_0.h5", ids=[100, 200, 101, 300],
                            upid=[-1, -1, 100, -1], m200c=[8.1e14, 2.4e13, 4e11, 1e12],
                            rs=[250.0, 80.0, 20.0, 30.0], redshift=0.0932, box=2000.0)
    config = convert_uchuu_um(data1, tmp_path / "u.h5", halo_catalogue=[cat], quiet=True)
    uni = read_universe(tmp_path / "u.h5")
    uni.validate()
    assert uni.redshift == pytest.approx(0.0932)  # the catalogue's exact redshift
    assert uni.box_size == 2000.0
    halos = uni.halos
    assert halos["halo_id"].tolist() == [100, 200]
    assert halos["m200c"] == pytest.approx([8.1e14, 2.4e13], rel=1e-6)
    r200c = r200c_by_hand(halos["m200c"], 0.0932, uni.cosmology)
    assert halos["r200c"] == pytest.approx(r200c, rel=2e-3)
    assert halos["concentration"] == pytest.approx(r200c * 1000 / np.array([250.0, 80.0]),
                                                   rel=2e-3)
    assert halos["x"] == pytest.approx([1999.9, 10.0])
    assert halos["vx"].tolist() == [100.0, -50.0]
    g = uni.galaxies
    # the galaxy without stellar mass is dropped and counted
    assert g["galaxy_id"].tolist() == [100, 200, 101, 102, 10**15 + 7, 201]
    assert g["host_id"].tolist() == [100, 200, 100, 100, 100, 200]
    assert g["is_central"].tolist() == [True, True, False, False, False, False]
    expected = galaxy_photometry(np.array(gal["sm"][:6]), np.array(gal["sfr"][:6]), H_UCHUU)
    assert g["mag_r"] == pytest.approx(expected["mag_r"], abs=1e-5)
    assert g["quiescent"].tolist() == [True, False, True, False, True, False]
    assert config["counts"]["galaxies_nonpositive_stellar_mass"] == 1
    assert "Rockstar halo catalogue" in config["halo_mass"]
    assert config["redshift_source"] == "halo catalogue attribute"
    with UniverseFile(tmp_path / "u.h5") as f:  # the config with counts is on disk
        assert f.config["counts"] == config["counts"]
        assert str(cat) in f.provenance["inputs"]


def test_uchuu_um_root_layout_catalogue_and_periodic_wrap(tmp_path):
    """Published Uchuu halo lists keep their datasets at the root; positions outside
    [0, box) are wrapped."""
    gal = toy_galaxies()
    gal["x"][0] = 2000.5
    gal["x"][2] = -0.25
    gal["y"][3] = -1e-6  # wraps to 2000 - 1e-6, which is 2000.0 in float32: stored as 0
    data1 = write_uchuu_um(tmp_path, gal)
    cat = write_rockstar_h5(tmp_path / "h.h5", ids=[100, 200], upid=[-1, -1],
                            m200c=[8e14, 2e13], rs=[250.0, 0.0], grouped=False)
    config = convert_uchuu_um(data1, tmp_path / "u.h5", halo_catalogue=[cat], quiet=True)
    uni = read_universe(tmp_path / "u.h5")
    assert uni.redshift == pytest.approx(0.09)  # from the file name z0p09
    assert uni.halos["x"][0] == pytest.approx(0.5, abs=1e-4)
    assert uni.galaxies["x"][2] == pytest.approx(1999.75, abs=1e-4)
    assert uni.galaxies["y"][3] == 0.0
    for table in (uni.halos, uni.galaxies):
        assert all(0 <= table[k].min() and table[k].max() < 2000 for k in ("x", "y", "z"))
    assert config["counts"]["halos_model_concentration"] == 1  # rs = 0 -> ishiyama21
    assert config["redshift_source"] == "file name (rounded to 0.01)"
    assert 3 < uni.halos["concentration"][1] < 10


def test_uchuu_um_without_catalogue_converts_mvir_to_m200c(tmp_path):
    """M200c/Mvir for an NFW halo, checked against an independent calculation:
    Delta_vir of Bryan & Norman 1998 (18 pi^2 + 82 x - 39 x^2, x = Omega_m(z) - 1, in units
    of rho_c), the NFW enclosed mass mu(y) = ln(1 + y) - y / (1 + y) and the condition
    M(<R200c) = 200 rho_c 4/3 pi R200c^3."""
    from colossus.halo import concentration

    from surveymass.cosmology import colossus_cosmology

    data1 = write_uchuu_um(tmp_path, toy_galaxies())
    config = convert_uchuu_um(data1, tmp_path / "u.h5", quiet=True, chunk_size=3)
    assert "colossus" in config["halo_mass"]
    uni = read_universe(tmp_path / "u.h5")
    z, cosmo = uni.redshift, uni.cosmology
    colossus_cosmology(cosmo)
    mvir = np.array([1e15, 3e13])
    c_vir = concentration.concentration(mvir, "vir", z, model="ishiyama21")
    x = cosmo.Om(z) - 1
    delta_vir = 18 * np.pi**2 + 82 * x - 39 * x**2
    mu = lambda y: np.log1p(y) - y / (1 + y)
    for m, c, m200c in zip(mvir, c_vir, uni.halos["m200c"]):
        # y = R/r_s; mean density inside y relative to inside the virial radius
        ratio = lambda y, c=c: mu(y) / y**3 / (mu(c) / c**3) * delta_vir - 200.0
        y200 = brentq(ratio, 0.1, c)
        assert m200c == pytest.approx(m * mu(y200) / mu(c), rel=3e-3)
    assert 0.75 < uni.halos["m200c"][0] / 1e15 < 0.9
    assert uni.halos["r200c"] == pytest.approx(r200c_by_hand(uni.halos["m200c"], z, cosmo),
                                               rel=2e-3)


def test_chunked_conversion_is_identical(tmp_path):
    data1 = write_uchuu_um(tmp_path, toy_galaxies())
    convert_uchuu_um(data1, tmp_path / "a.h5", quiet=True, chunk_size=1)
    convert_uchuu_um(data1, tmp_path / "b.h5", quiet=True, chunk_size=1000)
    a, b = read_universe(tmp_path / "a.h5"), read_universe(tmp_path / "b.h5")
    for table in ("halos", "galaxies"):
        for name, values in getattr(a, table).items():
            np.testing.assert_array_equal(values, getattr(b, table)[name])


def test_cuts_drop_galaxies_with_their_hosts(tmp_path):
    data1 = write_uchuu_um(tmp_path, toy_galaxies())
    config = convert_uchuu_um(data1, tmp_path / "u.h5", quiet=True, min_host_mvir=1e14,
                              min_stellar_mass=10**9.5, stellar_mass="true")
    uni = read_universe(tmp_path / "u.h5")
    assert uni.halos["halo_id"].tolist() == [100]
    assert uni.galaxies["galaxy_id"].tolist() == [100, 101, 102]
    assert config["counts"]["galaxies_of_cut_hosts"] == 3
    assert config["counts"]["galaxies_below_min_stellar_mass"] == 1


def test_satellite_with_missing_host_is_an_error_or_dropped(tmp_path):
    gal = toy_galaxies()
    gal["upid"][3] = 999
    data1 = write_uchuu_um(tmp_path, gal)
    with pytest.raises(InputError, match=r"1 satellites name a host .* 999"):
        convert_uchuu_um(data1, tmp_path / "u.h5", quiet=True)
    assert not (tmp_path / "u.h5").exists()  # atomic: nothing left behind
    config = convert_uchuu_um(data1, tmp_path / "u.h5", quiet=True, missing_hosts="drop")
    assert config["counts"]["satellites_missing_host_dropped"] == 1
    assert 102 not in read_universe(tmp_path / "u.h5").galaxies["galaxy_id"]


def test_central_missing_from_halo_catalogue(tmp_path):
    data1 = write_uchuu_um(tmp_path, toy_galaxies())
    cat = write_rockstar_h5(tmp_path / "h.h5", ids=[100], upid=[-1], m200c=[8e14], rs=[250.0])
    with pytest.raises(InputError, match="halo catalogue lacks their halos"):
        convert_uchuu_um(data1, tmp_path / "u.h5", halo_catalogue=[cat], quiet=True)
    config = convert_uchuu_um(data1, tmp_path / "u.h5", halo_catalogue=[cat], quiet=True,
                              missing_hosts="drop")
    assert config["counts"]["hosts_missing_from_halo_catalogue"] == 1
    assert read_universe(tmp_path / "u.h5").n_galaxies == 4  # host 100's galaxies


@pytest.mark.parametrize("problem, match", [
    (dict(skip=("obs_sfr",)), r"lacks the dataset 'obs_sfr'; a Uchuu-UM data1"),
    (dict(skip=("vz",)), r"lacks the dataset 'vz'; a Uchuu-UM data3"),
    (dict(units={"x": "Mpc"}), r"'/x' is in 'Mpc'; the Uchuu-UM layout has 'mpc/h'"),
    (dict(n3=5), r"different shapes"),
    (dict(name="galaxies"), r"not named like a Uchuu-UM data1 file"),
])
def test_uchuu_um_bad_layouts(tmp_path, problem, match):
    name = problem.pop("name", "Uchuu_UM_z0p09")
    if name == "galaxies":
        with h5py.File(tmp_path / "galaxies.h5", "w") as f:
            f["id"] = np.arange(3)
        path = tmp_path / "galaxies.h5"
    else:
        path = write_uchuu_um(tmp_path, toy_galaxies(), **problem)
    with pytest.raises(InputError, match=match):
        convert_uchuu_um(path, tmp_path / "u.h5", quiet=True)


def test_bad_options(tmp_path):
    data1 = write_uchuu_um(tmp_path, toy_galaxies())
    with pytest.raises(InputError, match="chunk_size must be a positive number"):
        convert_uchuu_um(data1, tmp_path / "u.h5", chunk_size=0)
    with pytest.raises(InputError, match="missing_hosts must be one of"):
        convert_uchuu_um(data1, tmp_path / "u.h5", missing_hosts="ignore")
    with pytest.raises(InputError, match="stellar_mass must be 'obs'"):
        convert_uchuu_um(data1, tmp_path / "u.h5", stellar_mass="observed")
    with pytest.raises(InputError, match="far outside the box"):
        convert_uchuu_um(data1, tmp_path / "u.h5", box_size=5.0, quiet=True)


# ----------------------------------------------------------------------------- hlist

FIXTURE = "formats/dummy_halocat_0.07812.list"


def test_real_hlist_fixture(shared_data, tmp_path):
    path = shared_data / FIXTURE
    header = read_hlist_header(path)
    assert len(header.columns) == 79
    assert header.columns[:3] == ["scale", "id", "desc_scale"]
    assert header.columns[40] == "M200c" and header.columns[17] == "x"
    assert (header.box_size, header.omega_m, header.omega_l, header.h) == \
        (250.0, 0.307115, 0.692885, 0.68)
    config = convert_hlist(path, tmp_path / "u.h5", quiet=True, chunk_size=100)
    counts = config["counts"]
    # 436 rows: 4 subhalos, 432 distinct halos of which 5 have M200c = 0
    assert counts["rows"] == 436 and counts["subhalos_skipped"] == 4
    assert counts["halos_nonpositive_m200c_dropped"] == 5 and counts["halos"] == 427
    uni = read_universe(tmp_path / "u.h5")
    assert uni.redshift == pytest.approx(1 / 0.07812 - 1)
    assert uni.box_size == 250.0 and uni.cosmology.h == pytest.approx(0.68)
    assert uni.n_galaxies == 0
    # the most massive halo: id 979917, M200c 1.70465e10, rs 10.102 kpc/h (row of the file)
    row = int(np.argmax(uni.halos["m200c"]))
    assert uni.halos["halo_id"][row] == 979917
    assert uni.halos["m200c"][row] == pytest.approx(1.704650e10)
    r200c = r200c_by_hand(1.704650e10, uni.redshift, uni.cosmology)
    assert uni.halos["r200c"][row] == pytest.approx(r200c, rel=2e-3)
    assert uni.halos["concentration"][row] == pytest.approx(r200c * 1000 / 10.102, rel=2e-3)
    assert [uni.halos[k][row] for k in ("x", "vz")] == pytest.approx([43.6052, -78.69])


def _fixture_lines(shared_data):
    lines = (shared_data / FIXTURE).read_text().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    rows = [line for line in lines if not line.startswith("#")]
    return header, rows


@pytest.mark.parametrize("old, new, match", [
    ("#X/Y/Z: Halo position (Mpc/h comoving).", "#X/Y/Z: Halo position (Mpc comoving).",
     r"field 'x/y/z' is documented in \(Mpc comoving\)"),
    ("#Rs: Scale radius (kpc/h comoving).", "#Rs: Scale radius (Mpc/h comoving).",
     r"field 'rs' is documented in"),
    ("#Full box size = 250.000000 Mpc/h", "#Full box size = 250.000000 Mpc",
     r"box size is given in 'Mpc'; expected comoving Mpc/h"),
    (" id(1) ", " ID_halo(1) ", r"lacks the column\(s\) \['id'\]"),
    (" rs(12) ", " rs(13) ", r"header column 'rs\(13\)' is number 12"),
])
def test_hlist_bad_headers(shared_data, tmp_path, old, new, match):
    header, rows = _fixture_lines(shared_data)
    text = "".join(header).replace(old, new, 1)
    assert text != "".join(header)
    path = tmp_path / "hlist_0.07812.list"
    path.write_text(text + "".join(rows[:20]))
    with pytest.raises(InputError, match=match):
        convert_hlist(path, tmp_path / "u.h5", quiet=True)


def test_hlist_without_m200c_converts_mvir(shared_data, tmp_path):
    """Without an M200c column, M200c comes from Mvir through colossus (NFW): at z = 11.8
    (Omega_m(z) ~ 1, Delta_vir ~ 18 pi^2 = 178 < 200) M200c is slightly below Mvir."""
    header, rows = _fixture_lines(shared_data)
    path = tmp_path / "hlist_0.07812.list"
    path.write_text("".join(header).replace(" M200c(40) ", " M_200c(40) ") + "".join(rows))
    config = convert_hlist(path, tmp_path / "u.h5", quiet=True)
    assert "colossus" in config["halo_mass"]
    assert config["counts"]["halos"] == 432  # no halo lacks Mvir
    uni = read_universe(tmp_path / "u.h5")
    row = int(np.flatnonzero(uni.halos["halo_id"] == 979917)[0])
    assert 0.9 < uni.halos["m200c"][row] / 1.751e10 < 1.0  # Mvir 1.751e10, Rockstar M200c 1.705e10


def test_hlist_truncated_row_and_chunking(shared_data, tmp_path):
    header, rows = _fixture_lines(shared_data)
    good = tmp_path / "hlist_0.07812.list"
    good.write_text("".join(header + rows[:50]))
    convert_hlist(good, tmp_path / "a.h5", quiet=True, chunk_size=7)
    convert_hlist(good, tmp_path / "b.h5", quiet=True)
    a, b = read_universe(tmp_path / "a.h5"), read_universe(tmp_path / "b.h5")
    for name, values in a.halos.items():
        np.testing.assert_array_equal(values, b.halos[name])
    bad = tmp_path / "bad_0.07812.list"
    bad.write_text("".join(header + rows[:10]) + " ".join(rows[10].split()[:60]) + "\n")
    with pytest.raises(InputError, match="does not match the header's layout"):
        convert_hlist(bad, tmp_path / "c.h5", quiet=True)


# ----------------------------------------------------------------------------- UM ASCII

def test_universemachine_ascii(shared_data, tmp_path):
    """UniverseMachine DR1 ASCII (real header: 24 scalar + 8 x 178 history columns,
    masses in Msun without h); same conversion as Uchuu-UM."""
    header_text = (shared_data / "formats/header_a_1.002310.txt").read_text()
    header = read_hlist_header(shared_data / "formats/header_a_1.002310.txt")
    assert len(header.columns) == 24 + 8 * 178 and header.scale_factor == 1.00231
    gal = toy_galaxies()
    scalars = {"ID": gal["id"], "UPID": gal["upid"], "X": gal["x"], "Y": gal["y"],
               "Z": gal["z"], "VX": gal["vx"], "VY": gal["vy"], "VZ": gal["vz"],
               "Mnow": np.array(gal["Mvir"]) / H_UCHUU,  # Msun (no h)
               "SM": gal["sm"], "SFR": gal["sfr"], "Obs_SM": gal["sm"], "Obs_SFR": gal["sfr"]}
    table = np.zeros((len(gal["id"]), len(header.columns)))
    for name, values in scalars.items():
        table[:, header.index(name)] = values
    path = tmp_path / "sfr_catalog_1.002310.txt"
    body = "\n".join(" ".join(f"{v:.10g}" for v in row) for row in table)
    path.write_text(header_text.rstrip("\n") + "\n" + body + "\n")
    assert detect_format(path) == "um-ascii"
    config = convert_um_ascii(path, tmp_path / "u.h5", box_size=2000.0, quiet=True,
                              chunk_size=2)
    uni = read_universe(tmp_path / "u.h5")
    assert uni.redshift == pytest.approx(1 / 1.00231 - 1)
    assert uni.halos["halo_id"].tolist() == [100, 200]
    # Mnow [Msun] x h -> Mvir [h^-1 Msun] 1e15 -> M200c ~ 0.8e15
    assert 0.75e15 < uni.halos["m200c"][0] < 0.9e15
    assert uni.galaxies["host_id"].tolist() == [100, 200, 100, 100, 100, 200]
    assert config["source"] == "um-ascii"
    assert config["mass_units"] == "msun"
    # the mass unit is never assumed: without a '#Units: ... masses' line it must be given
    lines = path.read_text().splitlines(keepends=True)
    bare = tmp_path / "sfr_catalog_bare.txt"
    bare.write_text("".join(line for line in lines if "masses" not in line.lower()))
    with pytest.raises(InputError, match="no '#Units: ... masses' header line"):
        convert_um_ascii(bare, tmp_path / "v.h5", box_size=2000.0, redshift=0.0, quiet=True)
    convert_um_ascii(bare, tmp_path / "v.h5", box_size=2000.0, quiet=True,
                     mass_units="msun")
    np.testing.assert_array_equal(read_universe(tmp_path / "v.h5").halos["m200c"],
                                  uni.halos["m200c"])
    with pytest.raises(InputError, match="the header says masses are in 'msun'"):
        convert_um_ascii(path, tmp_path / "w.h5", box_size=2000.0, quiet=True,
                         mass_units="msun/h")
    with pytest.raises(InputError, match="mass_units must be one of"):
        convert_um_ascii(bare, tmp_path / "w.h5", box_size=2000.0, quiet=True,
                         mass_units="kg")
    cli = ["universe", "convert", str(bare), "--format", "um-ascii", "--box-size", "2000",
           "-q", "-o", str(tmp_path / "x.h5")]
    assert main(cli) == 2
    assert main(cli + ["--mass-units", "msun"]) == 0


# ----------------------------------------------------------------------------- CLI, formats

def test_universe_set_refuses_a_boolean_it_cannot_read():
    from surveymass.cli.universe import _parse_settings
    from surveymass.universe.synthetic import SyntheticConfig

    assert _parse_settings(["nonlinear_clustering=No", "match_blanton_lf=1"],
                           SyntheticConfig) == {"nonlinear_clustering": False,
                                                "match_blanton_lf": True}
    with pytest.raises(InputError, match="'ture' is not a bool"):
        _parse_settings(["nonlinear_clustering=ture"], SyntheticConfig)


def test_detect_format(shared_data, tmp_path):
    assert detect_format(shared_data / FIXTURE) == "hlist"
    (tmp_path / "notes.txt").write_text("ra dec z\n1 2 3\n")
    with pytest.raises(InputError, match="neither a Uchuu-UM HDF5 file"):
        detect_format(tmp_path / "notes.txt")
    cat = write_rockstar_h5(tmp_path / "halolist_z0p09_0.h5", [1], [-1], [1e14], [100.0])
    with pytest.raises(InputError, match="goes to --halo-catalogue"):
        detect_format(cat)


def test_cli_convert(shared_data, tmp_path):
    out = tmp_path / "hlist.h5"
    assert main(["universe", "convert", str(shared_data / FIXTURE), "-o", str(out), "-q"]) == 0
    assert read_universe(out).n_halos == 427
    data1 = write_uchuu_um(tmp_path, toy_galaxies())
    cat = write_rockstar_h5(tmp_path / "h.h5", [100, 200], [-1, -1], [8e14, 2e13], [250, 80])
    out = tmp_path / "um.h5"
    assert main(["universe", "convert", str(data1), "-o", str(out), "--halo-catalogue",
                 str(cat), "--min-stellar-mass", "1e10", "-q"]) == 0
    with h5py.File(out) as f:
        assert json.loads(f.attrs["config"])["min_stellar_mass"] == 1e10
    assert read_universe(out).n_galaxies == 4
    assert main(["universe", "convert", str(data1), "-o", str(out), "--chunk-size", "0"]) == 2
    assert main(["universe", "convert", str(data1), "-o", str(out), "--format", "fits"]) == 2
