"""The per-day interaction step: every flow of the day on all cells at once.

``interact(state, plan, params, noise) -> Flows`` is a pure function over numpy arrays with
a leading replicate axis. Fighters leave a stock by competing risks: in each cell, each
sub-population (latent sympathizers, loyal fighters) faces a total hazard ``H`` that is the
sum of the hazards of every cause; a share ``1 - exp(-H)`` leaves, divided among the causes
in proportion to their hazards. Stocks can therefore never go negative, and every fighter
who leaves is booked to exactly one named flow. Inflows (recruits, defectors) are added
after; then latent sympathy changes and a share of fighters moves.

Order within the day (all from the stocks at the start of the day):

1. effectiveness, reach and pressure of every organization (combat);
2. hazards: combat by each attacker, raids by each state (counterterrorism), the purge and
   the fear it causes (purge), defection to accessible organizations (pledge), public splits
   (schism), desertion, evacuation under safe passage (retreat);
3. competing risks and attribution of each flow to its cause, organization and partner;
4. leadership hits from the hazard around the leaders (counterterrorism);
5. recruitment: local (population, appeal) and foreign (investment);
6. new stocks; latent sympathy converts and reverts (momentum, schism);
7. movement (retreat).
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.kernel import combat
from affiliate_sim.kernel.arrays import DayPlan, Flows, KernelParams, KernelState, Noise
from affiliate_sim.mechanisms import counterterrorism, investment, pledge, purge, retreat
from affiliate_sim.mechanisms import terrain


def _pair_sum(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``out[r, v, j] = sum_c left[r, v, c] * right[r, j, c]`` over the flattened grid."""
    R, O = left.shape[:2]
    return np.matmul(left.reshape(R, O, -1), right.reshape(R, O, -1).transpose(0, 2, 1))


def interact(state: KernelState, plan: DayPlan, p: KernelParams, noise: Noise) -> Flows:
    """Compute every flow of one day.

    Args:
        state: stocks and attributes at the start of the day.
        plan: what each organization decided today.
        p: parameters, ``(R,)`` arrays (switched-off mechanisms already zeroed).
        noise: the day's random draws.

    Returns:
        The day's flows, and the stocks at the end of the day.
    """
    L = state.layers
    F = state.fighters
    S = np.minimum(state.sympathizers, F)
    Lo = F - S  # loyal fighters
    R, O, H, W = F.shape
    r4 = lambda a: a[:, :, None, None]  # noqa: E731  (R, O) -> (R, O, 1, 1)

    # 1. effectiveness, reach, pressure
    eff = combat.effectiveness(state.quality, state.cohesion, plan.offensive, noise.fortune, p)
    reach, press = combat.pressure(F, eff, p)

    # 2. hazards (per fighter, per day), (R, O, H, W) unless noted
    K = terrain.concealment(state.conceal, L, p)
    expo = combat.exposure_factor(F, K, terrain.protection(L, p))
    engage = combat.search_engagement(plan.engage, state.conventional, p)
    h_combat = combat.combat_hazard(engage, press, expo, p)
    detect = counterterrorism.raid_detection(state.visibility, L, p)
    raid_in = plan.raid.sum(axis=1)  # (R, O): total raid intensity on each group
    h_raid = detect * r4(raid_in)
    fear = purge.fear(state.purge_capacity, plan.purge, L, p)
    has_receiver = (plan.surrender_to >= 0).astype(float)
    h_purge, h_flee, h_surr = purge.hazards(fear, L, has_receiver, p)
    acc = pledge.access(reach, p)
    sym_pull = np.matmul(plan.pull_sympathizers, acc.reshape(R, O, H * W)).reshape(F.shape)
    h_def_s = p["defection_rate"][:, None, None, None] * (1.0 + fear) * sym_pull
    loy_pull = np.matmul(plan.pull_loyal, acc.reshape(R, O, H * W)).reshape(F.shape)
    h_def_l = p["bandwagon_rate"][:, None, None, None] * loy_pull
    h_split = r4(plan.split.sum(axis=2))
    h_desert = r4(plan.desertion)
    h_evac = r4(plan.evacuate)

    common = h_combat + h_raid + h_desert + h_evac
    H_s = common + h_purge + h_flee + h_surr + h_def_s + h_split
    H_l = common + h_def_l

    # 3. competing risks: Z = X * (1 - exp(-H)) / H is each cause's multiplier
    def exposure(X, Hx):
        q = -np.expm1(-Hx)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(Hx > 0, X * q / Hx, 0.0)
        return X * q, z

    out_s, Zs = exposure(S, H_s)
    out_l, Zl = exposure(Lo, H_l)
    Z = Zs + Zl

    combat_w = p["combat_rate"][:, None, None, None] * expo * Z
    killed = engage.transpose(0, 2, 1) * _pair_sum(combat_w, press)
    raid_total = (detect * Z).sum(axis=(2, 3))  # (R, O) per unit intensity
    raid_by = plan.raid.transpose(0, 2, 1) * raid_total[:, :, None]  # [v, s]
    ks = p["raid_kill_share"][:, None, None]
    killed += ks * raid_by
    detained = (1.0 - ks) * raid_by
    purged = (h_purge * Zs).sum(axis=(2, 3))
    pk = p["purge_kill_share"][:, None]
    diag = np.arange(O)
    killed[:, diag, diag] += pk * purged
    detained[:, diag, diag] += (1.0 - pk) * purged
    surrendered = np.zeros((R, O, O))
    surr = (h_surr * Zs).sum(axis=(2, 3))
    rr, vv = np.nonzero(plan.surrender_to >= 0)
    np.add.at(surrendered, (rr, vv, plan.surrender_to[rr, vv]), surr[rr, vv])
    ys = p["defection_rate"][:, None, None, None] * (1.0 + fear) * Zs
    yl = p["bandwagon_rate"][:, None, None, None] * Zl
    defected = (plan.pull_sympathizers * _pair_sum(ys, acc)
                + plan.pull_loyal * _pair_sum(yl, acc)
                + plan.split * Zs.sum(axis=(2, 3))[:, :, None])
    fled = (h_flee * Zs).sum(axis=(2, 3)) + plan.evacuate * Z.sum(axis=(2, 3))
    deserted = plan.desertion * Z.sum(axis=(2, 3))

    # 4. leadership hits
    lead_h = counterterrorism.leader_hazard(h_raid, h_combat, F, p)
    p_hit = -np.expm1(-lead_h)
    exists = F.sum(axis=(2, 3)) > 0
    emir_killed = state.emir_alive & exists & (noise.leader[:, :, 0] < p_hit)
    ncol = noise.leader.shape[2] - 1
    alive_cmd = np.arange(ncol)[None, None, :] < state.commanders[:, :, None]
    cmd_hit = alive_cmd & (noise.leader[:, :, 1:] < p_hit[:, :, None]) & exists[:, :, None]
    commanders_killed = cmd_hit.sum(axis=2)

    # 5. recruitment
    # groups compete for recruits with the other recruiting groups (not with states)
    recruiting = (plan.recruit_appeal > 0).astype(float)
    total_here = (F * r4(recruiting)).sum(axis=1, keepdims=True)
    share = F / (total_here + p["recruit_scale"][:, None, None, None])
    local = (p["local_recruit_rate"][:, None, None, None] * r4(plan.recruit_appeal)
             * L.population[:, None] * share)
    foreign = investment.distribute(plan.foreign_inflow, F)

    # 6. new stocks: out, in (defectors arrive where they left, as loyal fighters)
    arrive = np.zeros_like(F)
    # sympathizer defection into j at cell c: acc_j(c) * sum_v pull[v, j] * ys_v(c)
    arrive += acc * np.matmul(plan.pull_sympathizers.transpose(0, 2, 1),
                              ys.reshape(R, O, -1)).reshape(F.shape)
    arrive += acc * np.matmul(plan.pull_loyal.transpose(0, 2, 1),
                              yl.reshape(R, O, -1)).reshape(F.shape)
    arrive += np.matmul(plan.split.transpose(0, 2, 1), Zs.reshape(R, O, -1)).reshape(F.shape)
    S_new = S - out_s
    F_new = S_new + (Lo - out_l) + arrive + local + foreign
    # latent sympathy: loyal fighters convert, sympathizers revert
    loyal_new = F_new - S_new
    conv = -np.expm1(-r4(plan.conversion)) * loyal_new
    rev = -np.expm1(-p["reversion_rate"][:, None, None, None]) * S_new
    S_new = S_new + conv - rev

    # 7. movement
    score = retreat.movement_score(h_combat + h_raid, plan.offensive, plan.attract, F,
                                   plan.cover, L, p)
    F_new, S_new = retreat.move(F_new, S_new, score, p)
    np.maximum(F_new, 0.0, out=F_new)
    np.clip(S_new, 0.0, F_new, out=S_new)

    return Flows(
        killed=killed, detained=detained, surrendered=surrendered, defected=defected,
        fled=fled, deserted=deserted,
        recruited_local=local.sum(axis=(2, 3)), recruited_foreign=foreign.sum(axis=(2, 3)),
        emir_killed=emir_killed, commanders_killed=commanders_killed, leader_hazard=lead_h,
        fighters=F_new, sympathizers=S_new, danger=h_combat + h_raid,
    )
