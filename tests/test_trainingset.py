"""Training sets: halo splits, the natural test split, the manifest, the reader's checks, CLI."""

import json
import re
import warnings

import mock_universes as mu
import numpy as np
import pytest
from astropy.io import fits

from surveymass.cli import main
from surveymass.errors import InputError
from surveymass.mocks.build import make_training_set
from surveymass.mocks.config import MassBins, MockConfig, TrainingSetConfig
from surveymass.mocks.trainingset import (
    SPLITS,
    assign_splits,
    read_manifest,
    read_training_set,
    write_training_set,
)
from surveymass.survey import load_survey
from surveymass.universe.store import write_universe

BINS = MassBins(14.0, 14.8, 0.2)


def _universe(seed: int = 7):
    rng = np.random.default_rng(seed)
    masses = rng.uniform(14.0, 14.8, 80)
    clusters = [mu.cluster(i, m, rng.uniform(0, 250, 3), sigma=600, n_sat=60)
                for i, m in enumerate(masses)]
    return mu.build(clusters, n_field=30000, field_mag=-20.5, sat_mag=-21.5)


@pytest.fixture(scope="module")
def universe():
    return _universe()


@pytest.fixture(scope="module")
def training_set(universe, tmp_path_factory):
    out = tmp_path_factory.mktemp("ts") / "set"
    config = TrainingSetConfig(n_fields=240, bins=BINS, max_los=20, n_natural=30, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        manifest = make_training_set(universe, load_survey(), out, MockConfig(), config,
                                     progress=False)
    return out, manifest


def test_lines_of_sight_of_a_halo_never_straddle_splits(training_set):
    path, _ = training_set
    halos = {s: set(read_training_set(path, s)[0]["halo_id"]) for s in SPLITS}
    assert not halos["train"] & halos["val"]
    assert not halos["train"] & halos["test"]
    assert not halos["val"] & halos["test"]
    assert halos["test_natural"] <= halos["test"]
    fields = read_training_set(path, "train")[0]
    pairs = set(zip(fields["halo_id"].tolist(), fields["los_index"].tolist()))
    assert len(pairs) == len(fields)  # no line of sight twice


def test_natural_split_has_one_line_of_sight_per_halo(training_set):
    fields = read_training_set(training_set[0], "test_natural")[0]
    assert len(set(fields["halo_id"])) == len(fields)


def test_galaxy_rows_are_grouped_by_field(training_set):
    fields, galaxies, _ = read_training_set(training_set[0], "val")
    for row in fields:
        block = galaxies[row["gal_start"]: row["gal_start"] + row["n_galaxies"]]
        assert np.all(block["field_id"] == row["field_id"])
        assert block["is_member"].sum() == row["n_members"]
    assert fields["n_galaxies"].sum() == len(galaxies)
    assert np.all(fields["n_galaxies"] >= 10)


def test_manifest_counts_fields_and_interlopers_per_mass_bin(training_set):
    path, manifest = training_set
    on_disk = read_manifest(path)
    assert on_disk["setup"]["setup"] == "cylindrical"
    assert on_disk["sampling"]["seed"] == 5
    assert on_disk["survey"]["name"] == "sdss_legacy"
    assert on_disk["universe"]["box_size"] == 250.0
    per_split = {s: on_disk["splits"][s] for s in ("train", "val", "test")}
    per_bin = np.sum([[b["n_fields"] for b in per_split[s]["per_mass_bin"]]
                      for s in per_split], axis=0)
    # 240 fields flat over 4 bins; this universe fills every bin
    np.testing.assert_array_equal(per_bin, [60, 60, 60, 60])
    assert not manifest["shortfall_per_bin"]
    train = read_training_set(path, "train")[1]
    fraction = 1 - train["is_member"].mean()
    bins = on_disk["splits"]["train"]["per_mass_bin"]
    weights = [b["n_fields"] * b["mean_galaxies"] for b in bins]
    assert np.average([b["interloper_fraction"] for b in bins], weights=weights) == \
        pytest.approx(fraction, abs=1e-9)
    assert 0 < fraction < 1


def test_splits_follow_the_fractions_in_every_mass_bin():
    rng = np.random.default_rng(1)
    log_m = rng.uniform(14.0, 14.8, 4000)
    split = assign_splits(np.arange(4000), log_m, BINS, (0.8, 0.1, 0.1), seed=2)
    labels = np.array([split[i] for i in range(4000)])
    for b in range(BINS.n_bins):
        in_bin = labels[BINS.index(log_m) == b]
        assert np.mean(in_bin == "train") == pytest.approx(0.8, abs=0.01)
        assert np.mean(in_bin == "test") == pytest.approx(0.1, abs=0.01)
    with pytest.raises(InputError, match="fractions"):
        assign_splits(np.arange(3), log_m[:3], BINS, (0.8, 0.3, 0.1), seed=2)


def test_reader_refuses_wrong_version(training_set, tmp_path):
    path, _ = training_set
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["version"] = 99
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="version 99"):
        read_training_set(tmp_path, "train")


def test_reader_refuses_missing_column_and_empty_split(training_set, tmp_path):
    fields, galaxies, _ = read_training_set(training_set[0], "val")
    with pytest.raises(InputError, match="v_los"):
        write_training_set(tmp_path / "bad", {"val": (fields, galaxies[["ra", "dec"]])}, {})
    write_training_set(tmp_path / "empty", {"val": (fields[:0], galaxies[:0])}, {})
    with pytest.raises(InputError, match="empty"):
        read_training_set(tmp_path / "empty", "val")
    with pytest.raises(InputError, match="no train split"):
        read_training_set(tmp_path / "empty", "train")
    with fits.open(training_set[0] / "val.fits") as hdul:  # drop a column on disk
        hdul["GALAXIES"].columns.del_col("is_member")
        hdul.writeto(tmp_path / "empty" / "val.fits", overwrite=True)
    with pytest.raises(InputError, match="is_member"):
        read_training_set(tmp_path / "empty", "val")
    with pytest.raises(InputError, match="not a training set"):
        read_training_set(tmp_path, "val")


def test_mocks_command_writes_a_training_set(universe, tmp_path, capsys):
    path = tmp_path / "u.h5"
    write_universe(universe, path)
    out = tmp_path / "set"
    args = ["mocks", "--universe", str(path), "-o", str(out), "--n-fields", "40",
            "--mass-min", "14.0", "--mass-max", "14.8", "--bin-width", "0.2",
            "--max-los", "10", "--setup", "idealised", "--seed", "3", "--quiet"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(args) == 0
    _, galaxies, manifest = read_training_set(out, "train")
    assert manifest["setup"]["setup"] == "idealised"
    assert galaxies["is_member"].all()
    assert main(args) == 2  # refuses to overwrite
    assert "--overwrite" in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (["--mass-max", "15.2"], "cannot fill"),
    (["--mass-max", "15.3"], "whole number"),
    (["--v-max", "60000"], "half the box"),
    (["--survey", "no_such_survey"], "no survey config"),
    (["--setup", "spherical"], "setup"),
])
def test_mocks_command_refuses_bad_input_before_writing(universe, tmp_path, capsys, extra,
                                                        message):
    path = tmp_path / "u.h5"
    write_universe(universe, path)
    out = tmp_path / "set"
    args = ["mocks", "--universe", str(path), "-o", str(out), "--n-fields", "40",
            "--mass-min", "14.0", "--mass-max", "14.8", "--bin-width", "0.2", "--quiet"]
    assert main(args + extra) == 2  # the last of a repeated option wins
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_mocks_command_defaults_are_the_library_configs(capsys, monkeypatch):
    """--help shows the config dataclasses' own defaults (the CLI copies none)."""
    from surveymass.mocks.config import MockConfig, TrainingSetConfig
    from surveymass.survey import DEFAULT_SURVEY

    mocks, sizes = MockConfig(), TrainingSetConfig()
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["mocks", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert f"[default: {DEFAULT_SURVEY}]" in text
    for option, default in (("--r-max", mocks.aperture.r_max), ("--v-max", mocks.aperture.v_max),
                            ("--min-galaxies", mocks.aperture.min_galaxies),
                            ("--setup", mocks.setup), ("--n-fields", sizes.n_fields),
                            ("--mass-min", sizes.bins.log_min),
                            ("--mass-max", sizes.bins.log_max),
                            ("--bin-width", sizes.bins.width), ("--max-los", sizes.max_los),
                            ("--seed", sizes.seed)):
        assert re.search(rf"{option} .*?\[default: {re.escape(str(default))}\]", text), option
    assert re.search(r"--fibres / --no-fibres .*?\[default: fibres\]", text)
    assert re.search(r"--footprint / --no-footprint .*?\[default: no- ?footprint\]", text)


def test_mocks_command_refuses_an_incomplete_survey_config(universe, tmp_path, capsys):
    path = tmp_path / "u.h5"
    write_universe(universe, path)
    survey = tmp_path / "deep.toml"
    survey.write_text('name = "deep"\nmag_limit = 19.5\nz_min = 0.02\nz_max = 0.1\n')
    out = tmp_path / "set"
    assert main(["mocks", "--universe", str(path), "-o", str(out), "--survey", str(survey),
                 "--quiet"]) == 2
    assert "missing setting(s) ['collision_recovery'" in capsys.readouterr().err
    assert not out.exists()


# --- an ensemble of universes as one source (issue 14, item 2) ---------------------------

def test_an_ensemble_training_set_takes_each_universe_s_share(universe, tmp_path):
    """Two universe files, loaded one at a time: each gives half the fields; the second's
    halo ids are offset by ENSEMBLE_ID_STRIDE, so splits stay by halo; the first's fields are
    exactly those of a single-universe set of its share."""
    import dataclasses

    from surveymass.mocks.build import ENSEMBLE_ID_STRIDE, make_ensemble_training_set

    paths = [tmp_path / "u1.h5", tmp_path / "u2.h5"]
    write_universe(universe, paths[0])
    write_universe(_universe(seed=8), paths[1])
    config = TrainingSetConfig(n_fields=240, bins=BINS, max_los=20, n_natural=30, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        manifest = make_ensemble_training_set(paths, load_survey(), tmp_path / "ens",
                                              MockConfig(), config, progress=False)
        single = make_training_set(universe, load_survey(), tmp_path / "one", MockConfig(),
                                   dataclasses.replace(config, n_fields=120, n_natural=15),
                                   progress=False)
    assert [u["path"] for u in manifest["ensemble"]] == [str(p) for p in paths]
    halos_by_split = {}
    for split in ("train", "val", "test"):
        fields, _, _ = read_training_set(tmp_path / "ens", split)
        second = fields["halo_id"] >= ENSEMBLE_ID_STRIDE
        assert 0 < second.sum() < len(fields)  # both universes contribute
        halos_by_split[split] = set(fields["halo_id"].tolist())
        mine, _, _ = read_training_set(tmp_path / "one", split)
        first = fields[~second]
        for column in ("halo_id", "los_index", "log10_m200c", "z_cl", "n_galaxies"):
            assert np.array_equal(first[column], mine[column]), (split, column)
    assert not (halos_by_split["train"] & halos_by_split["test"])  # split by halo
    assert sum(manifest["splits"][s]["n_fields"] for s in ("train", "val", "test")) == \
        2 * sum(single["splits"][s]["n_fields"] for s in ("train", "val", "test"))


def test_universes_of_different_redshift_are_not_one_source(universe, tmp_path, capsys):
    import dataclasses

    write_universe(universe, tmp_path / "u1.h5")
    write_universe(dataclasses.replace(universe, redshift=universe.redshift + 0.05),
                   tmp_path / "u2.h5")
    args = ["mocks", "-u", str(tmp_path / "u1.h5"), "-u", str(tmp_path / "u2.h5"), "-o",
            str(tmp_path / "set"), "--n-fields", "40", "--mass-min", "14.0", "--mass-max",
            "14.8", "--bin-width", "0.2", "--quiet"]
    assert main(args) == 2
    assert "differ in cosmology or redshift" in capsys.readouterr().err
    assert not (tmp_path / "set").exists()
