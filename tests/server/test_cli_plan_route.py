"""`recaudo plan-route FILE.json`: the plan as JSON on stdout, errors on stderr with exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from server.cli import app

FILE: dict[str, Any] = {
    "start": {"lat": 4.60, "lon": -74.08},
    "start_time": "2026-11-23T08:00:00-05:00",
    "end_time": "2026-11-23T17:00:00-05:00",
    "speed_kmh": 36,
    "detour_factor": 1.0,
    "service_minutes": 15,
    "stops": [
        {"id": "C-00017", "lat": 4.62, "lon": -74.08, "priority": 3,
         "window": ["09:00", "12:00"], "service_minutes": 20},
        {"id": "C-00018", "lat": 4.61, "lon": -74.08},
        {"id": "C-00019", "lat": 4.61, "lon": -74.08, "window": ["19:30", "20:00"]},
    ],
}  # fmt: skip


def run(tmp_path: Path, content: str) -> Result:
    path = tmp_path / "plan.json"
    path.write_text(content, encoding="utf-8")
    return CliRunner().invoke(app, ["plan-route", str(path)])


def test_prints_the_plan_of_api_md(tmp_path: Path) -> None:
    result = run(tmp_path, json.dumps(FILE))
    assert result.exit_code == 0, result.stderr
    # C-00018 is 1111.95 m north (112 s at 10 m/s); 15 minutes there, then 112 s more to
    # C-00017, whose window opens at 09:00.
    assert json.loads(result.stdout) == {
        "order": ["C-00018", "C-00017"],
        "skipped": [{"id": "C-00019", "reason": "outside_legal_hours"}],
        "distance_m": 2224,
        "arrivals": {
            "C-00018": "2026-11-23T08:01:52-05:00",
            "C-00017": "2026-11-23T09:00:00-05:00",
        },
    }
    assert result.stderr == ""


def test_no_stops_is_an_empty_plan(tmp_path: Path) -> None:
    result = run(tmp_path, json.dumps({**FILE, "stops": []}))
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "order": [],
        "skipped": [],
        "distance_m": 0,
        "arrivals": {},
    }


def test_bad_content_exits_2_with_the_code_on_stderr(tmp_path: Path) -> None:
    stops = FILE["stops"]
    cases = {
        "duplicate_stop_id": {**FILE, "stops": [stops[0], stops[0]]},
        "invalid_coordinates": {**FILE, "stops": [{**stops[1], "lat": 91}]},
        "window_ends_before_start": {**FILE, "stops": [{**stops[0], "window": ["12:00", "09:00"]}]},
        "invalid_window": {**FILE, "stops": [{**stops[0], "window": ["9am", "12:00"]}]},
        "missing_field": {k: v for k, v in FILE.items() if k != "start_time"},
        "naive_datetime": {**FILE, "start_time": "2026-11-23T08:00:00"},
        "invalid_speed_kmh": {**FILE, "speed_kmh": -3},
        "invalid_field": {**FILE, "colour": "red"},
        "unknown_country": {**FILE, "country": "XX"},
    }
    for code, content in cases.items():
        result = run(tmp_path, json.dumps(content))
        assert result.exit_code == 2, (code, result.stdout)
        assert result.stdout == ""
        assert f"({code})" in result.stderr, (code, result.stderr)


def test_unreadable_or_not_json_exits_2(tmp_path: Path) -> None:
    assert "(invalid_json)" in run(tmp_path, "{not json").stderr
    missing = CliRunner().invoke(app, ["plan-route", str(tmp_path / "none.json")])
    assert missing.exit_code == 2 and "(unreadable_file)" in missing.stderr
