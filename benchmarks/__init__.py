"""Benchmarks (`python -m benchmarks`, `make bench`): each module has a `main()` that measures one
thing next to a reference measured in the same run, and writes its own section of
docs/benchmarks.md with `write_section`. They measure; they assert nothing (tests do that)."""

from __future__ import annotations

import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
_TITLE = (
    "# Benchmarks\n\nWritten by `python -m benchmarks` (`make bench`); "
    "each section by its own bench.\n"
)


def machine() -> str:
    """One line naming the machine, so figures are read next to where they were measured."""
    return (
        f"{os.cpu_count()} CPUs (nproc), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}"
    )


def write_section(name: str, markdown: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section between this bench's markers, leaving the others alone."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else _TITLE
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
