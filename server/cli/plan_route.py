"""`recaudo plan-route FILE.json`: plan a day route (api.md, "Route plan file").

Prints the plan as JSON on stdout. Exit codes: 0 planned (an empty plan with every stop skipped
is still a plan); 2 the file cannot be read, is not JSON, or its content is invalid (the message
and the error's stable code go to stderr). No database is touched.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from shared.errors import DomainError
from shared.routing import parse_plan_request, plan_route, plan_to_json


def _fail(message: str, code: str) -> typer.Exit:
    sys.stderr.write(f"error: {message} ({code})\n")
    return typer.Exit(2)


def register(app: typer.Typer) -> None:
    @app.command("plan-route")
    def plan_route_command(
        file: Annotated[Path, typer.Argument(help="The route plan file (JSON, api.md)")],
    ) -> None:
        """Plan a collector's day route for the stops in FILE and print the plan as JSON."""
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise _fail(f"cannot read {file}: {exc.strerror or exc}", "unreadable_file") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _fail(f"{file} is not JSON: {exc}", "invalid_json") from exc
        try:
            plan = plan_route(parse_plan_request(data))
        except DomainError as exc:
            raise _fail(exc.message, exc.code) from exc
        sys.stdout.write(json.dumps(plan_to_json(plan), ensure_ascii=False, indent=2) + "\n")
