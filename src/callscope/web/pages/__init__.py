"""The dashboard's pages, one module per page; each builds a `Page` from metric results."""

from fastapi import APIRouter

from callscope.web.pages.callbacks import router as callbacks_router
from callscope.web.pages.calllog import router as calllog_router
from callscope.web.pages.live import router as live_router
from callscope.web.pages.load import router as load_router
from callscope.web.pages.managers import router as managers_router
from callscope.web.pages.overview import router as overview_router
from callscope.web.pages.settings import router as settings_router

router = APIRouter(include_in_schema=False)
for _router in (
    overview_router,
    managers_router,
    calllog_router,
    callbacks_router,
    load_router,
    live_router,
    settings_router,
):
    router.include_router(_router)

__all__ = ["router"]
