"""(filled in by the serve work)"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
