"""Linear algebra of the baseline's fit: time-of-week partialling-out and balance-point search.

Pure numpy. The baseline regresses energy on time-of-week levels (group dummies), drivers
and heating/cooling change-point columns. By Frisch–Waugh–Lovell the dummies are removed by
subtracting group means, which is a rank-``G`` correction of one Gram matrix; the drivers are
then partialled out of that Gram matrix with one small solve, and every change-point
candidate (or pair) is scored from 1×1 and 2×2 blocks of it. No candidate needs its own
regression; only the chosen model gets standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import sparse, stats

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def group_sums(groups: IntArray, n_groups: int, values: FloatArray) -> FloatArray:
    """Column sums per group (a sparse one-hot product).

    >>> group_sums(np.array([0, 1, 0]), 2, np.array([[1.0], [2.0], [3.0]])).ravel().tolist()
    [4.0, 2.0]
    """
    n = len(groups)
    onehot = sparse.csr_matrix((np.ones(n), (groups, np.arange(n))), shape=(n_groups, n))
    return np.asarray(onehot @ values, dtype=np.float64)


def within_gram(
    x: FloatArray, groups: IntArray, counts: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Column means, centred group sums and the Gram matrix of group-demeaned ``x``.

    ``gram = Xc'Xc − Σ_g n_g·m_g·m_g'`` equals ``(X − group means)'(X − group means)``;
    centring first keeps the subtraction well conditioned.

    >>> x = np.array([[1.0], [3.0], [2.0], [6.0]])
    >>> _, _, g = within_gram(x, np.array([0, 0, 1, 1]), np.array([2.0, 2.0]))
    >>> g.tolist()
    [[10.0]]
    """
    means = x.mean(axis=0)
    xc = x - means
    sums = group_sums(groups, len(counts), xc)
    gram = xc.T @ xc - sums.T @ (sums / np.maximum(counts, 1.0)[:, None])
    return means, sums, gram


def balance_point_grid(temp: FloatArray, step: float, min_rows: int) -> FloatArray:
    """Candidate balance points: multiples of ``step`` inside the observed temperatures.

    Every candidate leaves at least ``min_rows`` readings on *each* side (between the
    ``min_rows``-th lowest and highest temperature), so each kink has data to bend on; the
    larger share required on the active side of a term is enforced by :func:`hinge_columns`.

    >>> balance_point_grid(np.linspace(0.0, 20.0, 101), 5.0, 10).tolist()
    [5.0, 10.0, 15.0]
    """
    ordered = np.sort(temp)
    k = min(max(min_rows, 1), (ordered.size - 1) // 2)
    lo, hi = float(ordered[k]), float(ordered[-1 - k])
    return np.arange(math.ceil(lo / step) * step, math.floor(hi / step) * step + 1e-9, step)


def hinge_gram(
    x: FloatArray,
    temp: FloatArray,
    grid: FloatArray,
    min_active: int,
    groups: IntArray,
    counts: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Within-Gram of ``[x, heating hinges, cooling hinges]``, computed at half the cost.

    Heating columns are ``max(0, b − T)`` and cooling columns ``max(0, T − b)`` per grid
    point. Since ``max(0, T − b) = max(0, b − T) + T − b`` and constants vanish when
    demeaned within time-of-week groups, the cooling columns are linear in the heating
    columns and ``T``: the Gram of ``w = [x, heating, T]`` is computed and mapped by the
    returned ``transform`` (demeaned full columns = demeaned ``w`` @ ``transform``). A
    column with fewer than ``min_active`` non-zero rows is zeroed in the map, which makes
    it ineligible in :func:`select_balance_points`. Returns ``(gram, w, transform)``.

    >>> t = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    >>> x = np.column_stack([t ** 2])
    >>> g, _, _ = hinge_gram(x, t, np.array([2.0, 3.0]), 1, np.zeros(6, dtype=np.int64),
    ...                      np.array([6.0]))
    >>> full = np.column_stack([x, np.maximum(0, [2.0, 3.0] - t[:, None]),
    ...                         np.maximum(0, t[:, None] - [2.0, 3.0])])
    >>> bool(np.allclose(g, within_gram(full, np.zeros(6, dtype=np.int64), np.array([6.0]))[2]))
    True
    """
    k, m, n = x.shape[1], grid.size, temp.size
    w = np.hstack([x, np.maximum(0.0, grid[None, :] - temp[:, None]), temp[:, None]])
    _, _, gram_w = within_gram(w, groups, counts)
    transform = np.zeros((k + m + 1, k + 2 * m))
    transform[:k, :k] = np.eye(k)
    transform[k : k + m, k : k + m] = np.eye(m)
    transform[k : k + m, k + m :] = np.eye(m)
    transform[k + m, k + m :] = 1.0
    ordered = np.sort(temp)
    below = np.searchsorted(ordered, grid, side="left")
    above = n - np.searchsorted(ordered, grid, side="right")
    active = np.concatenate([below >= min_active, above >= min_active])
    transform[:, k:][:, ~active] = 0.0
    return transform.T @ gram_w @ transform, w, transform


def _interior(j: int, m: int) -> bool:
    """True when grid index ``j`` is not the first or last point of an ``m``-point grid."""
    return 0 < j < m - 1


def select_balance_points(
    gram: FloatArray,
    d_idx: list[int],
    z0: int,
    grid: FloatArray,
    dof0: int,
    max_pvalue: float,
    allow: tuple[bool, bool] = (True, True),
) -> tuple[int | None, int | None]:
    """Pick heating/cooling grid indices by adjusted R² (lowest SSR/dof) from a within-Gram.

    ``gram`` has the target at index 0, drivers at ``d_idx`` and the ``2·len(grid)`` hinge
    columns from ``z0``; ``dof0`` is ``n`` minus the number of time-of-week levels.
    Model forms: none, heating only, cooling only, both with heating balance ≤ cooling
    balance. For each form the balance point(s) minimising the SSR among eligible,
    positive slopes are found; the form is kept only when they are *interior* to the grid
    (a minimum on the grid's first or last point means the kink is not identified — the
    term would act as a plain linear trend, which is how a level shift in summer passes
    for cooling) and every slope is significant at ``max_pvalue``. A minimum at the limit
    of the share rule (a heating point with just 10 % of readings below it) is admitted:
    that limit is CalTRACK's constraint, not a missing kink. Among eligible forms the
    lowest SSR/dof wins (the adjusted-R² rule), so a term is kept only when it improves
    adjusted R².
    ``allow`` = (heating, cooling) restricts the forms to the allowed terms.
    Returns grid indices (``None`` for an absent term).
    """
    m = grid.size
    if m == 0:
        return None, None
    zi = np.arange(z0, z0 + 2 * m)
    a_zz, a_zy, a_yy = gram[np.ix_(zi, zi)], gram[zi, 0], float(gram[0, 0])
    if d_idx:
        di = np.asarray(d_idx, dtype=np.intp)
        a_dz, a_dy = gram[np.ix_(di, zi)], gram[di, 0]
        sol = np.linalg.solve(gram[np.ix_(di, di)], np.column_stack([a_dy, a_dz]))
        a_yy -= float(a_dy @ sol[:, 0])
        a_zy = a_zy - a_dz.T @ sol[:, 0]
        a_zz = a_zz - a_dz.T @ sol[:, 1:]
    dof = dof0 - len(d_idx)
    t_crit = float(stats.t.ppf(1.0 - max_pvalue / 2.0, max(dof - 2, 1)))
    diag = np.diag(a_zz).copy()
    valid = diag > 1e-9 * max(float(diag.max()), 1e-300)
    safe = np.where(valid, diag, 1.0)
    best: tuple[float, int | None, int | None] = (a_yy / dof, None, None)
    slope = a_zy / safe
    ssr1 = a_yy - a_zy * slope
    t1 = slope / np.sqrt(np.maximum(ssr1, 1e-300) / (dof - 1) / safe)
    for lo, term, allowed in ((0, "heating", allow[0]), (m, "cooling", allow[1])):
        if not allowed:
            continue
        sl = slice(lo, lo + m)
        cand = valid[sl] & (slope[sl] > 0)
        if not cand.any():
            continue
        j = int(np.argmin(np.where(cand, ssr1[sl], np.inf)))
        score = float(ssr1[lo + j]) / (dof - 1)
        if _interior(j, m) and t1[lo + j] > t_crit and score < best[0]:
            best = (score, j, None) if term == "heating" else (score, None, j)
    hh, cc = np.meshgrid(np.arange(m), np.arange(m, 2 * m), indexing="ij")
    a, d, b = safe[hh], safe[cc], a_zz[hh, cc]
    u, v = a_zy[hh], a_zy[cc]
    det = a * d - b * b
    ok = valid[hh] & valid[cc] & (grid[:, None] <= grid[None, :]) & (det > 1e-9 * a * d)
    det = np.where(ok, det, 1.0)
    beta_h, beta_c = (d * u - b * v) / det, (a * v - b * u) / det
    ssr2 = a_yy - (beta_h * u + beta_c * v)
    ok &= (beta_h > 0) & (beta_c > 0)
    if allow[0] and allow[1] and ok.any():
        bi, bj = np.unravel_index(int(np.argmin(np.where(ok, ssr2, np.inf))), ssr2.shape)
        s2 = max(float(ssr2[bi, bj]), 1e-300) / (dof - 2)
        t_h = beta_h[bi, bj] / math.sqrt(s2 * d[bi, bj] / det[bi, bj])
        t_c = beta_c[bi, bj] / math.sqrt(s2 * a[bi, bj] / det[bi, bj])
        interior = _interior(int(bi), m) and _interior(int(bj), m)
        if interior and min(t_h, t_c) > t_crit and s2 < best[0]:
            best = (s2, int(bi), int(bj))
    return best[1], best[2]
