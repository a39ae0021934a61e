"""/reports/accountability: the district's account as one printable Dutch HTML document.

No PDF: the well-kept HTML-to-PDF renderers (WeasyPrint) need system libraries (Pango) that
pip does not install; the browser's print (A4 stylesheet) is the PDF.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.base import utcnow
from api.deps import Connection, Overseers, referral_overdue_days
from api.params import Quarter, Year
from api.reports import service

router = APIRouter(tags=["indicators"])

# the roles every figure of the document is open to (performance, referrals, outcomes, money)

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@router.get(
    "/reports/accountability",
    response_class=HTMLResponse,
    summary="The district's account for a year or quarter: a printable Dutch HTML document",
    description="Performance against the agreements, unique visitors, referrals per partner, "
    "outcomes and the money (§3.1.3), with charts as inline SVG; no script, no external "
    "file. The same figures, roles and disclosure control as the JSON answers. Print it "
    "(A4) for a PDF.",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
async def accountability(
    request: Request,
    conn: Connection,
    principal: Overseers,
    year: Year,
    quarter: Quarter = None,
) -> HTMLResponse:
    context = await service.accountability(
        conn,
        principal,
        year,
        quarter,
        referral_overdue_days(request),
        utcnow(),
    )
    html = _templates.get_template("accountability.html").render(**context)
    return HTMLResponse(html, headers={"Cache-Control": "private, no-store"})
