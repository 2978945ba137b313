"""Where the phone's database lives: the app's private data directory on a device
(`FLET_APP_STORAGE_DATA`, set by Flet's packaged apps and `flet run`), else the configured
`RECAUDO_MOBILE_DATA_DIR` (web mode, development, tests)."""

from __future__ import annotations

import os
from pathlib import Path

from mobile.settings import MobileSettings


def data_dir(settings: MobileSettings) -> Path:
    explicit = "RECAUDO_MOBILE_DATA_DIR" in os.environ
    device = os.environ.get("FLET_APP_STORAGE_DATA")
    if device and not explicit:
        return Path(device)
    return settings.data_dir
