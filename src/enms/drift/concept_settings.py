"""The parameters of the residual detection path, shared by both of its channels.

:mod:`enms.drift.concept` (residuals inside the reference's driver support) and
:mod:`enms.drift.outside_support` (residuals outside it) prepare, aggregate, whiten and
decide with these; the module docstrings say how each value was chosen.
"""

from __future__ import annotations

import pandas as pd

CLIP = 4.0
MIN_SHARE = 0.75
PERIOD = "h"
PERIOD_LENGTH = pd.Timedelta(hours=1)
Z_CLIP = 3.0
DAY_CLIP = 4.5
MIN_HOURS_PER_DAY = 6
K = 1.0
H_MEAN = 6.0
H_VARIANCE = 6.0
MIN_REFERENCE_PERIODS = 168
MIN_CURRENT_DAYS = 2
CHANGE_POINT_LOOKBACK_DAYS = 7  # usable days before the CUSUM's excursion start searched
SUPPORT_MARGIN = 0.02
SUPPORT_TAIL = 0.005

# Outside the support (enms.drift.outside_support): the matched trailing reference.
OUTSIDE_WINDOW_DAYS = 28  # trailing days whose outside-support hours are the neighbours
OUTSIDE_GAP_DAYS = 2  # days left out between them and the judged day
OUTSIDE_NEIGHBOURS = 24  # hours in each local linear fit
OUTSIDE_MAX_DISTANCE = 0.5  # farthest neighbour, in reference σ of the matched drivers
