"""Cell-by-cell reference implementation of the kernel's daily interaction step.

The test oracle (it lives in ``tests/``, not in the package). :func:`interact_reference`
computes the same day as :func:`affiliate_sim.kernel.interact` (same inputs, same
:class:`~affiliate_sim.kernel.Flows` out), but written the slow, obvious way: plain Python
loops over the replicate ``r``, the organizations ``v, k, j`` and the cells ``(i, j)`` of
the grid, with Python floats and ``math.exp``/``math.expm1``, in dictionaries keyed by
cell. Numpy is used only to read the inputs and to allocate the output arrays.

It deliberately shares no code with the kernel: neither the compiled loops of
``affiliate_sim.kernel.step`` nor any of the mechanisms' hazard functions is called (only
named constants are read). Every formula is re-derived from the documentation of the kernel
and the mechanisms, so that the comparison in ``tests/test_kernel_reference.py`` is a
genuine cross-check of the compiled indexing, accumulation and attribution.

The day, for each replicate, from the stocks at the start of the day:

1. effectiveness of each organization; its reach (own cell plus ``adjacent_reach`` of each
   of the four neighbours) and pressure (reach times effectiveness) on each cell;
2. per cell and sub-population (latent sympathizers, loyal fighters), the hazard of every
   cause: combat by each attacker, raids by each state, purge, flight and surrender out of
   fear of the purge, defection, public splits, desertion, evacuation;
3. competing risks: a share ``1 - exp(-H)`` of each sub-population leaves, divided among
   the causes in proportion to their hazards, and booked to the cause's partner;
4. leadership hits: the emir and each commander die when their uniform is below
   ``1 - exp(-h)``, ``h`` the fighter-weighted hazard around the leaders (raids and combat
   times ``leader_exposure``);
5. local and foreign recruitment;
6. new stocks, then conversion of loyal fighters to sympathy and reversion;
7. movement of a share of each cell's fighters to the cell and its four neighbours by a
   softmax of a movement score (neighbours lowered by ``stay_bias``); clipping.

It is slow by design (roughly ``R * O**2 * H * W`` Python operations); use it on small
states only.
"""

from __future__ import annotations

import math

import numpy as np

from affiliate_sim.kernel.arrays import (
    KERNEL_PARAMS,
    CellFields,
    DayPlan,
    Flows,
    KernelState,
    Noise,
)
from affiliate_sim.mechanisms.movement import SENSE_SHARE

#: Neighbour offsets (row, column) in the order up, down, left, right.
_NEIGHBOURS: tuple[tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))


def _neighbours(i: int, j: int, H: int, W: int) -> list[tuple[int, int]]:
    """Cells of the grid adjacent to ``(i, j)`` (von Neumann, non-periodic).

    Args:
        i: row.
        j: column.
        H: number of rows.
        W: number of columns.

    Returns:
        The in-grid neighbours, in the order up, down, left, right.
    """
    out = []
    for di, dj in _NEIGHBOURS:
        a, b = i + di, j + dj
        if 0 <= a < H and 0 <= b < W:
            out.append((a, b))
    return out


def _share_left(hazard: float) -> float:
    """Probability ``1 - exp(-hazard)`` of leaving within one day."""
    return -math.expm1(-hazard)


def interact_reference(state: KernelState, fields: CellFields, plan: DayPlan,
                       P: np.ndarray, noise: Noise) -> Flows:
    """Compute every flow of one day, cell by cell and organization by organization.

    Args:
        state: stocks and attributes at the start of the day (``(R, O, H, W)`` stocks).
        fields: the per-replicate cell multipliers.
        plan: what each organization decided today.
        P: packed parameters, ``(R, len(KERNEL_PARAMS))``.
        noise: the day's random draws.

    Returns:
        The day's flows and end-of-day stocks, with the same fields, shapes and dtypes as
        :func:`affiliate_sim.kernel.interact` returns.
    """
    R, O, H, W = state.fighters.shape
    ncol = noise.leader.shape[2] - 1

    killed = np.zeros((R, O, O))
    detained = np.zeros((R, O, O))
    surrendered = np.zeros((R, O, O))
    defected = np.zeros((R, O, O))
    fled = np.zeros((R, O))
    deserted = np.zeros((R, O))
    recruited_local = np.zeros((R, O))
    recruited_foreign = np.zeros((R, O))
    emir_killed = np.zeros((R, O), dtype=bool)
    commanders_killed = np.zeros((R, O), dtype=np.int64)
    leader_hazard = np.zeros((R, O))
    fighters_end = np.zeros((R, O, H, W))
    sympathizers_end = np.zeros((R, O, H, W))

    cells = [(i, j) for i in range(H) for j in range(W)]

    for r in range(R):
        q = {name: float(P[r, k]) for k, name in enumerate(KERNEL_PARAMS)}
        pop = {c: float(state.population[c]) for c in cells}
        presence = {c: float(state.state_presence[c]) for c in cells}
        cover = {c: float(state.cover[c]) for c in cells}
        people = {c: float(state.people[c]) for c in cells}
        conceal_factor = {c: float(fields.conceal_factor[r][c]) for c in cells}
        protection = {c: float(fields.protection[r][c]) for c in cells}
        raid_shield = {c: float(fields.raid_shield[r][c]) for c in cells}
        purge_reach = {c: float(fields.purge_reach[r][c]) for c in cells}

        F = [{c: float(state.fighters[r, v][c]) for c in cells} for v in range(O)]
        S = [{c: min(float(state.sympathizers[r, v][c]), F[v][c]) for c in cells}
             for v in range(O)]
        Lo = [{c: F[v][c] - S[v][c] for c in cells} for v in range(O)]

        # effective engagement: a conventional attacker hunting a guerrilla finds it
        # conventional_search times as well
        conv = [bool(state.conventional[r, a]) for a in range(O)]
        engage = [[float(plan.engage[r, a, b])
                   * (q["conventional_search"] if conv[a] and not conv[b] else 1.0)
                   for b in range(O)] for a in range(O)]
        raid = [[float(plan.raid[r, a, b]) for b in range(O)] for a in range(O)]
        raid_reach = np.broadcast_to(plan.raid_reach, state.fighters.shape)
        pull_s = [[float(plan.pull_sympathizers[r, a, b]) for b in range(O)]
                  for a in range(O)]
        pull_l = [[float(plan.pull_loyal[r, a, b]) for b in range(O)] for a in range(O)]
        split = [[float(plan.split[r, a, b]) for b in range(O)] for a in range(O)]
        attract = [[float(plan.attract[r, a, b]) for b in range(O)] for a in range(O)]

        # ---- 1. effectiveness, reach, pressure
        sd = q["fortune_sd"]
        eff = []
        for v in range(O):
            luck = math.exp(sd * float(noise.fortune[r, v]) - 0.5 * sd * sd)
            boost = 1.0 + (q["offensive_power"] - 1.0) * float(plan.offensive[r, v])
            eff.append(float(state.quality[r, v]) * (0.5 + 0.5 * float(state.cohesion[r, v]))
                       * boost * luck)
        reach = []
        for v in range(O):
            rv = {}
            for (i, j) in cells:
                around = 0.0
                for nb in _neighbours(i, j, H, W):
                    around += F[v][nb]
                rv[(i, j)] = F[v][(i, j)] + q["adjacent_reach"] * around
            reach.append(rv)
        press = [{c: reach[v][c] * eff[v] for c in cells} for v in range(O)]
        access = [{c: reach[v][c] / (reach[v][c] + q["defection_reach"]) for c in cells}
                  for v in range(O)]

        # ---- 2.-3. hazards and competing risks, cell by cell
        S_mid = [dict.fromkeys(cells, 0.0) for _ in range(O)]
        L_mid = [dict.fromkeys(cells, 0.0) for _ in range(O)]
        arrive = [dict.fromkeys(cells, 0.0) for _ in range(O)]
        h_combat = [dict.fromkeys(cells, 0.0) for _ in range(O)]
        h_raid = [dict.fromkeys(cells, 0.0) for _ in range(O)]

        for v in range(O):
            fear_strength = max(float(state.purge_capacity[r, v]) * float(plan.purge[r, v])
                                * q["purge_capacity_scale"], 0.0)
            receiver = int(plan.surrender_to[r, v])
            # nobody surrenders without a receiver
            leniency = float(plan.leniency[r, v]) if receiver >= 0 else 0.0
            yield_s = float(plan.yield_sympathizers[r, v]) if receiver >= 0 else 0.0
            yield_l = float(plan.yield_loyal[r, v]) if receiver >= 0 else 0.0
            flight = float(plan.flight[r, v])
            desert = float(plan.desertion[r, v])
            evac = float(plan.evacuate[r, v])
            split_total = sum(split[v][j] for j in range(O))
            conceal = float(state.conceal[r, v])
            visibility = float(state.visibility[r, v])

            for c in cells:
                # combat: defender-side factor t(c) / (F + K + interference * P), K and
                # P (the attacker's effective force reaching the cell) by attacker
                combat_by = []
                for k in range(O):
                    K = conceal * float(state.conceal_against[r, k, v]) * conceal_factor[c]
                    crowd = q["interference"] * press[k][c]
                    expo = protection[c] / (F[v][c] + crowd + K + 1e-12)
                    combat_by.append(q["combat_rate"] * engage[k][v] * press[k][c] * expo)
                hc = sum(combat_by)
                # raids by each state as far as its forces reach the cell, reduced by
                # remoteness and rugged ground
                detect = visibility * q["raid_rate"] * presence[c] * raid_shield[c]
                raid_by = [detect * raid[s][v] * float(raid_reach[r, s][c]) for s in range(O)]
                hr = sum(raid_by)
                h_combat[v][c] = hc
                h_raid[v][c] = hr
                # purge of the sympathizers, and the fear it spreads
                fear = fear_strength * purge_reach[c]
                hp = q["purge_rate"] * fear
                hf = q["flee_rate"] * fear
                hs = q["surrender_rate"] * fear * presence[c] * leniency
                # surrender and flight in proportion to the danger faced
                danger = hc + hr
                ys, yl, fl = yield_s * danger, yield_l * danger, flight * danger
                # defection of sympathizers, bandwagoning of loyal fighters
                def_s = [q["defection_rate"] * (1.0 + fear) * pull_s[v][j] * access[j][c]
                         for j in range(O)]
                def_l = [q["bandwagon_rate"] * pull_l[v][j] * access[j][c]
                         for j in range(O)]

                common = hc + hr + desert + evac + fl
                Hs = common + hp + hf + hs + ys + sum(def_s) + split_total
                Hl = common + yl + sum(def_l)

                out_s = S[v][c] * _share_left(Hs)
                out_l = Lo[v][c] * _share_left(Hl)
                zs = out_s / Hs if Hs > 0 else 0.0  # sympathizers leaving per unit hazard
                zl = out_l / Hl if Hl > 0 else 0.0
                z = zs + zl
                S_mid[v][c] = S[v][c] - out_s
                L_mid[v][c] = Lo[v][c] - out_l

                for k in range(O):
                    killed[r, v, k] += combat_by[k] * z
                for s in range(O):
                    n = raid_by[s] * z
                    killed[r, v, s] += q["raid_kill_share"] * n
                    detained[r, v, s] += (1.0 - q["raid_kill_share"]) * n
                n = hp * zs
                killed[r, v, v] += q["purge_kill_share"] * n
                detained[r, v, v] += (1.0 - q["purge_kill_share"]) * n
                if receiver >= 0:
                    surrendered[r, v, receiver] += (hs + ys) * zs + yl * zl
                for j in range(O):
                    n = def_s[j] * zs + def_l[j] * zl + split[v][j] * zs
                    defected[r, v, j] += n
                    arrive[j][c] += n  # defectors arrive where they left, as loyal fighters
                fled[r, v] += hf * zs + (evac + fl) * z
                deserted[r, v] += desert * z

        # ---- 4. leadership hits
        for v in range(O):
            total = sum(F[v][c] for c in cells)
            exists = total > 0
            if exists:
                mean_raid = sum(F[v][c] / total * h_raid[v][c] for c in cells)
                mean_combat = sum(F[v][c] / total * h_combat[v][c] for c in cells)
                lh = q["leader_exposure"] * (mean_raid + mean_combat)
            else:
                lh = 0.0
            leader_hazard[r, v] = lh
            p_hit = _share_left(lh)
            emir_killed[r, v] = (bool(state.emir_alive[r, v]) and exists
                                 and float(noise.leader[r, v, 0]) < p_hit)
            hits = 0
            if exists:
                for m in range(min(int(state.commanders[r, v]), ncol)):
                    if float(noise.leader[r, v, 1 + m]) < p_hit:
                        hits += 1
            commanders_killed[r, v] = hits

        # ---- 5. recruitment
        local = [dict.fromkeys(cells, 0.0) for _ in range(O)]
        foreign = [dict.fromkeys(cells, 0.0) for _ in range(O)]
        for c in cells:
            # competition only among recruiting groups (appeal > 0), not with states
            here = sum(F[v][c] for v in range(O) if float(plan.recruit_appeal[r, v]) > 0)
            for v in range(O):
                # carrying capacity: what the population can hold, braked by the state
                capacity = (float(plan.recruit_ceiling[r, v]) * pop[c]
                            * (1.0 - q["recruit_state_brake"] * presence[c]))
                room = max(0.0, 1.0 - here / capacity) if capacity > 0 else 0.0
                if float(plan.recruit_appeal[r, v]) <= 0:
                    continue
                local[v][c] = (q["local_recruit_rate"] * float(plan.recruit_appeal[r, v])
                               * pop[c] * F[v][c] / (here + q["recruit_scale"]) * room)
        for v in range(O):
            total = sum(F[v][c] for c in cells)
            if total > 0:
                for c in cells:
                    foreign[v][c] = float(plan.foreign_inflow[r, v]) * F[v][c] / total
            recruited_local[r, v] = sum(local[v].values())
            recruited_foreign[r, v] = sum(foreign[v].values())

        # ---- 6. new stocks; conversion and reversion of latent sympathy
        F_new = [dict.fromkeys(cells, 0.0) for _ in range(O)]
        S_new = [dict.fromkeys(cells, 0.0) for _ in range(O)]
        for v in range(O):
            conv_share = _share_left(float(plan.conversion[r, v]))
            rev_share = _share_left(q["reversion_rate"])
            for c in cells:
                loyal = L_mid[v][c] + arrive[v][c] + local[v][c] + foreign[v][c]
                sym = S_mid[v][c]
                F_new[v][c] = sym + loyal
                S_new[v][c] = sym + conv_share * loyal - rev_share * sym

        # ---- 7. movement by softmax over the cell and its neighbours
        # presence sensed from afar: SENSE_PASSES passes of x + SENSE_SHARE * neighbours
        far = []
        for j in range(O):
            x = dict(F[j])
            for _ in range(int(q["sense_passes"])):
                x = {c: x[c] + SENSE_SHARE * sum(x[n] for n in _neighbours(c[0], c[1], H, W))
                     for c in cells}
            far.append(x)
        for v in range(O):
            aversion = float(plan.danger_weight[r, v])
            cover_w = float(plan.cover[r, v])
            home_w = float(plan.home[r, v])
            score = {}
            for c in cells:
                d = h_combat[v][c] + h_raid[v][c]
                sought = sum(attract[v][j] * far[j][c] for j in range(O))
                score[c] = (-aversion * d + q["attraction_weight"] * math.log1p(sought)
                            + cover_w * cover[c] + home_w * people[c])
            for c in cells:
                options = [c] + _neighbours(c[0], c[1], H, W)
                # moving to a neighbour costs ``stay_bias`` of score
                pref = [score[o] - (q["stay_bias"] if o != c else 0.0) for o in options]
                top = max(pref)
                weights = [math.exp(x - top) for x in pref]
                norm = sum(weights)
                for stock, end in ((F_new[v], fighters_end), (S_new[v], sympathizers_end)):
                    movers = stock[c] * q["move_rate"]
                    end[r, v][c] += stock[c] - movers
                    for o, w in zip(options, weights, strict=True):
                        end[r, v][o] += movers * w / norm
            for c in cells:
                f = max(float(fighters_end[r, v][c]), 0.0)
                fighters_end[r, v][c] = f
                sympathizers_end[r, v][c] = min(max(float(sympathizers_end[r, v][c]), 0.0), f)

    return Flows(
        killed=killed, detained=detained, surrendered=surrendered, defected=defected,
        fled=fled, deserted=deserted, recruited_local=recruited_local,
        recruited_foreign=recruited_foreign, emir_killed=emir_killed,
        commanders_killed=commanders_killed, leader_hazard=leader_hazard,
        fighters=fighters_end, sympathizers=sympathizers_end,
    )
