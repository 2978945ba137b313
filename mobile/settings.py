"""Phone configuration: environment variables with the RECAUDO_MOBILE_ prefix (pydantic-settings).

Only what the device layers need; identity (device id, code, token, server URL) lives in the
phone's database (`sync_state`), because it is data the server handed out, not configuration.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.calendar import DEFAULT_TIMEZONE, business_tz

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


class MobileSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECAUDO_MOBILE_", extra="ignore")

    data_dir: Path = Path("data")
    timezone: str = DEFAULT_TIMEZONE
    app_version: str = "0.1.0"
    ack_retention_days: int = Field(default=30, ge=1)
    push_chunk_events: int = Field(default=200, ge=1, le=200)
    request_deadline_s: float = Field(default=20.0, gt=0)  # each sync request, whole
    tile_url: str = OSM_TILES  # map tiles, a {z}/{x}/{y} template; empty: no tiles
    # Background sync while the app is open (mobile.services.background.SyncSchedule).
    sync_interval_s: float = Field(default=300.0, gt=0)  # when all is sent
    sync_debounce_s: float = Field(default=3.0, ge=0)  # after a recorded event
    sync_backoff_base_s: float = Field(default=2.0, gt=0)  # offline: full jitter from here...
    sync_backoff_cap_s: float = Field(default=300.0, gt=0)  # ...doubling up to this
    # Route planning (mobile.state.route): where a plan starts without a GPS fix, when the
    # working day ends (local time), minutes per visit.
    route_start_lat: float = Field(default=4.6486, ge=-90, le=90)
    route_start_lon: float = Field(default=-74.0628, ge=-180, le=180)
    day_end: time = time(18, 0)
    visit_minutes: float = Field(default=15.0, ge=0, le=240)
    route_effort: float = Field(default=0.1, gt=0, le=1)  # of the planner's full search

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        business_tz(value)  # raises invalid_timezone for an unknown name
        return value

    @property
    def database_path(self) -> Path:
        return self.data_dir / "recaudo-phone.db"
