"""Every error class: a service raises one, `api/problems.py` answers it as
application/problem+json (RFC 9457). No web framework here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlalchemy import Table

PROBLEM_JSON = "application/problem+json"


def problem_type(slug: str) -> str:
    return f"urn:bwk:problem:{slug}"


class AppError(Exception):
    """A failure a client can understand; services raise subclasses of this."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        # rows written even though the request is refused (see `kept` and api/db.py)
        self.keep: list[tuple[Table, list[dict[str, Any]]]] = []


E = TypeVar("E", bound=AppError)


def kept(err: E, writes: list[tuple[Table, list[dict[str, Any]]]]) -> E:
    """Mark rows that must be written although `err` refuses the request and its transaction
    is rolled back: a miss that counts towards a throttle, the audit event of a refusal."""
    err.keep.extend(writes)
    return err


class InvalidInput(AppError):
    status, slug, title = 400, "invalid-input", "Invalid input"

    def __init__(self, invalid: Sequence[tuple[str, str]], detail: str | None = None) -> None:
        params = [{"name": name, "reason": reason} for name, reason in invalid]
        super().__init__(
            detail or "; ".join(f"{n}: {r}" for n, r in invalid),
            extra={"invalidParams": params},
        )


class Unauthenticated(AppError):
    status, slug, title = 401, "unauthenticated", "Authentication required"

    def __init__(self, detail: str = "A valid access token is required.", **kw: Any) -> None:
        headers = {"WWW-Authenticate": 'Bearer realm="bwk"', **kw.pop("headers", {})}
        super().__init__(detail, headers=headers, **kw)


class Forbidden(AppError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(AppError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(AppError):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(AppError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PreconditionRequired(AppError):
    status, slug, title = 428, "precondition-required", "Precondition required"


class Unprocessable(AppError):
    status, slug, title = 422, "unprocessable", "Unprocessable request"


class CodeTypo(AppError):
    """A resident code whose check character does not match: a typo, told apart from an
    unknown code without asking the database."""

    status, slug, title = 422, "resident-code-typo", "Mistyped resident code"

    def __init__(self, name: str = "residentCode") -> None:
        super().__init__(
            "Check the code: a character is mistyped.",
            extra={"invalidParams": [{"name": name, "reason": "a character is mistyped"}]},
        )


class UnknownCodes(AppError):
    status, slug, title = 422, "unknown-resident-codes", "Unknown resident codes"


class TooManyRequests(AppError):
    status, slug, title = 429, "too-many-requests", "Too many requests"


class Unavailable(AppError):
    status, slug, title = 503, "unavailable", "Service unavailable"
