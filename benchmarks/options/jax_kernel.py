"""The kernel's daily interaction step in JAX's numpy API, compiled with ``jax.jit``.

A benchmark option, not part of the package (JAX is not a dependency of the project:
``.venv/bin/pip install jax`` to try it; importing this module without JAX raises an
ImportError that says so). :func:`interact_jax` computes the same day as
:func:`affiliate_sim.kernel.interact` with the same equations as
:func:`benchmarks.options.numpy_kernel.interact_numpy`, written as plain array expressions:
XLA fuses the elementwise chains into few loops and allocates the intermediates itself.
64-bit floats are switched on at import (``jax_enable_x64``) so that the default computes
in float64 like the kernel.

The compiled function is specialized on the shapes ``(R, O, H, W)`` and the number of
leader columns; the first call at a new shape compiles (seconds), later calls run the
compiled code. Inputs are copied to JAX arrays and the flows back to numpy arrays on every
call (the flows as writable numpy copies: the model updates its stocks in place); both
copies are part of what the benchmark measures.

Differences from the numba kernel that change no value: the presence sensed from afar is
computed for every organization (the kernel only for those someone seeks; an unsought
organization's term is multiplied by zero), and flows are summed in XLA's order.
"""

from __future__ import annotations

import numpy as np

try:
    import jax
    import jax.numpy as jnp
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("benchmarks.options.jax_kernel needs JAX, which is not a dependency of "
                      "affiliate_sim: install it into the venv with "
                      "'.venv/bin/pip install jax' (CPU build)") from e

from affiliate_sim.kernel.arrays import (
    COLUMN,
    CellFields,
    DayPlan,
    Flows,
    KernelState,
    Noise,
)
from affiliate_sim.mechanisms.movement import SENSE_PASSES, SENSE_SHARE

jax.config.update("jax_enable_x64", True)
JAX_VERSION: str = jax.__version__

#: The four neighbour directions as (row offset, column offset): up, down, left, right.
DIRECTIONS: tuple[tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))

#: Leaders' exposure as it was when the options were written (the kernel's parameter
#: ``leader_exposure`` since; check.py freezes it at this value).
LEADER_EXPOSURE = 0.5


# ---------------------------------------------------------------------- grid stencils
def _pad(x, fill=0.0):
    """x with one cell of ``fill`` around the grid (the last two axes)."""
    return jnp.pad(x, [(0, 0)] * (x.ndim - 2) + [(1, 1), (1, 1)], constant_values=fill)


def _spread(x, share):
    """``x + share * (x[i-1, j] + x[i+1, j] + x[i, j-1] + x[i, j+1])``, off-grid zero."""
    z = _pad(x)
    nb = z[..., :-2, 1:-1] + z[..., 2:, 1:-1] + z[..., 1:-1, :-2] + z[..., 1:-1, 2:]
    return x + share * nb


def _neighbour(x, d, fill):
    """``out[i, j] = x[i + di, j + dj]``, ``fill`` where that cell is off the grid."""
    H, W = x.shape[-2:]
    di, dj = d
    return _pad(x, fill)[..., 1 + di:1 + di + H, 1 + dj:1 + dj + W]


def _send(x, d):
    """Every value moved one cell in direction d: ``out[i + di, j + dj] = x[i, j]``."""
    return _neighbour(x, (-d[0], -d[1]), 0.0)


# ---------------------------------------------------------------------- organization pairs
def _mix(m, x):
    """``out[r, a] = sum_b m[r, a, b] * x[r, b]`` for ``(R, A, B)`` m, ``(R, B, H, W)`` x."""
    return jnp.einsum("rab,rbhw->rahw", m, x)


def _pair_sum(left, right):
    """``out[r, v, k] = sum_c left[r, v, c] * right[r, k, c]`` over the cells c."""
    return jnp.einsum("rvhw,rkhw->rvk", left, right)


def _cell_sum(x):
    return x.sum(axis=(-2, -1))


# ---------------------------------------------------------------------- the day
@jax.jit
def _day(F, S, cohesion, visibility, purge_capacity, quality, conceal, conventional,
         emir_alive, commanders, population, presence, cover,
         conceal_factor, protection, raid_shield, purge_reach,
         engage, offensive, raid, purge, pull_s, pull_l, split, surrender_to, appeal,
         inflow, conversion, attract, cover_w, danger_w, evacuate, desertion,
         P, fortune, leader):
    R, O = F.shape[:2]

    def p(name, ndim=4):  # per-replicate parameter, (R, 1, ...) with ndim axes
        return P[:, COLUMN[name]].reshape((R,) + (1,) * (ndim - 1))

    def org(x):  # (R, O) -> (R, O, 1, 1)
        return x[:, :, None, None]

    def cell(x):  # (R, H, W) -> (R, 1, H, W)
        return x[:, None]

    S = jnp.minimum(S, F)  # latent sympathizers
    Lo = F - S             # loyal fighters
    total = _cell_sum(F)
    exists = total > 0

    # ---- 1. effectiveness (combat), reach and pressure
    sd = p("fortune_sd", 2)
    luck = jnp.exp(sd * fortune - 0.5 * sd * sd)
    boost = 1.0 + (p("offensive_power", 2) - 1.0) * offensive
    eff = quality * (0.5 + 0.5 * cohesion) * boost * luck
    hunting = conventional[:, :, None] & ~conventional[:, None, :]
    eng = jnp.where(hunting, engage * p("conventional_search", 3), engage)  # [k, v]
    reach = _spread(F, p("adjacent_reach"))
    press = reach * org(eff)
    acc = reach / (reach + p("defection_reach"))

    # ---- 2. hazards (1/day)
    expo = cell(protection) / (F + org(conceal) * cell(conceal_factor) + 1e-12)
    h_c = p("combat_rate") * expo * _mix(eng.transpose(0, 2, 1), press)
    find = cell(p("raid_rate", 3) * presence * raid_shield)  # detection per visibility
    raid_in = raid.sum(axis=1)
    h_r = find * org(visibility * raid_in)
    fear0 = jnp.maximum(purge_capacity * purge * p("purge_capacity_scale", 2), 0.0)
    fear = org(fear0) * cell(purge_reach)
    receiver = surrender_to >= 0
    h_purge = p("purge_rate") * fear
    h_flee = p("flee_rate") * fear
    h_surr = jnp.where(org(receiver), p("surrender_rate") * fear * presence, 0.0)
    h_def_s = p("defection_rate") * (1.0 + fear) * _mix(pull_s, acc)
    h_def_l = p("bandwagon_rate") * _mix(pull_l, acc)
    common = h_c + h_r + org(desertion) + org(evacuate)
    H_s = common + h_purge + h_flee + h_surr + h_def_s + org(split.sum(axis=2))
    H_l = common + h_def_l

    # ---- 3. competing risks
    def leave(X, Hx):
        out = -X * jnp.expm1(-Hx)
        Z = jnp.where(Hx > 0, out / jnp.where(Hx > 0, Hx, 1.0), 0.0)
        return X - out, Z

    S_mid, Zs = leave(S, H_s)
    L_mid, Zl = leave(Lo, H_l)
    Z = Zs + Zl
    Z_tot, Zs_tot = _cell_sum(Z), _cell_sum(Zs)

    killed = eng.transpose(0, 2, 1) * _pair_sum(p("combat_rate") * expo * Z, press)
    raid_z = visibility * _cell_sum(find * Z)
    raid_by = raid.transpose(0, 2, 1) * raid_z[:, :, None]  # [v, s]
    rks = p("raid_kill_share", 3)
    killed = killed + rks * raid_by
    detained = (1.0 - rks) * raid_by
    purged = _cell_sum(h_purge * Zs)
    eye = jnp.eye(O, dtype=F.dtype)
    pks = p("purge_kill_share", 3)
    killed = killed + pks * eye * purged[:, :, None]
    detained = detained + (1.0 - pks) * eye * purged[:, :, None]
    surr = _cell_sum(h_surr * Zs)
    to = surrender_to[:, :, None] == jnp.arange(O)
    surrendered = jnp.where(to, surr[:, :, None], 0.0)
    fled = _cell_sum(h_flee * Zs) + evacuate * Z_tot
    deserted = desertion * Z_tot
    ys = p("defection_rate") * (1.0 + fear) * Zs
    yl = p("bandwagon_rate") * Zl
    defected = (pull_s * _pair_sum(ys, acc) + pull_l * _pair_sum(yl, acc)
                + split * Zs_tot[:, :, None])
    arrive = (acc * (_mix(pull_s.transpose(0, 2, 1), ys) + _mix(pull_l.transpose(0, 2, 1), yl))
              + _mix(split.transpose(0, 2, 1), Zs))

    # ---- 4. recruitment; new stocks; conversion and reversion
    recruiting = (appeal > 0).astype(F.dtype)
    here = (org(recruiting) * F).sum(axis=1, keepdims=True)
    local = (p("local_recruit_rate") * org(appeal) * population * F
             / (here + p("recruit_scale")))
    per_fighter = jnp.where(exists, inflow / jnp.where(exists, total, 1.0), 0.0)
    foreign = org(per_fighter) * F
    F_new = S_mid + L_mid + arrive + local + foreign
    conv_share = -jnp.expm1(-conversion)       # loyal fighters turning sympathizers
    rev_share = -jnp.expm1(-p("reversion_rate"))  # sympathizers returning to loyalty
    S_new = S_mid + org(conv_share) * (F_new - S_mid) - rev_share * S_mid

    # ---- 5. leadership hits
    safe_total = jnp.where(exists, total, 1.0)
    lead_h = jnp.where(exists, LEADER_EXPOSURE * (_cell_sum(F * h_r) + _cell_sum(F * h_c))
                       / safe_total, 0.0)
    p_hit = -jnp.expm1(-lead_h)
    emir_killed = emir_alive & exists & (leader[:, :, 0] < p_hit)
    C = leader.shape[2] - 1
    alive = jnp.arange(C) < commanders[:, :, None]
    commanders_killed = (alive & (leader[:, :, 1:] < p_hit[:, :, None])
                         & exists[:, :, None]).sum(axis=2).astype(jnp.int64)

    # ---- 6. movement
    far = F
    for _ in range(SENSE_PASSES):
        far = _spread(far, SENSE_SHARE)
    sought = _mix(attract, far)
    score = (-org(danger_w) * (h_c + h_r) + p("attraction_weight") * jnp.log1p(sought)
             + org(cover_w) * cover)
    options = [_neighbour(score, d, -jnp.inf) - p("stay_bias") for d in DIRECTIONS]
    top = score
    for o in options:
        top = jnp.maximum(top, o)
    stay = jnp.exp(score - top)
    weights = [jnp.exp(o - top) for o in options]
    norm = stay + weights[0] + weights[1] + weights[2] + weights[3]
    mr = p("move_rate")
    ends = []
    for stock in (F_new, S_new):
        movers = stock * mr
        end = stock - movers + movers * (stay / norm)
        for d, w in zip(DIRECTIONS, weights, strict=True):
            end = end + _send(movers * (w / norm), d)
        ends.append(end)
    F_end = jnp.maximum(ends[0], 0.0)
    S_end = jnp.minimum(jnp.maximum(ends[1], 0.0), F_end)

    return (killed, detained, surrendered, defected, fled, deserted, _cell_sum(local),
            per_fighter * total, emir_killed, commanders_killed, lead_h, F_end, S_end)


def interact_jax(state: KernelState, fields: CellFields, plan: DayPlan, params: np.ndarray,
                 noise: Noise, dtype=np.float64) -> Flows:
    """Compute every flow of one day (see :func:`affiliate_sim.kernel.interact`).

    Args:
        state, fields, plan, params, noise: as for the kernel.
        dtype: the floating type computed in; the flows are numpy float64 whatever it is.
    """
    f = lambda x: jnp.asarray(x, dtype=dtype)
    b = lambda x: jnp.asarray(x, dtype=bool)
    i = lambda x: jnp.asarray(x, dtype=jnp.int64)
    out = _day(
        f(state.fighters), f(state.sympathizers), f(state.cohesion), f(state.visibility),
        f(state.purge_capacity), f(state.quality), f(state.conceal), b(state.conventional),
        b(state.emir_alive), i(state.commanders), f(state.population),
        f(state.state_presence), f(state.cover),
        f(fields.conceal_factor), f(fields.protection), f(fields.raid_shield),
        f(fields.purge_reach),
        f(plan.engage), f(plan.offensive), f(plan.raid), f(plan.purge),
        f(plan.pull_sympathizers), f(plan.pull_loyal), f(plan.split), i(plan.surrender_to),
        f(plan.recruit_appeal), f(plan.foreign_inflow), f(plan.conversion), f(plan.attract),
        f(plan.cover), f(plan.danger_weight), f(plan.evacuate), f(plan.desertion),
        f(params), f(noise.fortune), f(noise.leader))
    # writable numpy copies (the model updates its stocks in place)
    return Flows(**{name: np.array(x, dtype=np.float64 if x.dtype.kind == "f" else x.dtype)
                    for name, x in zip(Flows.field_names(), out, strict=True)})
