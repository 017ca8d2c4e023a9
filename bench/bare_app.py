"""The peer for bench/sandbox_throughput.py: a bare Starlette handler that answers 201 with a small JSON body."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def create(request: Request) -> JSONResponse:
    await request.body()  # read the upload, as any handler must; no parsing, no state
    return JSONResponse({"id": "fax_0123456789abcdef01234567", "status": "queued"}, status_code=201)


app = Starlette(routes=[Route("/v1/fax", create, methods=["POST"]), Route("/labels", create, methods=["POST"])])
