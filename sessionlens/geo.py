"""Customer location from IP, resolved once when a session is written and stored on it.

Reads any MaxMind-format database (GeoIP2/GeoLite2 City or Country, DB-IP City Lite) with geoip2.
The list and the Country filter read the stored columns; nothing here runs per table row.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geoip2.database
import geoip2.errors
import geoip2.models
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.engine import rowcount
from db.models import ChatSession


@dataclass(frozen=True)
class Location:
    country: str | None = None  # ISO 3166-1 alpha-2
    country_name: str | None = None
    city: str | None = None
    note: str | None = None  # why there is no location, shown on hover

    def columns(self) -> dict[str, str | None]:
        """The session's columns this location fills (a new session, a later IP, a refresh)."""
        return {
            "country": self.country,
            "country_name": self.country_name,
            "city": self.city,
            "geo_note": self.note,
        }


@dataclass(frozen=True)
class DatabaseInfo:
    path: str
    database_type: str
    build_date: dt.date
    credit: str | None  # attribution its licence requires, if any


class Locator:
    """Resolves IP addresses against one database file; thread-safe for reads."""

    def __init__(self, path: Path | str | None):
        self._reader: geoip2.database.Reader | None = None
        self.info: DatabaseInfo | None = None
        if path and Path(path).is_file():
            self._reader = geoip2.database.Reader(str(path))
            meta = self._reader.metadata()
            db_type = meta.database_type
            credit = "IP Geolocation by DB-IP" if db_type.startswith("DBIP") else None
            self.info = DatabaseInfo(
                str(path),
                db_type,
                dt.datetime.fromtimestamp(meta.build_epoch, dt.UTC).date(),
                credit,
            )
        self._has_city = bool(self.info and "City" in self.info.database_type)

    def locate(self, ip: str | None) -> Location:
        if not ip:
            return Location(note="No IP address")
        try:
            addr = ipaddress.ip_address(ip.strip())
        except ValueError:
            return Location(note=f"Not a valid IP address: {ip!r}")
        if addr.is_loopback:
            return Location(note="Loopback address: no location")
        if addr.is_private or addr.is_link_local or addr.is_reserved or addr.is_multicast:
            return Location(note="Private or reserved address: no location")
        if self._reader is None:
            return Location(note="No location database configured")
        try:
            rec: geoip2.models.Country  # a City record is a Country record with a city
            if self._has_city:
                rec = self._reader.city(str(addr))
                city = rec.city.name
            else:
                rec = self._reader.country(str(addr))
                city = None
        except geoip2.errors.AddressNotFoundError:
            return Location(note="Address not found in the location database")
        except (ValueError, TypeError) as exc:
            return Location(note=f"Location lookup failed: {exc}")
        code = rec.country.iso_code
        if not code:
            return Location(note="Address has no country in the location database")
        return Location(code, rec.country.name, city, None)


@lru_cache(maxsize=4)
def get_locator(path: str | None) -> Locator:
    return Locator(path)


def refresh(db: Session, locator: Locator, *, progress: Callable[[int], None] | None = None) -> int:
    """Re-resolve the stored location of every session after the database changed.

    An operator's maintenance command, across tenants. Works per distinct IP, so a million sessions
    with a few hundred thousand addresses cost one lookup each. Returns the sessions updated.
    """
    ips = db.scalars(select(ChatSession.ip).where(ChatSession.ip.is_not(None)).distinct()).all()
    changed = 0
    for ip in ips:
        loc = locator.locate(ip)
        res = db.execute(update(ChatSession).where(ChatSession.ip == ip).values(**loc.columns()))
        changed += rowcount(res)
        if progress:
            progress(1)
    return changed
