"""People's quality figures, for the other slices (the people's-figures report):
reviews per handler of the complaints closed in a period and their mean score (the
score that stands after any contest)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, func, select

from kesu.quality.scorecard import round_half_up
from kesu.store import tables as t

R = t.quality_reviews.c


def person_scores(conn: Connection, start: datetime, end: datetime) -> dict[str, dict]:
    """username → {"reviews": n, "mean_score": float | None} for the reviews of complaints
    closed in [start, end) (aware datetimes), by the handler they score. People without
    a review in the period are absent; mean_score is rounded half up to one decimal."""
    rows = conn.execute(
        select(R.handler, func.count(), func.avg(R.final_score))
        .where(R.closed_at >= start, R.closed_at < end)
        .group_by(R.handler)
    ).all()
    return {
        handler: {
            "reviews": int(n),
            "mean_score": None if mean is None else round_half_up(Decimal(str(mean))),
        }
        for handler, n, mean in rows
    }
