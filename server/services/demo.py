"""Seeding the reference scenario (domain.md) into an empty database, through the same user and
import use cases an administrator and an analyst use."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.services.ledger_import.service import ImportOptions, import_records
from server.services.ledger_import.summary import ImportSummary
from server.services.users import create_user
from shared.scenario import Scenario


@dataclass(frozen=True)
class DemoSeed:
    scenario: Scenario
    summary: ImportSummary


def seed_demo(session: Session, scenario: Scenario) -> DemoSeed:
    """Create the scenario's people, then import its ledger rows. The caller commits."""
    for person in scenario.people:
        create_user(
            session,
            username=person.username,
            role=person.role,
            password=person.password,
            full_name=person.full_name,
        )
    session.flush()
    summary = import_records(
        session,
        scenario.rows,
        ImportOptions(
            filename="cartera-demo.csv",
            sha256="",
            as_of=scenario.as_of,
            imported_by="demo",
        ),
    )
    if summary.rejected:
        raise RuntimeError(f"the reference scenario did not import: {summary.errors[:3]}")
    return DemoSeed(scenario, summary)
