"""The JSON API (FastAPI). Every route calls a service function; errors are JSON 4xx."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from typing import Optional

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import BadInput, PapersiftError
from ..index.query import Filters
from ..serialize import feed_page_json, hit_json, search_json
from ..service import Papersift

log = logging.getLogger("papersift.api")
MAX_QUERY_LENGTH = 2000


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class BackgroundIndexer:
    """Catches the indexes up with the store while the server runs (new papers, embeddings)."""

    def __init__(self, service: Papersift, interval: float = 5.0):
        self.service, self.interval = service, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="papersift-indexer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                indexes = self.service.indexes
                indexes.sync_lexical()
                busy = indexes.sync_vectors(limit=256) > 0 or indexes.pending_vectors() > 0
            except Exception:  # keep serving; the next round retries
                log.exception("background indexing failed")
                busy = False
            if not busy:
                self._stop.wait(self.interval)


def create_app(service: Papersift, background: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        indexer = BackgroundIndexer(service) if background else None
        if indexer:
            indexer.start()
        yield
        if indexer:
            indexer.stop()

    app = FastAPI(title="papersift", version="0.1.0", lifespan=lifespan,
                  description="Search, feeds and similar papers. Errors: {\"error\": {\"code\", \"message\"}}.",
                  docs_url="/api/docs", redoc_url=None, openapi_url="/openapi.json")

    @app.exception_handler(PapersiftError)
    async def _papersift_error(request: Request, exc: PapersiftError):
        return _error(exc.http_status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
        return _error(400, "bad_input", f"{where}: {first.get('msg', 'invalid value')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        return _error(exc.status_code, code, str(exc.detail))

    @app.get("/api/health")
    def health():
        return {"status": "ok", "papers": service.store.count_papers()}

    @app.get("/api/search")
    def search(
        q: str = Query(..., description='Query: words, "phrase", -exclude, author:NAME, cat:cs.LG, org:NAME'),
        mode: str = "hybrid", sort: str = "relevance",
        date_from: Optional[str] = Query(None, alias="from"), date_to: Optional[str] = Query(None, alias="to"),
        cat: list[str] = Query(default_factory=list), org: Optional[str] = None,
        has_code: Optional[bool] = None, page: int = 1, per_page: int = 10,
    ):
        if len(q) > MAX_QUERY_LENGTH:
            raise BadInput(f"query too long ({len(q)} characters, at most {MAX_QUERY_LENGTH})")
        filters = Filters(date_from=date_from, date_to=date_to, categories=cat, organization=org, has_code=has_code)
        return search_json(service.search(q, filters, mode=mode, sort=sort, page=page, per_page=per_page))

    @app.get("/api/papers/{paper_id:path}/similar")
    def similar(paper_id: str, k: int = 10):
        return {"id": paper_id, "results": [hit_json(h) for h in service.similar(paper_id, k=k)]}

    @app.get("/api/papers/{paper_id:path}")
    def paper(paper_id: str):
        return service.paper(paper_id).to_dict()

    @app.get("/api/daily_papers")
    def daily_papers(
        date: Optional[str] = None, week: Optional[str] = None, month: Optional[str] = None,
        sort: str = "trending", p: int = Query(0, description="Page, counted from 0 as on Hugging Face."),
        limit: int = 50,
    ):
        if p < 0:
            raise BadInput("p must be 0 or more")
        return feed_page_json(service.daily(date, week, month, sort=sort, page=p + 1, limit=limit))

    return app
