"""Names of downloaded files, which may hold data (a client code from an imported ledger)."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote

_UNSAFE_FILENAME: Final = re.compile(r"[^A-Za-z0-9._-]+")


def attachment(filename: str, fallback: str = "download") -> str:
    """A `Content-Disposition` for a download whose name may hold data (a client code from an
    imported file): the ASCII name keeps only `A-Z a-z 0-9 . _ -` and never starts with a dot,
    and `filename*` percent-encodes every other character of the name without its control
    characters and slashes, so no quote, CR/LF, NUL or path reaches the header or the disk."""
    shown = "".join(ch for ch in filename if ch.isprintable() and ch not in "/\\")
    ascii_name = _UNSAFE_FILENAME.sub("_", shown.encode("ascii", "ignore").decode()).lstrip(".")
    return (
        f'attachment; filename="{ascii_name or fallback}"; '
        f"filename*=UTF-8''{quote(shown or fallback, safe='')}"
    )
