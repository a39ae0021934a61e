"""A synthetic 2019 the size of the report's: the registrations, measurements and volunteers
of bench/disclosure_figures.py, plus 2019's referrals to and from the chain partners.

Used by tests/reports/test_reports.py and bench/report_png.py.
"""

from __future__ import annotations

import random
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import disclosure_figures
from tests import databases

REASONS = ["no-capacity", "not-eligible", "resident-declined", "could-not-reach", "other"]
# status, its share, and whether it needs a reason
OUTCOMES = [
    ("completed", 45, False),
    ("accepted", 15, False),
    ("sent", 8, False),
    ("declined", 14, True),
    ("withdrawn", 8, True),
    ("no_show", 10, True),
]


def load(db: databases.TestDatabase, referrals: int = 260) -> None:
    disclosure_figures.load(db)
    from api.referrals.models import Referral

    rng = random.Random(2020)
    with db.engine.begin() as conn:
        rooms = [i for (i,) in conn.execute(sa.text("SELECT id FROM room ORDER BY id"))]
        partners = [i for (i,) in conn.execute(sa.text("SELECT id FROM partner ORDER BY id"))]
        weights = [max(6 - i, 1) for i in range(len(partners))]  # the first partners busiest
        rows = []
        for _ in range(referrals):
            created = datetime(2019, 1, 7, 9, tzinfo=UTC) + timedelta(
                days=rng.randint(0, 350), hours=rng.randint(0, 8)
            )
            status, _, needs_reason = rng.choices(OUTCOMES, [o[1] for o in OUTCOMES])[0]
            accepted = (
                created + timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 23))
                if status in ("accepted", "completed", "no_show")
                else None
            )
            closed = (
                (accepted or created) + timedelta(days=rng.randint(3, 60))
                if status not in ("sent", "accepted")
                else None
            )
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "room_id": rng.choice(rooms),
                    "partner_id": rng.choices(partners, weights)[0],
                    "direction": rng.choices(["outgoing", "incoming"], [4, 1])[0],
                    "reason": "hulpvraag",
                    "created_by": uuid.uuid4(),
                    "status": status,
                    "outcome_reason": rng.choice(REASONS) if needs_reason else None,
                    "created_at": created,
                    "status_changed_at": closed or accepted or created,
                    "accepted_at": accepted,
                    "closed_at": closed,
                }
            )
        conn.execute(Referral.__table__.insert(), rows)  # type: ignore[attr-defined]
