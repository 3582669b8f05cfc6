"""Cosmology serialisation and distance tables, survey configs, the universe store,
atomic writes and the command-line error handling."""

import json
import shutil

import numpy as np
import pytest
from astropy.cosmology import Planck15

from surveymass.cosmology import (
    C_KMS,
    cosmology_from_dict,
    cosmology_to_dict,
    distance_table,
    same_cosmology,
)
from surveymass.errors import InputError
from surveymass.provenance import atomic_path, provenance
from surveymass.survey import SurveyConfig, load_survey
from surveymass.universe.store import (
    GALAXY_COLUMNS,
    HALO_COLUMNS,
    Universe,
    UniverseFile,
    UniverseWriter,
    read_universe,
    write_universe,
)


def test_speed_of_light_literal_is_astropys():
    """C_KMS is written out (no astropy at import); it must stay astropy's exact c."""
    import astropy.units as u
    from astropy.constants import c

    assert C_KMS == c.to_value(u.km / u.s) == 299792.458


def test_cosmology_round_trips_through_json():
    data = json.loads(json.dumps(cosmology_to_dict(Planck15)))
    back = cosmology_from_dict(data)
    assert same_cosmology(back, Planck15)
    assert back.comoving_distance(0.1).value == pytest.approx(
        Planck15.comoving_distance(0.1).value, rel=1e-10)


@pytest.mark.parametrize("name", ["LambdaCDM", "wCDM", "Flatw0waCDM"])
def test_other_astropy_cosmologies_round_trip_through_astropys_mapping_format(name):
    import astropy.cosmology as ac

    params = {"LambdaCDM": {"Ode0": 0.65}, "wCDM": {"Ode0": 0.7, "w0": -0.9},
              "Flatw0waCDM": {"w0": -0.95, "wa": 0.1}}[name]
    cosmo = getattr(ac, name)(H0=70.0, Om0=0.3, Tcmb0=2.725, **params)
    back = cosmology_from_dict(json.loads(json.dumps(cosmology_to_dict(cosmo))))
    assert type(back) is type(cosmo) and back == cosmo
    assert same_cosmology(back, cosmo)


@pytest.mark.parametrize("data, message", [
    ({"class": "FlatLambdaCDM", "H0": 70.0, "Om0": 0.3, "bogus": 1}, "unused parameters"),
    ({"class": "NoSuchCosmology", "H0": 70.0}, "NoSuchCosmology"),
    ({"H0": 70.0, "Om0": 0.3}, "needs a 'class'"),
])
def test_a_bad_cosmology_description_is_a_clear_error(data, message):
    with pytest.raises(InputError, match=message):
        cosmology_from_dict(data)


def test_cosmology_without_cmb_or_baryons_round_trips_and_reaches_colossus():
    from astropy.cosmology import FlatLambdaCDM

    from surveymass.cosmology import colossus_cosmology

    bare = FlatLambdaCDM(H0=68.0, Om0=0.3)  # no Tcmb0, no m_nu, Ob0 = 0
    assert same_cosmology(cosmology_from_dict(cosmology_to_dict(bare)), bare)
    assert colossus_cosmology(bare).Om0 == pytest.approx(0.3)


def test_colossus_matter_density_includes_massive_neutrinos():
    # astropy Planck15: Om0 = 0.3075 (CDM + baryons) + 0.06 eV of neutrinos
    # (Omega_nu h^2 = 0.06 / 93.14) = 0.3089, Uchuu's Omega_m (Ishiyama et al. 2021).
    from astropy.cosmology import FlatLambdaCDM

    from surveymass.cosmology import colossus_cosmology, massive_neutrino_density

    # (93.14 eV is the usual rounding; astropy's exact Fermi-Dirac integral is 0.35% off it)
    assert massive_neutrino_density(Planck15) == pytest.approx(0.06 / 93.14 / Planck15.h ** 2,
                                                               rel=5e-3)
    assert colossus_cosmology(Planck15).Om0 == pytest.approx(0.3089, abs=1e-4)
    # massless neutrinos are radiation, not matter
    massless = FlatLambdaCDM(H0=67.74, Om0=0.3075, Tcmb0=2.7255)
    assert colossus_cosmology(massless).Om0 == pytest.approx(0.3075, rel=1e-12)


def test_distance_table_inverts_and_matches_astropy():
    table = distance_table(Planck15, z_max=0.3)
    z = np.array([0.0231, 0.05, 0.1])
    expected = Planck15.comoving_distance(z).value * Planck15.h
    np.testing.assert_allclose(table.comoving_distance(z), expected, rtol=1e-6)
    np.testing.assert_allclose(table.redshift(expected), z, rtol=1e-6)
    # Coma: D_C(0.0231) = 68.8 h^-1 Mpc in Planck15
    assert table.comoving_distance(0.0231) == pytest.approx(68.8, abs=0.2)


def test_distance_table_is_accurate_to_z_zero_and_refuses_outside_its_range():
    table = distance_table(Planck15, z_max=1.0)
    z = np.geomspace(1e-6, 1.0, 2000)  # including the first grid cell (dz = 2.5e-4)
    d_c = Planck15.comoving_distance(z).value * Planck15.h
    d_m = Planck15.comoving_transverse_distance(z).value * Planck15.h
    np.testing.assert_allclose(table.comoving_distance(z), d_c, rtol=1e-8)
    np.testing.assert_allclose(table.transverse_distance(z), d_m, rtol=1e-8)
    np.testing.assert_allclose(table.redshift(d_c), z, rtol=1e-8)
    assert table.comoving_distance(0.0) == 0.0 and table.redshift(0.0) == 0.0
    with pytest.raises(InputError, match="outside the distance table"):
        table.comoving_distance(1.2)
    with pytest.raises(InputError, match="outside the distance table"):
        table.transverse_distance(np.array([0.1, -0.01]))
    with pytest.raises(InputError, match="outside the distance table"):
        table.redshift(1e5)


def test_shipped_survey_is_the_sdss_legacy_main_sample():
    survey = load_survey()
    assert survey.mag_limit == 17.77 and survey.fibre_radius_arcsec == 55.0
    assert survey.z_min < 0.0231 < survey.z_max  # Coma is inside the training range


def test_survey_config_errors_name_the_problem(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nmag_limit = 17.77\nz_min = 0.1\nz_max = 0.05\n'
                   'fibre_radius_arcsec = 55\ncollision_recovery = 0.3\n'
                   'velocity_error_kms = 30\n')
    with pytest.raises(InputError, match="z_min < z_max"):
        load_survey(bad)
    with pytest.raises(InputError, match=r"missing setting\(s\) \['collision_recovery'"):
        SurveyConfig.from_dict({"name": "x", "mag_limit": 17.0, "z_min": 0.01, "z_max": 0.1,
                                "fibre_radius_arcsec": 55, "velocity_error_kms": 30})
    with pytest.raises(InputError, match="shipped surveys"):
        load_survey("no_such_survey")


def tiny_universe(n_halos=3, sats_per_halo=2) -> Universe:
    rng = np.random.default_rng(1)
    halos = {name: rng.uniform(1, 9, n_halos).astype(dtype)
             for name, (dtype, _, _) in HALO_COLUMNS.items()}
    halos["halo_id"] = np.arange(n_halos) + 100
    n_gal = n_halos * (1 + sats_per_halo)
    galaxies = {name: rng.uniform(1, 9, n_gal).astype(dtype)
                for name, (dtype, _, _) in GALAXY_COLUMNS.items()}
    galaxies["galaxy_id"] = np.arange(n_gal)
    galaxies["host_id"] = np.repeat(halos["halo_id"], 1 + sats_per_halo)
    return Universe(cosmology=Planck15, redshift=0.07, box_size=10.0, halos=halos,
                    galaxies=galaxies, config={"seed": 3})


def test_universe_round_trip_and_chunked_reads(tmp_path):
    universe = tiny_universe()
    path = tmp_path / "u.h5"
    write_universe(universe, path)
    back = read_universe(path)
    assert back.config == {"seed": 3} and back.box_size == 10.0
    np.testing.assert_array_equal(back.galaxies["host_id"], universe.galaxies["host_id"])
    with UniverseFile(path) as f:
        chunks = list(f.iter_chunks("galaxies", ["galaxy_id"], chunk_size=4))
    assert [len(c["galaxy_id"]) for c in chunks] == [4, 4, 1]


def test_universe_with_orphan_satellites_is_rejected(tmp_path):
    universe = tiny_universe()
    universe.galaxies["host_id"][0] = 999
    with pytest.raises(InputError, match="host halo that is not in the halo table"):
        write_universe(universe, tmp_path / "u.h5")
    assert not (tmp_path / "u.h5").exists()


def test_failed_chunked_write_leaves_no_file(tmp_path):
    path = tmp_path / "u.h5"
    with pytest.raises(InputError, match="lacks column"):
        with UniverseWriter(path, Planck15, 0.07, 10.0) as writer:
            writer.append("halos", {"halo_id": np.arange(3)})
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_reading_a_foreign_hdf5_file_says_what_it_expected(tmp_path):
    import h5py

    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(InputError, match="not a surveymass universe"):
        UniverseFile(path)


def test_atomic_path_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "result.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.txt"]


def test_provenance_records_versions():
    record = provenance(inputs=["a.fits"])
    assert record["inputs"] == ["a.fits"] and "numpy" in record["versions"]


def test_provenance_records_the_version_and_git_commit(monkeypatch, tmp_path):
    import subprocess
    from importlib import metadata
    from pathlib import Path

    import surveymass
    from surveymass import provenance as prov

    assert surveymass.__version__ == metadata.version("surveymass")  # one source

    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    prov.git_state.cache_clear()
    monkeypatch.setattr(subprocess, "run", no_git)
    assert "git" not in prov.provenance()  # silently absent
    prov.git_state.cache_clear()
    if (Path(prov.__file__).resolve().parents[1] / ".git").exists():  # a git checkout
        monkeypatch.setattr(subprocess, "run", lambda args, **kw: subprocess.CompletedProcess(
            args, 0, stdout={"rev-parse": "abc123\n", "status": " M x.py\n"}[args[3]]))
        assert prov.provenance()["git"] == {"commit": "abc123", "dirty": True}
        prov.git_state.cache_clear()


def test_missing_shared_data_skips_locally_but_fails_in_ci(monkeypatch, tmp_path):
    from conftest import require_shared_data

    missing = tmp_path / "no_shared_data"
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must provide it"):
        require_shared_data(missing)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_shared_data(missing)
    assert require_shared_data(tmp_path) == tmp_path


def test_fixture_data_is_checked_against_its_checksums(tmp_path):
    """The tests' copy of shared/data unpacks to the originals' SHA-256 sums, and a changed
    file is refused."""
    import lzma

    from conftest import FIXTURE_DATA, unpack_fixture_data

    unpacked = unpack_fixture_data(FIXTURE_DATA, tmp_path / "ok")
    assert (unpacked / "real/coma/sdss_coma_vicinity.dat").stat().st_size == 805989
    copy = tmp_path / "copy"
    shutil.copytree(FIXTURE_DATA, copy)
    cells = copy / "real/footprints/sdss_dr7_lss_1deg_cells.dat.xz"
    cells.write_bytes(lzma.compress(lzma.decompress(cells.read_bytes())[:-10]))
    with pytest.raises(ValueError, match="sdss_dr7_lss_1deg_cells.dat does not match"):
        unpack_fixture_data(copy, tmp_path / "bad")


def test_png_metadata_carries_version_and_provenance(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from PIL import Image

    import surveymass
    from surveymass.provenance import png_metadata

    meta = png_metadata(bundle="toy")
    assert meta["Software"].startswith(f"surveymass {surveymass.__version__}")
    fig = Figure(figsize=(1, 1))
    fig.savefig(tmp_path / "a.png", metadata=meta)
    text = Image.open(tmp_path / "a.png").text
    assert text["Software"] == meta["Software"]
    record = json.loads(text["Source"])
    assert record["bundle"] == "toy" and "numpy" in record["versions"]


def test_survey_magnitude_cut_keeps_the_limit_and_unknown_magnitudes():
    survey = load_survey()
    mags = np.array([17.0, 17.77, 17.78, np.nan])
    assert survey.observes(mags).tolist() == [True, True, False, True]


def test_cli_usage_errors_are_messages_not_tracebacks(capsys):
    """An unknown option or a missing argument prints typer's usage message, status 2."""
    from surveymass.cli import main

    assert main(["evaluate", "bundle", "set", "--no-such-option"]) == 2
    assert "No such option: --no-such-option" in capsys.readouterr().err
    assert main(["train"]) == 2
    assert "Missing argument" in capsys.readouterr().err
    assert main(["--help"]) == 0


def test_colossus_cosmology_name_is_the_same_in_every_process():
    """colossus keys its persistent cache on the cosmology's name: a name that changes
    between processes (Python's salted hash()) would never hit the cache."""
    import os
    import subprocess
    import sys

    code = ("from surveymass.cosmology import colossus_cosmology, default_cosmology;"
            "print(colossus_cosmology(default_cosmology()).name)")
    names = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env={**os.environ,
                                             "PYTHONHASHSEED": seed}).stdout.strip()
             for seed in ("1", "2")}
    assert len(names) == 1 and names.pop().startswith("surveymass_")
