"""The collector's preferences that are not data (the UI language), in a small JSON file beside
the phone's database, so they survive closing the app."""

from __future__ import annotations

import json
import os
from pathlib import Path

from mobile.state.i18n import LANGS, Lang

FILE = "preferences.json"


def load_lang(folder: Path, default: Lang = "es") -> Lang:
    try:
        value = json.loads((folder / FILE).read_text(encoding="utf-8")).get("lang")
    except (OSError, ValueError, AttributeError):
        return default
    return next((lang for lang in LANGS if lang == value), default)


def save_lang(folder: Path, lang: Lang) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (FILE + ".tmp")
    tmp.write_text(json.dumps({"lang": lang}), encoding="utf-8")
    os.replace(tmp, folder / FILE)
