"""(filled in by the clients work)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["clients"])
