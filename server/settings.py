"""Server configuration: environment variables with the RECAUDO_ prefix (pydantic-settings)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.aging import DEFAULT_EDGES, validate_edges
from shared.commissions import load_rules

# Used only when no key is configured; a production server refuses to start with it.
DEV_SIGNING_KEY = "recaudo-dev-signing-key-change-me-0123456789abcdef"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECAUDO_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str = ""  # empty: SQLite file in data_dir
    timezone: str = "America/Bogota"
    currency: str = "COP"
    locale: str = "es_CO"
    aging_edges: tuple[int, ...] = DEFAULT_EDGES

    signing_key: str = DEV_SIGNING_KEY
    access_token_minutes: int = 12 * 60
    login_max_failures: int = 5
    login_window_seconds: int = 15 * 60

    max_import_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)

    # Map tiles of the supervisor's pages, a {z}/{x}/{y} template (the company's own tile server
    # where it has one); empty for none: markers and lines draw without tiles.
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

    # Paz y salvo certificates: who issues them (the PDF's header) and the public address printed
    # for verification (empty: the address the request came to).
    company_name: str = "Recaudo"
    company_tax_id: str = ""
    public_url: str = ""

    # Cobro jurídico suggestion: clients whose oldest overdue invoice is at least this many days
    # past due and who broke at least this many promises (within the lookback) are suggested.
    legal_min_days_past_due: int = Field(default=180, ge=1)
    legal_min_broken_promises: int = Field(default=2, ge=0)
    legal_promise_lookback_days: int = Field(default=365, ge=1)

    # Commission rules (TOML, the format of shared/rules/commissions.toml); None: the shipped
    # file. Env RECAUDO_COMMISSION_RULES. Read when a statement is made, so a changed file (with
    # a new `version`) applies without a restart; a malformed one stops the server at start.
    commission_rules_path: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("RECAUDO_COMMISSION_RULES", "commission_rules_path"),
    )

    @field_validator("aging_edges")
    @classmethod
    def _edges(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return validate_edges(value)

    @field_validator("commission_rules_path")
    @classmethod
    def _commission_rules(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                load_rules(value)
            except OSError as exc:
                raise ValueError(f"cannot read the commission rules {value}: {exc}") from exc
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone: {value}") from exc
        return value

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'recaudo.db').resolve()}"

    def check_production_ready(self) -> None:
        """A production server must not sign tokens with the published development key."""
        if self.environment == "production" and (
            self.signing_key == DEV_SIGNING_KEY or len(self.signing_key) < 32
        ):
            raise RuntimeError(
                "RECAUDO_SIGNING_KEY must be a secret of at least 32 characters in production"
            )
