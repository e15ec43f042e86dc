"""The kernel's daily interaction step written with whole-array numpy operations.

A benchmark option, not part of the package: :func:`interact_numpy` computes the same day as
:func:`affiliate_sim.kernel.interact` (same inputs, same :class:`Flows` out, same
equations) over ``(R, O, H, W)`` arrays at once instead of cell by cell. It is the old
vectorized kernel (``git show HEAD:src/affiliate_sim/kernel/step.py``) moved to the new
interface: terrain enters through the per-replicate :class:`CellFields`, parameters are the
packed ``(R, K)`` array, movers weigh danger by ``plan.danger_weight`` and cover by
``plan.cover``.

Measured variants (the engineering issue's options):

* ``dtype=np.float64``: numpy with preallocated buffers and in-place operations. The large
  ``(R, O, H, W)`` intermediates live in named work arrays kept between calls of the same
  shape (:func:`_work`), so that a long run does not map, fault in and unmap fresh pages
  every day; equations are evaluated into them with ``out=`` and augmented assignments.
  Terms that factor into a per-organization and a per-cell part (raid detection, fear of
  the purge) are summed without forming their product, and each flow is the sum over cells
  of a hazard times the competing-risks multiplier ``Z`` (one pass each).
* ``dtype=np.float32``: the same, computed in float32 (every input cast once); the flows
  are returned as float64 like the kernel's.

Results equal the kernel's to rounding (the order of sums differs).
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.kernel.arrays import (
    COLUMN,
    CellFields,
    DayPlan,
    Flows,
    KernelState,
    Noise,
)
from affiliate_sim.mechanisms.movement import SENSE_PASSES, SENSE_SHARE

#: The four neighbour directions as (row offset, column offset): up, down, left, right.
DIRECTIONS: tuple[tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))

#: Hazards are divided by at least this: a hazard of 0 has no leavers (Z = 0 / _TINY = 0),
#: and below it the flows it changes are below ``_TINY`` times the stock.
_TINY = np.finfo(np.float32).tiny

_WORK: dict[tuple[str, str], np.ndarray] = {}

#: Leaders' exposure as it was when the options were written (the kernel's parameter
#: ``leader_exposure`` since; check.py freezes it at this value).
LEADER_EXPOSURE = 0.5


def _work(name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """The work array ``name`` (uninitialized), kept for the next call of the same shape."""
    key = (name, np.dtype(dtype).str)
    a = _WORK.get(key)
    if a is None or a.shape != shape:
        a = _WORK[key] = np.empty(shape, dtype)
    return a


def release_work_arrays() -> None:
    """Free every kept work array (between benchmark sizes)."""
    _WORK.clear()


# ---------------------------------------------------------------------- grid stencils
def _pair(d: tuple[int, int], H: int, W: int):
    """Index tuples ``(here, there)`` over the last two axes such that for every cell of
    ``here`` the same position in ``there`` is its neighbour in direction ``d`` (cells
    whose neighbour is off the grid are left out)."""
    di, dj = d
    here = (Ellipsis, slice(max(-di, 0), H - max(di, 0)), slice(max(-dj, 0), W - max(dj, 0)))
    there = (Ellipsis, slice(max(di, 0), H - max(-di, 0)), slice(max(dj, 0), W - max(-dj, 0)))
    return here, there


def _spread(x: np.ndarray, share, out: np.ndarray) -> np.ndarray:
    """``out = x + share * (x[i-1, j] + x[i+1, j] + x[i, j-1] + x[i, j+1])``, cells off
    the grid counting as zero (``out`` must not be ``x``)."""
    H, W = x.shape[-2:]
    out.fill(0.0)
    for d in DIRECTIONS:
        here, there = _pair(d, H, W)
        out[here] += x[there]
    out *= share
    out += x
    return out


def _edge(d: tuple[int, int], H: int, W: int):
    """Index tuple of the cells whose neighbour in direction ``d`` is off the grid."""
    di, dj = d
    if di:
        return (Ellipsis, 0 if di < 0 else H - 1, slice(None))
    return (Ellipsis, slice(None), 0 if dj < 0 else W - 1)


# ---------------------------------------------------------------------- organization pairs
def _mix(m: np.ndarray, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``out[r, a] = sum_b m[r, a, b] * x[r, b]`` for ``(R, A, B)`` m and ``(R, B, H, W)`` x."""
    R, B, H, W = x.shape
    A = m.shape[1]
    if out is None:
        out = np.empty((R, A, H, W), x.dtype)
    np.matmul(m, x.reshape(R, B, H * W), out=out.reshape(R, A, H * W))
    return out


def _pair_sum(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``out[r, v, k] = sum_c left[r, v, c] * right[r, k, c]`` over the cells c."""
    R, O = left.shape[:2]
    return np.matmul(left.reshape(R, O, -1), right.reshape(R, right.shape[1], -1)
                     .transpose(0, 2, 1))


def _cell_sum(x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """``(R, O)`` sum over the cells of ``x`` (times ``y``, broadcast to x's shape)."""
    if y is None:
        return x.sum(axis=(-2, -1))
    return np.einsum("...ij,...ij->...", x, np.broadcast_to(y, x.shape))


# ---------------------------------------------------------------------- the day
def interact_numpy(state: KernelState, fields: CellFields, plan: DayPlan, params: np.ndarray,
                   noise: Noise, dtype=np.float64) -> Flows:
    """Compute every flow of one day (see :func:`affiliate_sim.kernel.interact`).

    Args:
        state, fields, plan, params, noise: as for the kernel.
        dtype: the floating type computed in (inputs are cast to it once); the flows are
            float64 whatever it is.
    """
    dt = np.dtype(dtype)

    def a(x):  # an input in the computing type
        return np.asarray(x, dtype=dt)

    F = a(state.fighters)
    R, O, H, W = F.shape
    shape = F.shape

    def work(name):
        return _work(name, shape, dt)

    P = a(params)

    def p(name, ndim=4):  # per-replicate parameter, (R, 1, ...) with ndim axes
        return P[:, COLUMN[name]].reshape((R,) + (1,) * (ndim - 1))

    def org(x):  # (R, O) per organization -> (R, O, 1, 1)
        return a(x)[:, :, None, None]

    def cell(x):  # (R, H, W) per replicate and cell -> (R, 1, H, W)
        return a(x)[:, None]

    population, presence, cover = a(state.population), a(state.state_presence), a(state.cover)
    S = np.minimum(a(state.sympathizers), F, out=work("S"))  # latent sympathizers
    Lo = np.subtract(F, S, out=work("Lo"))                    # loyal fighters
    total = _cell_sum(F)                                      # (R, O)
    exists = total > 0

    # ---- 1. effectiveness (combat), reach and pressure of every organization
    sd = p("fortune_sd", 2)
    luck = np.exp(sd * a(noise.fortune) - 0.5 * sd * sd)  # lognormal fortune, mean 1
    boost = 1.0 + (p("offensive_power", 2) - 1.0) * a(plan.offensive)
    eff = a(state.quality) * (0.5 + 0.5 * a(state.cohesion)) * boost * luck
    # eng[k, v]: k's effort against v times its skill at finding v (a conventional
    # attacker hunting a guerrilla finds it conventional_search as well)
    conv = np.asarray(state.conventional, dtype=bool)
    hunting = conv[:, :, None] & ~conv[:, None, :]
    engage = a(plan.engage)
    eng = np.where(hunting, engage * p("conventional_search", 3), engage)
    reach = _spread(F, p("adjacent_reach"), out=work("reach"))  # own cell + neighbours
    press = np.multiply(reach, eff[:, :, None, None], out=work("press"))
    # access[k]: share of would-be defectors who can reach k: reach / (reach + half)
    acc = np.add(reach, p("defection_reach"), out=work("acc"))
    np.divide(reach, acc, out=acc)

    # ---- 2. hazards (1/day) on each organization's fighters in each cell
    # combat: combat_rate * t(c) / (F_v + K_v) * sum_k eng[k, v] * press[k]
    expo = np.multiply(org(state.conceal), cell(fields.conceal_factor), out=work("expo"))
    expo += F
    expo += 1e-12
    np.divide(cell(fields.protection), expo, out=expo)          # t(c) / (F + K)
    h_c = _mix(eng.transpose(0, 2, 1), press, out=work("h_c"))  # incoming pressure
    h_c *= expo
    h_c *= p("combat_rate")
    # raids: raid_rate * presence * raid_shield * visibility[v] * sum_s raid[s, v]; the
    # cell part ``find`` (R, 1, H, W) and the organization part apart
    find = (p("raid_rate", 3) * presence * a(fields.raid_shield))[:, None]
    vis = a(state.visibility)
    raid_in = a(plan.raid).sum(axis=1)  # (R, O) raid intensity on each group
    h_r = np.multiply(find, org(vis * raid_in), out=work("h_r"))
    # purge: fear = max(capacity * effort * scale, 0) * purge_reach(c); per unit of fear a
    # sympathizer is caught (purge_rate), flees (flee_rate) or surrenders to a state
    # (surrender_rate * presence, only with a receiver)
    fear0 = np.maximum(a(state.purge_capacity) * a(plan.purge) * p("purge_capacity_scale", 2),
                       0.0)
    fear = np.multiply(org(fear0), cell(fields.purge_reach), out=work("fear"))
    receiver = np.asarray(plan.surrender_to) >= 0
    pr, fr, sr = p("purge_rate"), p("flee_rate"), p("surrender_rate")
    # defection: sympathizers to the organizations they favour, raised by fear; loyal
    # fighters bandwagoning
    pull_s, pull_l, split = a(plan.pull_sympathizers), a(plan.pull_loyal), a(plan.split)
    dfr, bwr = p("defection_rate"), p("bandwagon_rate")
    fear1 = np.add(fear, 1.0, out=work("fear1"))  # 1 + fear
    desertion, evacuate = a(plan.desertion), a(plan.evacuate)

    # total hazards of the loyal fighters (H_l) and the sympathizers (H_s)
    #   common = h_c + h_r + desertion + evacuate
    #   H_l = common + bandwagon_rate * sum_j pull_l[v, j] * acc[j]
    #   H_s = common + (purge_rate + flee_rate) * fear + surrender_rate * fear * presence
    #         + defection_rate * (1 + fear) * sum_j pull_s[v, j] * acc[j] + sum_j split[v, j]
    common = np.add(h_c, h_r, out=work("common"))
    common += org(desertion + evacuate)
    H_l = _mix(pull_l, acc, out=work("H_l"))
    H_l *= bwr
    H_l += common
    H_s = _mix(pull_s, acc, out=work("H_s"))
    H_s *= dfr
    H_s *= fear1
    H_s += common
    tmp = np.multiply(fear, pr + fr, out=work("tmp"))
    H_s += tmp
    np.multiply(fear, sr * presence, out=tmp)
    tmp *= org(receiver)
    H_s += tmp
    H_s += org(split.sum(axis=2))

    # ---- 3. competing risks: a share 1 - exp(-H) leaves; each cause's flow is its hazard
    # times Z = X (1 - exp(-H)) / H
    def leave(X, Hx, name):
        """(X - leavers, Z = leavers / H) of stock X under total hazard Hx, where
        leavers = X (1 - exp(-H)) (Z = 0 where H = 0)."""
        neg_h = np.negative(Hx, out=work("neg_h"))
        lost = np.expm1(neg_h, out=work("mid_" + name))
        lost *= X                                   # -leavers
        np.minimum(neg_h, -_TINY, out=neg_h)        # -H, kept off zero
        Z = np.divide(lost, neg_h, out=work("Z" + name))
        return np.add(X, lost, out=lost), Z

    S_mid, Zs = leave(S, H_s, "s")
    L_mid, Zl = leave(Lo, H_l, "l")
    Z = np.add(Zs, Zl, out=work("Z"))
    Z_tot, Zs_tot = _cell_sum(Z), _cell_sum(Zs)

    # killed[v, k] = sum_c combat_rate * expo[v] * eng[k, v] * press[k] * Z[v]
    np.multiply(expo, Z, out=tmp)
    tmp *= p("combat_rate")
    killed = eng.transpose(0, 2, 1) * _pair_sum(tmp, press)
    # raids: by state s on v: raid[s, v] * sum_c detection * Z, killed or detained
    raid_z = vis * _cell_sum(Z, find)
    raid_by = a(plan.raid).transpose(0, 2, 1) * raid_z[:, :, None]  # [v, s]
    rks = p("raid_kill_share", 3)
    killed += rks * raid_by
    detained = (1.0 - rks) * raid_by
    # the purge: caught (killed or detained by their own), fled, surrendered
    fear_zs = _cell_sum(fear, Zs)             # sum_c fear * Zs
    purged = pr[:, :, 0, 0] * fear_zs
    pks = p("purge_kill_share", 2)
    diag = np.arange(O)
    killed[:, diag, diag] += pks * purged
    detained[:, diag, diag] += (1.0 - pks) * purged
    surr = np.where(receiver, sr[:, :, 0, 0] * fear0 * _cell_sum(Zs, cell(fields.purge_reach)
                                                                 * presence), 0.0)
    to = np.asarray(plan.surrender_to)[:, :, None] == np.arange(O)
    surrendered = np.where(to, surr[:, :, None], 0.0)
    fled = fr[:, :, 0, 0] * fear_zs + evacuate * Z_tot
    deserted = desertion * Z_tot
    # defection: ys, yl per unit pull and access; defectors arrive where they left, as loyal
    # fighters; a public split takes sympathizers wherever they are
    ys = np.multiply(fear1, Zs, out=work("ys"))
    ys *= dfr
    yl = np.multiply(Zl, bwr, out=work("yl"))
    defected = (pull_s * _pair_sum(ys, acc) + pull_l * _pair_sum(yl, acc)
                + split * Zs_tot[:, :, None])
    arrive = _mix(pull_s.transpose(0, 2, 1), ys, out=work("arrive"))
    arrive += _mix(pull_l.transpose(0, 2, 1), yl, out=tmp)
    arrive *= acc
    arrive += _mix(split.transpose(0, 2, 1), Zs, out=tmp)

    # ---- 4. recruitment; new stocks; latent sympathy converts and reverts
    # local: rate * appeal * population * F / (F of the recruiting groups here + scale)
    appeal = a(plan.recruit_appeal)
    here = np.einsum("ro,rohw->rhw", (appeal > 0).astype(dt), F)[:, None]
    here += p("recruit_scale")
    local = np.divide(F, here, out=work("local"))
    local *= population
    local *= org(appeal * p("local_recruit_rate", 2))
    # foreign: the day's inflow spread over the organization's fighters
    per_fighter = np.divide(a(plan.foreign_inflow), total, out=np.zeros_like(total),
                            where=exists)
    F_new = np.add(S_mid, L_mid, out=work("F_new"))
    F_new += arrive
    F_new += local
    np.multiply(F, org(per_fighter), out=tmp)  # foreign recruits
    F_new += tmp
    recruited_local = _cell_sum(local)
    recruited_foreign = per_fighter * total
    # S_new = S_mid + (1 - exp(-conversion)) * (F_new - S_mid) - (1 - exp(-reversion)) * S_mid
    conv_share = -np.expm1(-a(plan.conversion))
    keep_rev = -np.expm1(-p("reversion_rate"))
    S_new = np.subtract(F_new, S_mid, out=work("S_new"))
    S_new *= org(conv_share)
    S_new += S_mid
    np.multiply(S_mid, keep_rev, out=tmp)
    S_new -= tmp

    # ---- 5. leadership hits: hazard around the leaders, fighter-weighted
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_raid = np.where(exists, _cell_sum(F, h_r) / total, 0.0)
        mean_combat = np.where(exists, _cell_sum(F, h_c) / total, 0.0)
    lead_h = np.where(exists, LEADER_EXPOSURE * (mean_raid + mean_combat), 0.0)
    p_hit = -np.expm1(-lead_h)
    leader = a(noise.leader)
    emir_killed = np.asarray(state.emir_alive, bool) & exists & (leader[:, :, 0] < p_hit)
    C = leader.shape[2] - 1
    alive = np.arange(C) < np.asarray(state.commanders)[:, :, None]
    commanders_killed = (alive & (leader[:, :, 1:] < p_hit[:, :, None])
                         & exists[:, :, None]).sum(axis=2).astype(np.int64)

    # ---- 6. movement: score = -danger_weight * danger + attraction_weight * log1p(sought)
    # + cover_weight * cover, sought being the presence of what v seeks sensed from afar
    score = np.add(h_c, h_r, out=work("score"))  # danger
    score *= -org(plan.danger_weight)
    attract = a(plan.attract)
    need = (attract != 0).any(axis=(0, 1))   # organizations anyone seeks
    if need.any():
        n = int(need.sum())
        far = _work("far", (R, n, H, W), dt)
        far2 = _work("far2", (R, n, H, W), dt)
        far[...] = F[:, need]
        for _ in range(SENSE_PASSES):
            far, far2 = _spread(far, SENSE_SHARE, out=far2), far
        sought = _mix(attract[:, :, need], far, out=tmp)
        np.log1p(sought, out=sought)
        sought *= p("attraction_weight")
        score += sought
    score += org(plan.cover) * cover

    # a share move_rate of each stock moves to the cell and its neighbours by a softmax of
    # the score, each neighbour's score lowered by stay_bias
    # weights exp(option - top) over the cell (score) and its in-grid neighbours (their
    # score - stay_bias), top the largest option; w[d] at a cell is the weight of its
    # neighbour in direction d (0 where that is off the grid)
    bias = p("stay_bias")
    top = work("top")
    np.copyto(top, score)
    weights = []
    for d in DIRECTIONS:
        here, there = _pair(d, H, W)
        w = work(f"w{d}")
        np.subtract(score[there], bias, out=w[here])
        np.maximum(top[here], w[here], out=top[here])
        weights.append(w)
    stay = np.subtract(score, top, out=work("stay"))
    np.exp(stay, out=stay)
    norm = work("norm")
    np.copyto(norm, stay)
    for d, w in zip(DIRECTIONS, weights, strict=True):
        here, _ = _pair(d, H, W)
        w[here] -= top[here]
        np.exp(w[here], out=w[here])
        w[_edge(d, H, W)] = 0.0
        norm += w
    # shares of the stock going each way: move_rate * weight / norm; staying adds 1 - move_rate
    mr = p("move_rate")
    np.divide(mr, norm, out=norm)
    for w in weights:
        w *= norm
    stay *= norm
    stay += 1.0 - mr
    out64 = dt == np.float64
    ends = []
    for name, stock in (("F_end", F_new), ("S_end", S_new)):
        end = np.empty(shape) if out64 else work(name)
        np.multiply(stock, stay, out=end)
        for d, w in zip(DIRECTIONS, weights, strict=True):
            here, there = _pair(d, H, W)
            np.multiply(stock[here], w[here], out=tmp[here])
            end[there] += tmp[here]
        ends.append(end)
    F_end, S_end = ends
    np.maximum(F_end, 0.0, out=F_end)
    np.clip(S_end, 0.0, F_end, out=S_end)

    f64 = lambda x: np.asarray(x, dtype=np.float64)
    return Flows(
        killed=f64(killed), detained=f64(detained), surrendered=f64(surrendered),
        defected=f64(defected), fled=f64(fled), deserted=f64(deserted),
        recruited_local=f64(recruited_local), recruited_foreign=f64(recruited_foreign),
        emir_killed=emir_killed, commanders_killed=commanders_killed,
        leader_hazard=f64(lead_h), fighters=f64(F_end), sympathizers=f64(S_end),
    )
