"""Which logged points belong to which arm of a test, in memory and in the log.

A point gets its arm either from the predict endpoint (the version that served it wrote it
with its arm) or from here: for a test-window timestamp where no point of A or B carries an
arm yet, the slot-assigned arm (:func:`enms.experiments.arms.arms_for`) is the arm, and
:func:`tag_window` writes it on that arm's point (UPDATE by ids, short batches; run by
``ab_test_evaluate``). :func:`arm_frames` computes the same assignment in memory for the
points not tagged yet, so reading results never writes.

Forecasters count day-ahead points only (lead 0–24 h, the newest origin per target);
baselines and detectors every scored reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import select, update

from enms.core.db import SessionFactory, session_scope
from enms.experiments.arms import A, B, arms_for
from enms.experiments.models import ABTest
from enms.predictions.models import PredictionPoint

DAY_AHEAD = pd.Timedelta(days=1)
TAG_BATCH = 1000


@dataclass(frozen=True)
class ArmFrames:
    """Scored points (one per timestamp: ``actual``, ``predicted``) of the test window."""

    #: A's points at the timestamps of arm A; B's at the timestamps of arm B.
    arm_a: pd.DataFrame
    arm_b: pd.DataFrame
    #: A's and B's points on the timestamps both scored (the paired comparison).
    paired_a: pd.DataFrame
    paired_b: pd.DataFrame


def scored(points: pd.DataFrame, model_type: str) -> pd.DataFrame:
    """The points with an actual and a prediction, one per target timestamp (forecasters:
    the newest day-ahead origin, lead 0–24 h)."""
    ok = points["actual"].notna() & points["predicted"].notna()
    if model_type.startswith("forecast_"):
        lead = pd.Series(points.index, index=points.index) - points["origin"]
        ok &= (lead >= pd.Timedelta(0)) & (lead <= DAY_AHEAD)
    kept = points[ok]
    return kept[~kept.index.duplicated(keep="last")]


def effective_arms(test: ABTest, index: pd.DatetimeIndex, tagged: pd.Series) -> pd.Series:
    """The arm of every timestamp of ``index``: the arm some point of A or B carries there,
    else the slot-assigned one."""
    assigned = pd.Series(
        arms_for(test.id, index, test.traffic_split, slot_minutes=test.slot_minutes),
        index=index,
        dtype=object,
    )
    if len(tagged):
        known = tagged[tagged.index.isin(index)]
        known = known[~known.index.duplicated(keep="last")]
        assigned.loc[known.index] = known.to_numpy()
    return assigned


def _tags(*frames: pd.DataFrame) -> pd.Series:
    parts = [f["arm"][f["arm"].notna()] for f in frames if len(f)]
    if not parts:
        return pd.Series([], dtype=object, index=pd.DatetimeIndex([], tz="UTC"))
    joined: pd.Series = pd.concat(parts)
    return joined


def arm_frames(test: ABTest, points_a: pd.DataFrame, points_b: pd.DataFrame) -> ArmFrames:
    """Split the window's logged points of A and B (:func:`points_frame` frames) into the
    two arms and the paired sample."""
    tags = _tags(points_a, points_b)
    a, b = scored(points_a, test.model_type), scored(points_b, test.model_type)
    arms_a = effective_arms(test, pd.DatetimeIndex(a.index), tags)
    arms_b = effective_arms(test, pd.DatetimeIndex(b.index), tags)
    common = a.index.intersection(b.index)
    return ArmFrames(
        arm_a=a[(arms_a == A).to_numpy()],
        arm_b=b[(arms_b == B).to_numpy()],
        paired_a=a.loc[common],
        paired_b=b.loc[common],
    )


def tag_window(factory: SessionFactory, test: ABTest, start: datetime, end: datetime) -> int:
    """Write the slot-assigned arm on the points of ``[start, end)`` whose timestamp no point
    of A or B has an arm for yet (the assigned arm's version's points at that timestamp);
    returns how many points were tagged. Reads once, writes in short batches by id."""
    with session_scope(factory) as session:
        rows = session.execute(
            select(PredictionPoint.id, PredictionPoint.model_id, PredictionPoint.ts)
            .where(
                PredictionPoint.model_id.in_((test.model_a_id, test.model_b_id)),
                PredictionPoint.ts >= start,
                PredictionPoint.ts < end,
                PredictionPoint.arm.is_(None),
            )
            .order_by(PredictionPoint.id)
        ).all()
        armed = session.execute(
            select(PredictionPoint.ts)
            .where(
                PredictionPoint.model_id.in_((test.model_a_id, test.model_b_id)),
                PredictionPoint.ts >= start,
                PredictionPoint.ts < end,
                PredictionPoint.arm.is_not(None),
            )
            .distinct()
        ).all()
    if not rows:
        return 0
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    models = np.array([r[1] for r in rows], dtype=np.int64)
    stamps = pd.DatetimeIndex(pd.to_datetime([r[2] for r in rows], utc=True))
    taken = pd.DatetimeIndex(pd.to_datetime([r[0] for r in armed], utc=True))
    arms = arms_for(test.id, stamps, test.traffic_split, slot_minutes=test.slot_minutes)
    owner = np.where(arms == A, test.model_a_id, test.model_b_id)
    mine = (models == owner) & ~stamps.isin(taken)
    tagged = 0
    for arm in (A, B):
        chosen = ids[mine & (arms == arm)].tolist()
        for start_at in range(0, len(chosen), TAG_BATCH):
            batch = chosen[start_at : start_at + TAG_BATCH]
            with session_scope(factory, write=True) as session:
                session.execute(
                    update(PredictionPoint)
                    .where(PredictionPoint.id.in_(batch), PredictionPoint.arm.is_(None))
                    .values(arm=arm)
                    .execution_options(synchronize_session=False)
                )
            tagged += len(batch)
    return tagged
