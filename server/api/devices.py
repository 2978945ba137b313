"""(filled in by the devices work)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["devices"])
