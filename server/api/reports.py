"""(filled in by the clients/aging work)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["reports"])
