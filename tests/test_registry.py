"""The cluster registry: aliases, shipped values against the literature, name resolution."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

from surveymass.cli.options import cluster_from_coordinates, cluster_from_options
from surveymass.cluster import Cluster
from surveymass.errors import InputError, ServiceError
from surveymass.registry import (
    REGISTRY_PATH,
    lookup,
    registry_aliases,
    registry_clusters,
    resolve_cluster,
)

#: The neural-flows paper's Table 1 (shared/papers/neural-flows_dynamical-mass.txt).
TABLE1 = ["Coma", "A1689", "A85", "A119", "A576", "A1651", "A2142", "A2670"]
NEARBY = ["Virgo", "Perseus", "A426", "A2029", "A2199", "A1367", "A496", "A2065", "A2063",
          "A1795", "A2255", "A168", "A2151", "Hercules"]


@pytest.mark.parametrize("name", ["coma", "Coma", "COMA ", "A1656", "a 1656", "Abell 1656",
                                  "abell_1656", "ACO 1656", "Abell 01656", "Coma cluster"])
def test_coma_aliases_resolve_offline(name):
    cluster = resolve_cluster(name, online=False)
    # shared/data/README.md: Coma (Abell 1656), RA 194.95, Dec +27.98, z 0.0231
    assert (cluster.name, cluster.ra, cluster.dec, cluster.z) == ("Coma", 194.95, 27.98, 0.0231)


@pytest.mark.parametrize("name", TABLE1 + NEARBY)
def test_named_clusters_are_in_the_registry(name):
    cluster = lookup(name)
    assert cluster is not None and cluster.source
    assert 0 < cluster.z < 0.2


def test_perseus_and_hercules_aliases_are_the_same_entries():
    assert lookup("A426") == lookup("perseus") == lookup("Abell 426")
    assert lookup("A2151") == lookup("Hercules")


@pytest.mark.filterwarnings("ignore::astropy.units.UnitsWarning")  # VizieR's '[km/s]'
def test_curated_centres_agree_with_mahdavi_geller_2001(shared_data):
    """Independent check of the hand-entered centres against VizieR J/ApJ/554/L129."""
    from astropy.coordinates import SkyCoord

    lit = Table.read(shared_data / "real" / "literature" /
                     "Mahdavi2001_systems_J_ApJ_554_L129.fits")
    lit_names = {str(n).strip().replace("Abell ", "A"): i for i, n in enumerate(lit["Name"])}
    lit_names["Coma"] = lit_names["Coma cluster"]
    lit_names["Virgo"] = lit_names["Virgo cluster"]
    lit_names["Perseus"] = lit_names["A426"]
    checked = 0
    for name in TABLE1 + NEARBY:
        cluster = lookup(name)
        if cluster.name not in lit_names:
            continue
        row = lit[lit_names[cluster.name]]
        sep = SkyCoord(cluster.ra, cluster.dec, unit="deg").separation(
            SkyCoord(row["RAJ2000"], row["DEJ2000"], unit="deg"))
        assert sep.arcmin < 5, name
        assert abs(cluster.z - row["z"]) < 0.001, name  # the literature gives 3 decimals
        checked += 1
    assert checked >= 18


def test_literature_systems_are_all_resolvable(shared_data):
    """Every HeCS cluster (Rines et al. 2013) resolves to its published centre or a
    curated one within 5 arcmin."""
    lines = (shared_data / "real" / "literature" /
             "HeCS_Rines2013_J_ApJ_767_15_table1.dat").read_text().splitlines()
    rows = [[f.strip() for f in line.split("|")] for line in lines if "|" in line]
    assert len(rows) == 58
    for name, ra, dec, z, *_ in rows:
        cluster = resolve_cluster(name, online=False)
        assert np.hypot((cluster.ra - float(ra)) * np.cos(np.radians(float(dec))),
                        cluster.dec - float(dec)) * 60 < 5, name


def _registry_builder():
    """scripts/build_clusters.py as a module."""
    path = Path(__file__).resolve().parents[1] / "scripts" / "build_clusters.py"
    spec = importlib.util.spec_from_file_location("build_clusters", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.filterwarnings("ignore::astropy.units.UnitsWarning")  # VizieR's '[km/s]'
def test_shipped_registry_is_the_build_of_the_source_tables(shared_data, tmp_path):
    _registry_builder().build(shared_data).write(tmp_path / "built.ecsv", format="ascii.ecsv")
    assert (tmp_path / "built.ecsv").read_bytes() == REGISTRY_PATH.read_bytes()


@pytest.mark.filterwarnings("ignore::astropy.units.UnitsWarning")
def test_names_the_source_table_holds_damaged_are_whole_in_the_registry(shared_data):
    """Mahdavi & Geller's table holds 'Centauruscluste' (cut) and 'HYDRACLUSTER'; the
    registry carries the whole names, the Abell numbers of the rows' Com column, and the
    rows' positions."""
    fixes = _registry_builder().SOURCE_NAME_FIXES
    lit = Table.read(shared_data / "real" / "literature" /
                     "Mahdavi2001_systems_J_ApJ_554_L129.fits")
    rows = {str(n).strip(): row for n, row in zip(lit["Name"], lit, strict=True)}
    assert set(fixes) <= set(rows)  # every fix repairs a name the source really holds
    for damaged, (name, aliases) in fixes.items():
        row = rows[damaged]
        assert f"A{str(row['Com']).strip()[1:]}" in aliases  # e.g. Com 'A3526'
        for label in [name, *aliases]:
            cluster = resolve_cluster(label, online=False)
            assert (cluster.name, cluster.ra, cluster.dec) == (
                name, round(float(row["RAJ2000"]), 5), round(float(row["DEJ2000"]), 5))
        assert lookup(damaged) in (None, lookup(name))  # 'HYDRACLUSTER' spells 'Hydra cluster'
    assert "Centauruscluste" not in {c.name for c in registry_clusters()}
    assert resolve_cluster("Centaurus", online=False).z == 0.011


def test_every_registry_name_and_alias_resolves_to_its_own_entry():
    table = Table.read(REGISTRY_PATH, format="ascii.ecsv")
    for row, aliases in zip(table, registry_aliases(table), strict=True):
        for label in [row["name"], *aliases]:
            assert lookup(label).name == row["name"], label
    assert lookup("--") is None  # not the text of an empty (masked) alias field


def test_registry_entries_are_valid_and_unique():
    clusters = registry_clusters()
    assert len(clusters) > 300
    assert len({c.name for c in clusters}) == len(clusters)


def test_unknown_name_offline_suggests_close_names_and_coordinates():
    with pytest.raises(InputError) as err:
        resolve_cluster("Comma", online=False)
    message = str(err.value)
    assert "'Coma'" in message and "--ra" in message and "--z" in message


def test_unknown_name_falls_back_to_ned(monkeypatch):
    from astroquery.ipac.ned import Ned

    # a NED-like answer for Abell 3627 (Norma), which the registry lacks
    answer = Table({"Object Name": ["ABELL 3627"], "RA": [243.8925], "DEC": [-60.9117],
                    "Redshift": [0.0163]})
    monkeypatch.setattr(Ned, "query_object", lambda name: answer)
    assert lookup("A3627") is None
    cluster = resolve_cluster("A3627")
    assert (cluster.name, cluster.ra, cluster.dec, cluster.z) == ("ABELL 3627", 243.8925,
                                                                  -60.9117, 0.0163)
    assert cluster.source == "NED object query"


def test_ned_failure_becomes_a_clear_error(monkeypatch):
    import requests
    from astroquery.ipac.ned import Ned

    def dropped(name):
        raise requests.ConnectionError("('Connection aborted.', RemoteDisconnected())")

    waits = []
    monkeypatch.setattr(Ned, "query_object", dropped)
    monkeypatch.setattr("time.sleep", waits.append)
    with pytest.raises(ServiceError, match="NED could not be reached after 4 tries.*"
                       "Did you mean 'Coma'.*--ra"):
        resolve_cluster("Comma")
    assert waits == [2.0, 4.0, 8.0]  # retried with backoff (surveymass.fetch.network)


def test_unknown_name_offline_fails_at_the_first_try(monkeypatch):
    """Offline (no name server), NED's real client fails in the DNS lookup: one try, no
    waits, instead of 4 tries and 14 s of backoff."""
    from astroquery.ipac.ned import Ned

    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    calls, waits = [], []
    real_query = Ned.query_object
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(Ned, "query_object", lambda name: calls.append(name) or real_query(name))
    monkeypatch.setattr("time.sleep", waits.append)
    with pytest.raises(ServiceError, match="after 1 try; the network or its name server is "
                       "unreachable, so it was not retried.*Failed to resolve.*Did you mean"):
        resolve_cluster("Centaurus cluster x")
    assert calls == ["Centaurus cluster x"] and waits == []


def test_a_name_ned_does_not_know_is_an_input_error(monkeypatch):
    from astroquery.exceptions import RemoteServiceError
    from astroquery.ipac.ned import Ned

    calls = []

    def unknown(name):
        calls.append(name)
        raise RemoteServiceError("The remote service returned the following error message.\n"
                                 "ERROR: No object found")

    monkeypatch.setattr(Ned, "query_object", unknown)
    with pytest.raises(InputError, match="NED: could not resolve it.*No object found.*"
                       "Did you mean 'Coma'"):
        resolve_cluster("Comma")
    assert calls == ["Comma"]  # not retried


def test_cluster_from_options_one_rule_for_every_command():
    assert cluster_from_options(None, None, None, None) is None
    given = cluster_from_options("mine", "194.95", "27.98", 0.0231)
    assert (given.name, given.ra, given.z, given.source) == ("mine", 194.95, 0.0231,
                                                             "user coordinates")
    coma = cluster_from_options("coma", None, None, None)
    override = cluster_from_options("coma", None, None, 0.03)
    assert (override.ra, override.dec, override.z) == (coma.ra, coma.dec, 0.03)
    assert override.source.endswith("z from --z")
    with pytest.raises(InputError, match="--ra, --dec and --z go together"):
        cluster_from_options(None, "194.95", "27.98", None)
    with pytest.raises(InputError, match="--z alone"):
        cluster_from_options(None, None, None, 0.03)
    with pytest.raises(InputError, match="redshift 5.0 must be > 0 and <= 2"):
        cluster_from_options("coma", None, None, 5.0)


def test_coordinates_in_degrees_and_sexagesimal():
    assert cluster_from_coordinates("194.95", "27.98", "0.0231").ra == 194.95
    sexa = cluster_from_coordinates("12:59:48", "+27:58:48", 0.0231)
    assert sexa.ra == pytest.approx(194.95, abs=1e-9)
    assert sexa.dec == pytest.approx(27.98, abs=1e-9)
    assert cluster_from_coordinates(-10, 5, 0.1).ra == 350.0  # wrapped into [0, 360)


@pytest.mark.parametrize("ra, dec, z, fragment", [
    ("abc", "10", "0.1", "RA 'abc' is not an angle"),
    ("10", "95", "0.1", "Dec 95.0 is not within"),
    ("400", "10", "0.1", "RA 400.0 is outside 0 <= RA < 360"),
    ("-200", "10", "0.1", "RA -200.0 is outside"),
    ("360", "10", "0.1", "RA 360.0 is outside"),
    ("10", "10", "0", "redshift 0.0 must be > 0"),
    ("10", "10", "-0.02", "must be > 0"),
    ("10", "10", "3", "redshift 3.0 must be > 0 and <= 2"),
    ("10", "10", "nan", "redshift nan"),
    ("10", "10", "z", "redshift 'z' is not a number"),
])
def test_bad_coordinates_are_rejected(ra, dec, z, fragment):
    with pytest.raises(InputError, match=fragment.replace("(", r"\(")):
        cluster_from_coordinates(ra, dec, z)


def test_cluster_rejects_non_numbers():
    with pytest.raises(InputError, match="RA"):
        Cluster("x", None, 0.0, 0.1)
