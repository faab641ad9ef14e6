"""Customer location from IP against MaxMind's test databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from db.models import ChatSession
from sessionlens import geo
from tests.conftest import TESTDATA


@pytest.mark.parametrize(
    "ip, country, city",
    [
        ("81.2.69.142", "GB", "London"),
        ("89.160.20.112", "SE", "Linköping"),
        ("216.160.83.56", "US", "Milton"),
        ("2001:480:10::1", "US", "San Diego"),
    ],
)
def test_city_database_places_known_addresses(test_locator, ip, country, city):
    loc = test_locator.locate(ip)
    assert (loc.country, loc.city, loc.note) == (country, city, None)


@pytest.mark.parametrize(
    "ip, reason",
    [
        ("10.0.0.7", "Private or reserved address"),
        ("192.168.1.1", "Private or reserved address"),
        ("127.0.0.1", "Loopback address"),
        ("::1", "Loopback address"),
        ("999.1.1.1", "Not a valid IP address"),
        ("hello", "Not a valid IP address"),
        ("8.8.8.8", "not found in the location database"),
        (None, "No IP address"),
        ("", "No IP address"),
    ],
)
def test_unplaceable_addresses_give_a_reason_not_an_error(test_locator, ip, reason):
    loc = test_locator.locate(ip)
    assert loc.country is None and reason in loc.note


def test_country_database_gives_country_without_city():
    loc = geo.Locator(TESTDATA / "GeoLite2-Country-Test.mmdb").locate("81.2.69.142")
    assert loc.country == "GB" and loc.city is None


def test_missing_database_is_a_reason_on_every_address(tmp_path):
    loc = geo.Locator(tmp_path / "nope.mmdb")
    assert loc.info is None
    assert loc.locate("81.2.69.142").note == "No location database configured"


def test_database_info_reports_type_and_build_date(test_locator):
    assert test_locator.info.database_type == "GeoIP2-City"
    assert test_locator.info.build_date.year >= 2015 and test_locator.info.credit is None


def test_bundled_database_is_dbip_with_its_credit():
    from sessionlens.settings import Settings

    loc = geo.Locator(Settings().geoip_path)
    assert (
        loc.info.database_type.startswith("DBIP") and loc.info.credit == "IP Geolocation by DB-IP"
    )
    assert loc.locate("81.2.69.142").country == "GB"


def test_refresh_re_resolves_stored_sessions(db, test_locator):
    sid = db.scalar(select(ChatSession.id).where(ChatSession.ip.is_not(None)).limit(1))
    db.execute(
        update(ChatSession)
        .where(ChatSession.id == sid)
        .values(ip="89.160.20.112", country=None, city=None, geo_note="stale")
    )
    assert geo.refresh(db, test_locator) >= 1
    cs = db.get(ChatSession, sid)
    db.refresh(cs)
    assert (cs.country, cs.city, cs.geo_note) == ("SE", "Linköping", None)
