"""(filled in by the auth work)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["auth"])
