"""Where the phone is. The app asks for the best fix within a few seconds and never blocks on
it: indoors or with GPS off a visit is still recorded, without coordinates."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

from shared.geo import Fix, Point

GOOD_ENOUGH_M = 20.0


class LocationSource(Protocol):
    async def best_fix(self, seconds: float) -> Fix | None: ...


class NoLocation:
    """No GPS (tests, or a browser without the permission)."""

    async def best_fix(self, seconds: float) -> Fix | None:
        return None


class FixedLocation:
    """A fake that answers the same reading (tests)."""

    def __init__(self, fix: Fix | None) -> None:
        self.fix = fix

    async def best_fix(self, seconds: float) -> Fix | None:
        return self.fix


class GeolocatorSource:
    """flet-geolocator (web: the browser's Geolocation API; Android: the fused provider). Keeps
    the most accurate reading seen until one is good enough or the time is up."""

    def __init__(self, geolocator: Any) -> None:
        self._geo = geolocator

    async def best_fix(self, seconds: float) -> Fix | None:
        best: Fix | None = None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                remaining = max(deadline - time.monotonic(), 0.1)
                pos = await asyncio.wait_for(self._geo.get_current_position(), remaining)
                fix = Fix(Point(float(pos.latitude), float(pos.longitude)), float(pos.accuracy))
            except Exception:
                # Denied, unsupported, no reading in time or a platform error: keep what we
                # have; a missing fix must never stop a visit.
                break
            if best is None or fix.accuracy_m < best.accuracy_m:
                best = fix
            if best.accuracy_m <= GOOD_ENOUGH_M:
                break
            await asyncio.sleep(0.5)
        return best
