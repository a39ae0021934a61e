"""The ceiling for bench/throughput.py: FastAPI with one async endpoint and nothing else.

No middleware, no database, no logging of our own: what uvicorn + FastAPI can do at best
on this machine, so the service's figures can be read as a share of it.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "up"}
