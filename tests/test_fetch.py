"""`surveymass fetch` offline: SkyServer and NED replayed from recorded responses."""

from __future__ import annotations

import errno
import math
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
import requests
from astropy.cosmology import Planck15
from astropy.io import fits
from astropy.table import MaskedColumn, Table

from surveymass.catalog import read_catalog
from surveymass.cli import main
from surveymass.errors import InputError, ServiceError, SurveymassError
from surveymass.fetch import FieldQuery, fetch_field, parse_sources
from surveymass.fetch.cache import CacheWarning, cache_dir
from surveymass.fetch.merge import merge_sources
from surveymass.fetch.ned import ned_to_catalog
from surveymass.fetch.network import with_retries
from surveymass.fetch.sdss import sdss_sql, sdss_to_catalog
from surveymass.phasespace import los_velocity
from surveymass.registry import resolve_cluster

RECORDED = Path(__file__).parent / "data" / "recorded"
COMA = resolve_cluster("coma", online=False)


def ned_response(path: Path) -> Table:
    """A NED text response as the table astroquery's Ned.query_region returns (VOTable
    columns: floats with units, blanks masked, names as in the text header)."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("No.\t"))
    table = Table.read(lines[start:], format="ascii.tab")
    for name, unit in [("RA(deg)", "deg"), ("DEC(deg)", "deg"), ("Velocity", "km/s"),
                       ("Redshift", None), ("Distance (arcmin)", "arcmin")]:
        text = np.char.strip(np.asarray(table[name], dtype=str))
        blank = text == ""
        values = np.where(blank, "nan", text).astype(float)
        table[name] = MaskedColumn(values, mask=blank, unit=unit)
    for name in ("Type", "Redshift Flag", "Magnitude and Filter"):
        table[name] = np.char.strip(np.asarray(table[name], dtype=str)).astype(object)
    return table


class Replay:
    """Stands in for the services: SkyServer answers with the recorded CSV (through
    astroquery's own parser), NED with the recorded table cut to the query radius."""

    def __init__(self, failures: int = 0, error: Exception | None = None):
        self.sdss_params: list[dict] = []
        self.ned_radii: list[float] = []
        self.failures = failures
        self.error = error or requests.ConnectionError("connection reset by peer")

    def _maybe_fail(self):
        if self.failures:
            self.failures -= 1
            raise self.error

    def sdss_request(self, method, url, params=None, timeout=None, cache=None, **kwargs):
        self._maybe_fail()
        self.sdss_params.append(params)
        text = (RECORDED / "skyserver_coma_30arcmin.csv").read_text()
        return type("Response", (), {"text": text, "content": text.encode()})()

    def ned_query_region(self, coordinates, radius):
        self._maybe_fail()
        self.ned_radii.append(radius.to_value(u.arcmin))
        table = ned_response(RECORDED / "ned_coma_30arcmin.txt")
        return table[table["Distance (arcmin)"] < radius.to_value(u.arcmin)]


@pytest.fixture
def replay(monkeypatch):
    from astroquery.ipac.ned import Ned
    from astroquery.sdss import SDSS

    fake = Replay()
    monkeypatch.setattr(SDSS, "_request", fake.sdss_request)
    monkeypatch.setattr(Ned, "query_region", fake.ned_query_region)
    monkeypatch.setattr("time.sleep", lambda s: None)
    return fake


def quiet_fetch(query: FieldQuery, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fetch_field(query, quiet=True, **kwargs)


# --- the query ------------------------------------------------------------------------------

def test_cone_angle_from_the_comoving_radius():
    d_m = Planck15.comoving_transverse_distance(0.0231).to_value(u.Mpc) * Planck15.h
    expected = math.degrees(math.atan(4.0 / d_m))  # ~3.4 deg at Coma
    assert FieldQuery(COMA).angular_radius_deg(Planck15) == pytest.approx(expected, rel=1e-12)
    assert 3.2 < expected < 3.5


def test_redshift_window_is_the_velocity_window():
    z_min, z_max = FieldQuery(COMA, vwindow=4000).z_range()
    assert los_velocity(z_min, COMA.z) == pytest.approx(-4000)
    assert los_velocity(z_max, COMA.z) == pytest.approx(4000)


def test_sql_selects_good_galaxy_spectra_in_the_cone():
    sql = sdss_sql(194.95, 27.98, 201.5, 0.0094, 0.0368)
    assert "dbo.fGetNearbyObjEq(194.950000, 27.980000, 201.5000)" in sql
    assert "s.z BETWEEN 0.009400 AND 0.036800" in sql
    for clause in ("s.class = 'GALAXY'", "s.zWarning = 0", "s.sciencePrimary = 1",
                   "p.petroMag_r", "p.extinction_r", "s.zErr"):
        assert clause in sql


@pytest.mark.parametrize("kwargs, fragment", [
    ({"radius": -1}, "radius -1"), ({"radius": float("nan")}, "radius nan"),
    ({"vwindow": 0}, "velocity window 0"), ({"data_release": 5}, "data release 5"),
    ({"sources": "sdss,2mass"}, "unknown source"),
])
def test_bad_query_options(kwargs, fragment):
    with pytest.raises(InputError, match=fragment):
        FieldQuery(COMA, **kwargs)


def test_sources_parsing():
    assert parse_sources("both") == ("sdss", "ned")
    assert parse_sources("NED") == ("ned",)
    assert parse_sources(["ned", "sdss"]) == ("sdss", "ned")


# --- mapping the services' answers -------------------------------------------------------------

def test_skyserver_columns_are_mapped():
    # two rows in SkyServer's csv layout; the extinction values are illustrative
    from astroquery.sdss import SDSS

    text = ("#Table1\nobjid,specobjid,ra,dec,z,zErr,zWarning,class,petroMag_r,modelMag_r,"
            "extinction_r\n1237667322723827776,2478092587785660416,194.94,27.97,0.0231,1.1e-05,"
            "0,GALAXY,14.20,14.15,0.020\n1237667322723827777,2478092587785660417,194.96,27.99,"
            "0.0240,9e-06,4,GALAXY,16.00,15.90,0.021\n")
    raw = SDSS._parse_result(type("R", (), {"text": text})())
    table = sdss_to_catalog(raw)
    assert len(table) == 1  # the zWarning = 4 row is not a good spectrum
    row = table[0]
    assert row["mag_r"] == pytest.approx(14.18) and row["z_err"] == 1.1e-05
    assert row["objid"] == "1237667322723827776" and row["source"] == "sdss"


def test_ned_keeps_spectroscopic_galaxy_redshifts_only():
    raw = ned_response(RECORDED / "ned_coma_30arcmin.txt")
    table = ned_to_catalog(raw)
    # counted in the text file with awk: 575 objects, 564 of Type G, 550 of them not PHOT
    assert len(raw) == 575 and len(table) == 550
    assert set(table["source"]) == {"ned"} and np.isnan(table["mag_r"]).all()
    assert "IC 3998" in set(table["objid"])


def test_ned_full_response_and_both_column_spellings(shared_data):
    raw = ned_response(shared_data / "real" / "coma" / "ned_coma_cz2000-12000_500arcmin.txt")
    table = ned_to_catalog(raw)
    # shared/data/README.md: 3807 objects, 3756 of type G; 183 rows flagged PHOT (awk count)
    assert len(raw) == 3807 and len(table) == 3576
    raw.rename_columns(["RA(deg)", "DEC(deg)"], ["RA", "DEC"])  # NED's newer column names
    assert np.array_equal(ned_to_catalog(raw)["ra"], table["ra"])


def test_merge_prefers_sdss_and_drops_ned_counterparts():
    from surveymass.catalog import read_catalog as read
    sdss, _ = read(RECORDED / "skyserver_coma_30arcmin.csv", source="sdss")
    ned = ned_to_catalog(ned_response(RECORDED / "ned_coma_30arcmin.txt"))
    merged, n_matched = merge_sources(sdss, ned)
    # independent count: NED galaxies with an SDSS row within 3 arcsec (haversine)
    ra1, dec1 = np.radians(ned["ra"])[:, None], np.radians(ned["dec"])[:, None]
    ra2, dec2 = np.radians(sdss["ra"])[None, :], np.radians(sdss["dec"])[None, :]
    hav = (np.sin((dec2 - dec1) / 2) ** 2
           + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2)
    sep_arcsec = np.degrees(2 * np.arcsin(np.sqrt(hav))) * 3600
    expected = int((sep_arcsec.min(axis=1) < 3).sum())
    assert n_matched == expected and 300 < expected < 550
    assert len(merged) == len(sdss) + len(ned) - expected
    assert list(merged["source"]).count("sdss") == len(sdss)


# --- the whole fetch, replayed ----------------------------------------------------------------

def test_fetch_coma_from_both_services(replay):
    result = quiet_fetch(FieldQuery(COMA))
    sql = replay.sdss_params[0]["cmd"]
    radius = 60 * FieldQuery(COMA).angular_radius_deg(Planck15)
    z_min, z_max = FieldQuery(COMA).z_range()
    assert f"{radius:.4f})" in sql and f"BETWEEN {z_min:.6f} AND {z_max:.6f}" in sql
    assert replay.ned_radii == [pytest.approx(radius)]
    table, h = result.table, result.header
    assert h["N_SDSS"] + h["N_NED"] == len(table) and h["N_SDSS"] > 300 and h["N_NED"] > 20
    assert set(table["source"]) == {"sdss", "ned"}
    assert np.all(np.abs(los_velocity(table["z"], COMA.z)) < 4000)
    assert h["DR"] == 17 and h["SOURCES"] == "sdss,ned" and h["RADIUS"] == 4.0


def test_footprint_coverage_goes_into_the_header(replay, monkeypatch):
    import surveymass.fetch as fetch_module  # fetch calls aperture_coverage by this name

    calls = []

    def coverage(ra, dec, z, r_max, cosmology, footprint=None):
        calls.append((ra, dec, z, r_max))
        return 0.8

    monkeypatch.setattr(fetch_module, "aperture_coverage", coverage)
    with pytest.warns(UserWarning, match="only 80% of the 4.0 h\\^-1 Mpc aperture"):
        result = fetch_field(FieldQuery(COMA, sources="sdss"), quiet=True)
    assert result.header["FOOTCOV"] == 0.8 and calls == [(194.95, 27.98, 0.0231, 4.0)]


def test_missing_footprint_map_is_a_warning(replay, monkeypatch):
    import surveymass.fetch as fetch_module  # fetch calls aperture_coverage by this name

    def no_map(*args, **kwargs):
        raise InputError("the footprint map of survey 'sdss_legacy' is missing")

    monkeypatch.setattr(fetch_module, "aperture_coverage", no_map)
    with pytest.warns(UserWarning, match="coverage not computed.*missing"):
        result = fetch_field(FieldQuery(COMA, sources="sdss"), quiet=True)
    assert "FOOTCOV" not in result.header and len(result.table) > 300


def test_cache_is_used_and_a_damaged_file_is_refetched(replay):
    query = FieldQuery(COMA, sources="sdss")
    first = quiet_fetch(query)
    again = quiet_fetch(query)
    assert len(replay.sdss_params) == 1  # the second answer came from the cache
    assert np.array_equal(first.table["z"], again.table["z"])
    (cached,) = cache_dir().glob("sdss_*.ecsv")
    cached.write_text("# %ECSV 1.0\n# ---\n# datatype: [oops\nra dec\n1 2\n")
    with pytest.warns(CacheWarning, match="damaged"):
        third = fetch_field(query, quiet=True)
    assert len(replay.sdss_params) == 2
    assert np.array_equal(third.table["z"], first.table["z"])
    Table.read(cached, format="ascii.ecsv")  # rewritten whole
    quiet_fetch(query, use_cache=False)
    assert len(replay.sdss_params) == 3


def _truncate_at_a_line(path, keep: float = 0.5) -> None:
    """Cut a file after the line nearest ``keep`` of its length, as a crash would."""
    text = path.read_text()
    path.write_text(text[:text.index("\n", int(len(text) * keep)) + 1])


def test_a_truncated_cache_file_is_refetched_online(replay):
    query = FieldQuery(COMA, sources="sdss")
    first = quiet_fetch(query)
    (cached,) = cache_dir().glob("sdss_*.ecsv")
    _truncate_at_a_line(cached)
    # still a well-formed table, of about half the rows: used as complete before
    assert 0 < len(Table.read(cached, format="ascii.ecsv")) < len(Table.read(
        RECORDED / "skyserver_coma_30arcmin.csv", format="ascii.csv", comment="#"))
    with pytest.warns(CacheWarning, match=r"damaged: it holds \d+ rows .* where \d+ rows"):
        again = fetch_field(query, quiet=True)
    assert len(replay.sdss_params) == 2
    assert len(again.table) == len(first.table)
    assert np.array_equal(again.table["objid"], first.table["objid"])
    quiet_fetch(query)  # repaired: the cache answers again
    assert len(replay.sdss_params) == 2


def test_a_truncated_cache_file_is_refused_offline(replay):
    query = FieldQuery(COMA, sources="sdss")
    quiet_fetch(query)
    (cached,) = cache_dir().glob("sdss_*.ecsv")
    _truncate_at_a_line(cached)
    replay.failures = 99  # the service is unreachable now
    with pytest.raises(ServiceError, match=r"damaged: it holds \d+ rows.*truncated.*fetching "
                       r"it again failed.*could not be reached.*never used"):
        quiet_fetch(query)


def test_a_changed_cache_file_of_the_same_length_is_refetched(replay):
    query = FieldQuery(COMA, sources="sdss")
    quiet_fetch(query)
    (cached,) = cache_dir().glob("sdss_*.ecsv")
    text = cached.read_text()
    last = text.rstrip("\n").rsplit("\n", 1)[1]
    cached.write_text(text.replace(last, last.replace("0.02", "0.03", 1)))
    with pytest.warns(CacheWarning, match="SHA-256 differs"):
        fetch_field(query, quiet=True)
    assert len(replay.sdss_params) == 2


def test_transient_failures_are_retried_with_backoff():
    waits, calls = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise requests.ConnectionError("connection reset")
        return "answer"

    assert with_retries(flaky, "SDSS SkyServer", sleep=waits.append) == "answer"
    assert waits == [2.0, 4.0]


def test_services_down_give_a_clear_error():
    waits = []

    def down():
        raise requests.Timeout("read timed out")

    with pytest.raises(ServiceError, match="could not be reached after 4 tries.*local"):
        with_retries(down, "NED", sleep=waits.append)
    assert waits == [2.0, 4.0, 8.0]


def test_an_unreachable_network_is_not_retried():
    calls = []

    def offline():  # what requests raises on a machine with no route to the internet
        calls.append(1)
        try:
            raise OSError(errno.ENETUNREACH, "Network is unreachable")
        except OSError as exc:
            raise requests.ConnectionError("Max retries exceeded") from exc

    with pytest.raises(ServiceError, match="after 1 try; the network or its name server"):
        with_retries(offline, "SDSS SkyServer", sleep=lambda s: pytest.fail("it waited"))
    assert calls == [1]


def test_the_advice_in_service_errors_can_be_replaced():
    def down():
        raise requests.Timeout("read timed out")

    with pytest.raises(ServiceError) as err:
        with_retries(down, "VizieR", tries=2, sleep=lambda s: None, hint="Use the cache.")
    assert str(err.value).endswith("(last error: Timeout: read timed out). Use the cache.")
    assert "local catalogue" not in str(err.value)


def test_connection_errors_are_summarised():
    from surveymass.fetch.network import describe

    exc = requests.ConnectionError(
        "HTTPSConnectionPool(host='skyserver.sdss.org', port=443): Max retries exceeded with "
        "url: /dr17/en/tools/search/x_results.aspx?cmd=SELECT... (Caused by NameResolutionError"
        "(\"HTTPSConnection(host='skyserver.sdss.org', port=443): Failed to resolve "
        "'skyserver.sdss.org' ([Errno -2] Name or service not known)\"))")
    assert describe(exc) == ("ConnectionError: Failed to resolve 'skyserver.sdss.org' "
                             "([Errno -2] Name or service not known)")


def test_service_errors_are_not_retried():
    from astroquery.exceptions import RemoteServiceError

    waits = []

    def broken():
        raise RemoteServiceError("error_message: syntax error")

    with pytest.raises(ServiceError, match="answered with an error"):
        with_retries(broken, "SDSS SkyServer", sleep=waits.append)
    assert waits == []


def test_fetch_recovers_from_transient_failures(replay):
    replay.failures = 2
    result = quiet_fetch(FieldQuery(COMA, sources="sdss"))
    assert len(result.table) > 300


def test_empty_result_is_a_clear_error(replay):
    far = FieldQuery(resolve_cluster("A2670", online=False), radius=0.5, sources="sdss")
    with pytest.raises(SurveymassError, match="no galaxy .* A2670"):
        quiet_fetch(far)


# --- the command line -------------------------------------------------------------------------

def test_cli_fetch_writes_the_catalogue(replay, tmp_path, capsys):
    out = tmp_path / "coma.fits"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["fetch", "coma", "-o", str(out), "-q"]) == 0
    assert "Coma:" in capsys.readouterr().out
    table, cluster = read_catalog(out)
    assert cluster.name == "Coma" and len(table) > 300
    with fits.open(out) as hdul:
        header = hdul["GALAXIES"].header
        for key in ("CL_NAME", "CL_RA", "CL_DEC", "CL_Z", "RADIUS", "VWINDOW", "DR", "SOURCES",
                    "QTIME", "N_SDSS", "N_NED", "N_GAL", "FOOTCOV", "SMVERS", "PROVENAN"):
            assert key in header


def test_cli_prints_warnings_without_tracebacks(replay, tmp_path, capsys, monkeypatch):
    import surveymass.fetch as fetch_module  # fetch calls aperture_coverage by this name

    monkeypatch.setattr(fetch_module, "aperture_coverage", lambda *args, **kwargs: 0.8)
    assert main(["fetch", "coma", "--sources", "sdss", "-o", str(tmp_path / "c.fits"),
                 "-q"]) == 0
    err = capsys.readouterr().err
    assert "warning: only 80% of the 4.0 h^-1 Mpc aperture" in err
    assert "warning: dropped" not in err  # the recorded rows all have redshifts
    assert "Traceback" not in err and "UserWarning" not in err


def test_cone_too_wide_for_the_services():
    with pytest.raises(InputError, match="cone of 20.4 deg.*smaller --radius"):
        fetch_field(FieldQuery(resolve_cluster("virgo", online=False)), quiet=True)


def test_cli_refuses_to_overwrite(replay, tmp_path, capsys):
    out = tmp_path / "coma.fits"
    out.write_bytes(b"precious")
    assert main(["fetch", "coma", "-o", str(out), "-q"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"precious" and replay.sdss_params == []


@pytest.mark.parametrize("args, fragment", [
    (["--ra", "194.95", "--dec", "27.98"], "go together"),
    (["--ra", "12h99", "--dec", "27.98", "--z", "0.02"], "not an angle"),
    (["--ra", "194.95", "--dec", "27.98", "--z", "0"], "must be > 0"),
    (["--ra", "194.95", "--dec", "27.98", "--z", "5"], "<= 2"),
    (["coma", "--sources", "vizier"], "unknown source"),
    ([], "give a cluster name"),
])
def test_cli_bad_input(args, fragment, capsys, tmp_path):
    assert main(["fetch", *args, "-o", str(tmp_path / "x.fits")]) == 2
    assert fragment in capsys.readouterr().err


def test_cli_unknown_name_offline(monkeypatch, capsys, tmp_path):
    from astroquery.ipac.ned import Ned

    def offline(name):
        raise requests.ConnectionError("no network")

    monkeypatch.setattr(Ned, "query_object", offline)
    monkeypatch.setattr("time.sleep", lambda s: None)  # NED is retried with backoff
    assert main(["fetch", "abell 16566", "-o", str(tmp_path / "x.fits")]) == 2
    err = capsys.readouterr().err
    assert "unknown cluster" in err and "could not be reached" in err and "--ra" in err


def test_cli_help_documents_every_option(capsys):
    assert main(["fetch", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--ra", "--dec", "--z", "--radius", "--vwindow", "--sources", "--dr",
                   "--output", "--overwrite", "--no-cache", "--quiet"):
        assert option in text


@pytest.mark.live
def test_live_fetch_coma(tmp_path):
    result = fetch_field(FieldQuery(COMA, radius=1.0), use_cache=False, quiet=True)
    assert result.header["N_SDSS"] > 200 and result.header["N_NED"] > 0
    assert abs(np.median(los_velocity(result.table["z"], COMA.z))) < 500
    result.write(tmp_path / "coma.fits")
