"""The per-day interaction step: every flow of the day on all cells, for R replicates.

``interact(state, fields, plan, params, noise) -> Flows`` is a pure function over arrays
with a leading replicate axis (it mutates none of its inputs). It composes the processes'
hazard terms, each written once in its own module (:mod:`affiliate_sim.mechanisms`), into
competing risks. Fighters leave a stock by competing risks: in each cell, each
sub-population (latent sympathizers, loyal fighters) faces a total hazard ``H`` that is the
sum of the hazards of every cause; a share ``1 - exp(-H)`` leaves, divided among the causes
in proportion to their hazards. Stocks therefore never go negative, and every fighter who
leaves is booked to exactly one named flow. Inflows (recruits, defectors) are added after;
then latent sympathy changes and a share of fighters moves.

Order within the day (all from the stocks at the start of the day), for each replicate:

1. effectiveness of every organization (combat); its reach, own cell plus
   ``adjacent_reach`` of each neighbour, and pressure on each cell;
2. cell by cell, the hazard of every cause on each organization's sympathizers and loyal
   fighters: combat by each attacker (combat, terrain), raids by each state
   (counterterrorism), the purge and the fear it causes (purge), defection to accessible
   organizations (pledge), public splits (schism), desertion (population), evacuation
   under safe passage (retreat), surrender and flight in proportion to the danger faced
   (surrender);
3. competing risks, and attribution of each flow to its cause, organization and partner;
   defectors arrive where they left, as loyal fighters;
4. recruitment, local (population, up to the cell's carrying capacity) and foreign
   (investment, reinforcement); new stocks;
   latent sympathy converts and reverts;
5. leadership hits from the hazard around the leaders (counterterrorism);
6. movement (movement, retreat): a share of each cell's fighters moves to the cell and its
   neighbours by a softmax of the movement score; clipping.

The loops are compiled with numba. A replicate's computation never reads another
replicate's arrays and sums in a fixed order, so replicate r of an ensemble is
bit-identical to the same replicate computed alone. The day is computed one grid row at a
time (the inner loops run over the contiguous cells of a row, so that they vectorize) and
only over the non-zero entries of the engagement, defection and attraction matrices.
Scratch memory is four ``(O, H, W)`` arrays reused across replicates, plus row buffers.
"""

from __future__ import annotations

import math
import types

import numba
import numpy as np
from numba import njit, prange

from affiliate_sim.kernel import cache
from affiliate_sim.kernel.arrays import (
    COLUMN,
    CellFields,
    DayPlan,
    Flows,
    KernelState,
    Noise,
)
from affiliate_sim.mechanisms.combat import effectiveness, exposure, search
from affiliate_sim.mechanisms.counterterrorism import detection, leader_hazard
from affiliate_sim.mechanisms.movement import SENSE_SHARE, score
from affiliate_sim.mechanisms.pledge import access
from affiliate_sim.mechanisms.population import local_recruits, room
from affiliate_sim.mechanisms.purge import fear as purge_fear
from affiliate_sim.mechanisms.purge import hazards as purge_hazards

#: Bands of rows the grid is cut into (computed in parallel on a large grid; the same cut,
#: and so the same sums, on one thread).
BANDS = 8

# columns of the packed parameters (compile-time constants)
_CR = COLUMN["combat_rate"]
_INT = COLUMN["interference"]
_AR = COLUMN["adjacent_reach"]
_OP = COLUMN["offensive_power"]
_SD = COLUMN["fortune_sd"]
_CS = COLUMN["conventional_search"]
_RR = COLUMN["raid_rate"]
_RKS = COLUMN["raid_kill_share"]
_LE = COLUMN["leader_exposure"]
_PR = COLUMN["purge_rate"]
_FR = COLUMN["flee_rate"]
_SR = COLUMN["surrender_rate"]
_PCS = COLUMN["purge_capacity_scale"]
_PKS = COLUMN["purge_kill_share"]
_DR = COLUMN["defection_rate"]
_BR = COLUMN["bandwagon_rate"]
_DREACH = COLUMN["defection_reach"]
_LRR = COLUMN["local_recruit_rate"]
_RS = COLUMN["recruit_scale"]
_RSB = COLUMN["recruit_state_brake"]
_REV = COLUMN["reversion_rate"]
_AW = COLUMN["attraction_weight"]
_MR = COLUMN["move_rate"]
_BIAS = COLUMN["stay_bias"]
_SP = COLUMN["sense_passes"]


@njit(cache=True)
def _share_left(h):
    """Share ``1 - exp(-h)`` leaving within one day under hazard h."""
    return -math.expm1(-h)


@njit(cache=True)
def _spread_inplace(x, share, prev, cur):
    """``x = x + share * (sum of the four neighbours of x)`` in place, with two row
    buffers of length W holding the original rows."""
    H, W = x.shape
    for i in range(H):
        for j in range(W):
            cur[j] = x[i, j]
        for j in range(W):
            nb = 0.0
            if i > 0:
                nb += prev[j]
            if i < H - 1:
                nb += x[i + 1, j]
            if j > 0:
                nb += cur[j - 1]
            if j < W - 1:
                nb += cur[j + 1]
            x[i, j] = cur[j] + share * nb
        for j in range(W):
            prev[j] = cur[j]


@njit(cache=True)
def _nonzero_rows(m, transpose):
    """Per row v of ``m`` (``m[v, j]``, or ``m[j, v]`` if ``transpose``): how many entries
    are non-zero, and their column indices (the sparse lists the loops run over)."""
    O = m.shape[0]
    count = np.zeros(O, dtype=np.int64)
    idx = np.empty((O, O), dtype=np.int64)
    for v in range(O):
        for j in range(O):
            x = m[j, v] if transpose else m[v, j]
            if x != 0.0:
                idx[v, count[v]] = j
                count[v] += 1
    return count, idx


@njit(cache=True)
def _row(F, S, r, i, visibility, conceal, cover_k, conceal_factor, protection, raid_shield,
         purge_reach, presence, population, pull_s, pull_l, split, choice, appeal,
         evacuate, desertion, eff, eng, raid, raid_reach, fear0, split_tot, conv_share,
         foreign_per, n_atk, atk, n_rd, rd, n_dest, dest, n_src, src, is_dest, cr, crowd, ar,
         rr, pr, fr, sr, dfr, bwr, dreach, lrr, rs, rsb, keep_rev, press, acc, arrive, part,
         rows, s_mid, l_mid, inv_here, kill_acc, def_acc, raid_acc, sums, danger, preF, preS,
         expo):
    """Row i of replicate r: every organization's hazards, competing risks and flows by
    partner (added to the band's accumulators), then recruitment and the new stocks before
    movement."""
    O, H, W = F.shape[1], F.shape[2], F.shape[3]
    for k in range(O):
        for j in range(W):
            nb = 0.0
            if i > 0:
                nb += F[r, k, i - 1, j]
            if i < H - 1:
                nb += F[r, k, i + 1, j]
            if j > 0:
                nb += F[r, k, i, j - 1]
            if j < W - 1:
                nb += F[r, k, i, j + 1]
            reach = F[r, k, i, j] + ar * nb  # the force reaching the cell
            press[k, j] = reach * eff[k]
            if is_dest[k]:
                acc[k, j] = access(reach, dreach)
    for v in range(O):
        inc, ds, dl = rows[0, v], rows[1, v], rows[2, v]
        a_kill, ys, yl, zs_row = rows[3, v], rows[4, v], rows[5, v], rows[6, v]
        ra, dz = rows[7, v], rows[8, v]  # raids reaching each cell; raid hazard x exits
        for j in range(W):
            inc[j] = 0.0
            ds[j] = 0.0
            dl[j] = 0.0
            ra[j] = 0.0
        # raids: each state's intensity, as far as its forces reach the cell
        for m in range(n_rd[v]):
            k = rd[v, m]
            x = raid[r, k, v]
            for j in range(W):
                ra[j] += x * raid_reach[r, k, i, j]
        cv = conceal[r, v]
        # the combat hazard by attacker: v's concealment against k is its own, times the
        # cell's, times the cover v's population gives it against k (terrain)
        for m in range(n_atk[v]):
            k = atk[v, m]
            e = eng[k, v]
            ck = cv * cover_k[r, k, v]
            ex = expo[m]  # kept for the attribution below
            for j in range(W):
                ex[j] = exposure(F[r, v, i, j] + crowd * press[k, j],
                                 ck * conceal_factor[r, i, j], protection[r, i, j])
                inc[j] += e * press[k, j] * ex[j]
        for m in range(n_dest[v]):
            k = dest[v, m]
            ps = pull_s[r, v, k]
            pl = pull_l[r, v, k]
            for j in range(W):
                ds[j] += ps * acc[k, j]
                dl[j] += pl * acc[k, j]
        ev, de = evacuate[r, v], desertion[r, v]
        len_v, ys_w, yl_w, fl_w = (choice[r, 0, v], choice[r, 1, v], choice[r, 2, v],
                                   choice[r, 3, v])
        vis, split_v, fear_v = visibility[r, v], split_tot[v], fear0[v]
        t_purge = t_surr = t_fled = t_desert = t_wraid = t_wcombat = 0.0
        for j in range(W):
            f = F[r, v, i, j]
            sym = min(S[r, v, i, j], f)
            loy = f - sym
            hc = cr * inc[j]
            det = detection(rr, presence[i, j], raid_shield[r, i, j], vis)
            hr = det * ra[j]
            danger[v, i, j] = hc + hr
            if f == 0.0:  # nobody to lose here: only the danger counts (movement)
                dz[j] = 0.0
                a_kill[j] = 0.0
                ys[j] = 0.0
                yl[j] = 0.0
                zs_row[j] = 0.0
                s_mid[v, j] = 0.0
                l_mid[v, j] = 0.0
                continue
            fear = fear_v * purge_reach[r, i, j]
            hp, hf, hs = purge_hazards(fear, presence[i, j], len_v, pr, fr, sr)
            dang = hc + hr  # the danger the fighters here face
            y_s = ys_w * dang  # surrender as a choice (surrender)
            y_l = yl_w * dang
            fl = fl_w * dang  # flight from danger (surrender)
            common = hc + hr + de + ev + fl
            h_s = common + hp + hf + hs + y_s + dfr * (1.0 + fear) * ds[j] + split_v
            h_l = common + y_l + bwr * dl[j]
            out_s = sym * _share_left(h_s) if sym > 0.0 else 0.0
            out_l = loy * _share_left(h_l) if loy > 0.0 else 0.0
            zs = out_s / h_s if out_s > 0.0 else 0.0
            zl = out_l / h_l if out_l > 0.0 else 0.0
            z = zs + zl
            a_kill[j] = cr * z
            ys[j] = dfr * (1.0 + fear) * zs
            yl[j] = bwr * zl
            zs_row[j] = zs
            dz[j] = det * z
            t_purge += hp * zs
            t_surr += (hs + y_s) * zs + y_l * zl
            t_fled += hf * zs + (ev + fl) * z
            t_desert += de * z
            t_wraid += f * hr
            t_wcombat += f * hc
            s_mid[v, j] = sym - out_s
            l_mid[v, j] = loy - out_l
        sums[0, v] += t_purge
        sums[1, v] += t_surr
        sums[2, v] += t_fled
        sums[3, v] += t_desert
        sums[4, v] += t_wraid
        sums[5, v] += t_wcombat
        # attribution: killers and destinations (defectors arrive where they left)
        for m in range(n_atk[v]):
            k = atk[v, m]
            ex = expo[m]
            t = 0.0
            for j in range(W):
                t += a_kill[j] * press[k, j] * ex[j]
            kill_acc[v, k] += eng[k, v] * t
        for m in range(n_rd[v]):
            k = rd[v, m]
            t = 0.0
            for j in range(W):
                t += dz[j] * raid_reach[r, k, i, j]
            raid_acc[v, k] += raid[r, k, v] * t
        for m in range(n_dest[v]):
            k = dest[v, m]
            ps = pull_s[r, v, k]
            pl = pull_l[r, v, k]
            sp = split[r, v, k]
            t = 0.0
            for j in range(W):
                n = (ys[j] * ps + yl[j] * pl) * acc[k, j] + sp * zs_row[j]
                t += n
                part[v, k, j] = n
            def_acc[v, k] += t
    # recruitment (competition among recruiting groups only) and new stocks
    for j in range(W):
        h = 0.0
        for v in range(O):
            if appeal[r, v] > 0:
                h += F[r, v, i, j]
        inv_here[0, j] = 1.0 / (h + rs)
        inv_here[1, j] = h
    for v in range(O):
        for j in range(W):
            arrive[v, j] = 0.0
        for m in range(n_src[v]):
            k = src[v, m]
            for j in range(W):
                arrive[v, j] += part[k, v, j]
        conv_v, frn_v, ap = conv_share[v], foreign_per[v], appeal[r, v]
        ceil_v = choice[r, 4, v]
        t_loc = t_frn = 0.0
        for j in range(W):
            f = F[r, v, i, j]
            loc = (local_recruits(lrr, ap, population[i, j], f, inv_here[0, j],
                                  room(inv_here[1, j], ceil_v, population[i, j],
                                       presence[i, j], rsb))
                   if f > 0.0 and ap > 0.0 else 0.0)
            frn = frn_v * f
            t_loc += loc
            t_frn += frn
            sm = s_mid[v, j]
            new_f = sm + l_mid[v, j] + arrive[v, j] + loc + frn
            preF[v, i, j] = new_f
            preS[v, i, j] = sm + conv_v * (new_f - sm) - keep_rev * sm
        sums[6, v] += t_loc
        sums[7, v] += t_frn


def _day(F, S, cohesion, visibility, purge_capacity, quality, conceal, cover_k,
         conventional, emir_alive, commanders, population, presence, cover, people,
         conceal_factor, protection, raid_shield, purge_reach,
         engage, offensive, raid, raid_reach, purge, pull_s, pull_l, split, surrender_to,
         choice, appeal, inflow, conversion, attract, cover_w, home_w, danger_w, evacuate,
         desertion, P, fortune, leader,
         killed, detained, surrendered, defected, fled, deserted, rec_local, rec_foreign,
         emir_killed, commanders_killed, lead_h, F_out, S_out,
         danger, preF, preS, far):
    R, O, H, W = F.shape
    C = leader.shape[2] - 1
    eff = np.empty(O)
    eng = np.empty((O, O))
    fear0 = np.empty(O)
    split_tot = np.empty(O)
    total = np.empty(O)
    need = np.empty(O, dtype=np.bool_)
    pull_any = np.empty((O, O))
    conv_share = np.empty(O)
    foreign_per = np.empty(O)
    # the grid is cut into BANDS bands of rows, computed in parallel with their own
    # buffers and accumulators, and summed in band order (so the bits do not depend on the
    # number of threads); within a band the day is computed one row at a time, so that the
    # inner loops run over the contiguous cells of a row
    B = min(BANDS, H)
    press = np.empty((B, O, W))
    acc = np.empty((B, O, W))
    arrive = np.empty((B, O, W))
    part = np.empty((B, O, O, W))  # [v, k, j]: v's defectors arriving in k in cell j
    rows = np.empty((B, 9, O, W))  # incoming, ds, dl, killing weight, ys, yl, zs, raids,
    #                                raid hazard x exits
    expo = np.empty((B, O, W))  # the exposure of the organization at hand to each attacker
    s_mid = np.empty((B, O, W))
    l_mid = np.empty((B, O, W))
    inv_here = np.empty((B, 2, W))  # 1 / (recruiters here + recruit_scale); recruiters
    is_dest = np.empty(O, dtype=np.bool_)
    # per-band accumulators of the day's flows
    kill_acc = np.empty((B, O, O))
    def_acc = np.empty((B, O, O))
    raid_acc = np.empty((B, O, O))  # [v, k]: v's fighters hit by k's raids
    sums = np.empty((B, 8, O))  # purge, surrender, fled, deserted, w_raid, w_combat, local,
    #                             foreign
    row_a = np.empty((O, W))
    row_b = np.empty((O, W))
    weights = np.empty((O, 3, 5, W))
    for r in range(R):
        cr = P[r, _CR]
        crowd = P[r, _INT]  # attackers in one another's way (combat.exposure)
        ar = P[r, _AR]
        rr = P[r, _RR]
        pr, fr, sr = P[r, _PR], P[r, _FR], P[r, _SR]
        dfr, bwr, dreach = P[r, _DR], P[r, _BR], P[r, _DREACH]
        lrr, rs, rev, rsb = P[r, _LRR], P[r, _RS], P[r, _REV], P[r, _RSB]
        keep_rev = _share_left(rev)

        # ---- 1. per organization
        for v in range(O):
            eff[v] = effectiveness(quality[r, v], cohesion[r, v], offensive[r, v],
                                   fortune[r, v], P[r, _OP], P[r, _SD])
            split_tot[v] = 0.0
            for k in range(O):
                eng[k, v] = search(engage[r, k, v], conventional[r, k], conventional[r, v],
                                   P[r, _CS])
                split_tot[v] += split[r, v, k]
                pull_any[v, k] = (abs(pull_s[r, v, k]) + abs(pull_l[r, v, k])
                                  + abs(split[r, v, k]))
            fear0[v] = purge_fear(purge_capacity[r, v], purge[r, v], P[r, _PCS], 1.0)
            s = 0.0
            for i in range(H):
                for j in range(W):
                    s += F[r, v, i, j]
            total[v] = s
            conv_share[v] = _share_left(conversion[r, v])
            foreign_per[v] = inflow[r, v] / s if s > 0 else 0.0
        n_atk, atk = _nonzero_rows(eng, True)            # attackers of each v
        n_rd, rd = _nonzero_rows(raid[r], True)          # raiders of each v
        n_dest, dest = _nonzero_rows(pull_any, False)    # where each v's defectors go
        n_src, src = _nonzero_rows(pull_any, True)       # whose defectors reach each k
        for k in range(O):
            is_dest[k] = n_src[k] > 0

        # ---- 2.-4. band by band, row by row: hazards, competing risks, attribution,
        # new stocks
        for b in prange(B):
            kill_acc[b] = 0.0
            def_acc[b] = 0.0
            raid_acc[b] = 0.0
            sums[b] = 0.0
            for i in range(b * H // B, (b + 1) * H // B):
                _row(F, S, r, i, visibility, conceal, cover_k, conceal_factor, protection,
                     raid_shield, purge_reach, presence, population, pull_s, pull_l, split,
                     choice,
                     appeal, evacuate, desertion, eff, eng, raid, raid_reach, fear0,
                     split_tot, conv_share, foreign_per, n_atk, atk, n_rd, rd, n_dest, dest,
                     n_src, src, is_dest, cr, crowd, ar, rr, pr, fr, sr, dfr, bwr, dreach, lrr,
                     rs, rsb, keep_rev, press[b], acc[b], arrive[b], part[b], rows[b], s_mid[b],
                     l_mid[b], inv_here[b], kill_acc[b], def_acc[b], raid_acc[b], sums[b],
                     danger, preF, preS, expo[b])

        # ---- flows by partner; leadership hits
        rks, pks = P[r, _RKS], P[r, _PKS]
        lead_x = P[r, _LE]  # leaders' exposure (counterterrorism.leader_hazard)
        for v in range(O):
            for k in range(O):
                sk = 0.0
                sd = 0.0
                for b in range(B):
                    sk += kill_acc[b, v, k]
                    sd += def_acc[b, v, k]
                killed[r, v, k] += sk
                defected[r, v, k] += sd
            tot = np.zeros(8)
            for q in range(8):
                for b in range(B):
                    tot[q] += sums[b, q, v]
            purged, surr, w_raid, w_combat = tot[0], tot[1], tot[4], tot[5]
            fled[r, v] += tot[2]
            deserted[r, v] += tot[3]
            rec_local[r, v] += tot[6]
            rec_foreign[r, v] += tot[7]
            for k in range(O):
                if raid[r, k, v] != 0.0:
                    n = 0.0
                    for b in range(B):
                        n += raid_acc[b, v, k]
                    killed[r, v, k] += rks * n
                    detained[r, v, k] += (1.0 - rks) * n
            killed[r, v, v] += pks * purged
            detained[r, v, v] += (1.0 - pks) * purged
            if surrender_to[r, v] >= 0:
                surrendered[r, v, surrender_to[r, v]] += surr
            exists = total[v] > 0
            lh = (leader_hazard(lead_x, w_raid / total[v], w_combat / total[v])
                  if exists else 0.0)
            lead_h[r, v] = lh
            p_hit = _share_left(lh)
            emir_killed[r, v] = emir_alive[r, v] and exists and leader[r, v, 0] < p_hit
            hits = 0
            if exists:
                for m in range(min(commanders[r, v], C)):
                    if leader[r, v, 1 + m] < p_hit:
                        hits += 1
            commanders_killed[r, v] = hits

        # ---- 6. movement: presence sensed from afar of what anyone seeks; the score
        for k in range(O):
            need[k] = False
            for v in range(O):
                if attract[r, v, k] != 0.0:
                    need[k] = True
        for k in prange(O):
            if need[k]:
                for i in range(H):
                    for j in range(W):
                        far[k, i, j] = F[r, k, i, j]
                for _ in range(int(P[r, _SP])):
                    _spread_inplace(far[k], SENSE_SHARE, row_a[k], row_b[k])
        n_attr, attr = _nonzero_rows(attract[r], False)
        aw = P[r, _AW]
        for v in prange(O):
            dw, cw, hw = danger_w[r, v], cover_w[r, v], home_w[r, v]
            sought = row_a[v]
            for i in range(H):
                for j in range(W):
                    sought[j] = 0.0
                for m in range(n_attr[v]):
                    k = attr[v, m]
                    at = attract[r, v, k]
                    for j in range(W):
                        sought[j] += at * far[k, i, j]
                for j in range(W):
                    danger[v, i, j] = score(danger[v, i, j], dw, sought[j], aw, cover[i, j],
                                            cw, people[i, j], hw)
        # ---- the move: a softmax over the cell and its neighbours (a neighbour's score
        # lowered by stay_bias), gathered into each cell, clipped
        mr = P[r, _MR]
        bias = P[r, _BIAS]
        for v in prange(O):
            _move(danger[v], far[v], preF[v], preS[v], F_out[r, v], S_out[r, v], mr, bias,
                  weights[v])


#: Below this, a cell's softmax is computed relative to its own best option instead of the
#: organization's best score on the grid (``exp`` would lose precision).
_TINY = 1e-300


@njit(cache=True)
def _row_weights(sc, ex, xf, xs, i, mr, eb, bias, out):
    """Share of each cell's stock of row i that moves to each option, ``out[0..4, j]``:
    stays, up, down, left, right (zero where nobody is to move). ``ex`` is
    ``exp(score - best score)`` and ``eb`` is ``exp(-stay_bias)``, so that each weight costs
    no exponential of its own; where every option is far below the best score on the
    grid, the softmax is taken relative to the cell's own best option."""
    H, W = sc.shape
    for j in range(W):
        if xf[i, j] == 0.0 and xs[i, j] == 0.0:
            for q in range(5):
                out[q, j] = 0.0
            continue
        w0 = ex[i, j]
        wu = eb * ex[i - 1, j] if i > 0 else 0.0
        wd = eb * ex[i + 1, j] if i < H - 1 else 0.0
        wl = eb * ex[i, j - 1] if j > 0 else 0.0
        wr = eb * ex[i, j + 1] if j < W - 1 else 0.0
        if max(w0, wu, wd, wl, wr) < _TINY:
            s0 = sc[i, j]
            su = sc[i - 1, j] - bias if i > 0 else -np.inf
            sd = sc[i + 1, j] - bias if i < H - 1 else -np.inf
            sl = sc[i, j - 1] - bias if j > 0 else -np.inf
            sr = sc[i, j + 1] - bias if j < W - 1 else -np.inf
            top = max(s0, su, sd, sl, sr)
            w0 = math.exp(s0 - top)
            wu = math.exp(su - top) if i > 0 else 0.0
            wd = math.exp(sd - top) if i < H - 1 else 0.0
            wl = math.exp(sl - top) if j > 0 else 0.0
            wr = math.exp(sr - top) if j < W - 1 else 0.0
        share = mr / (w0 + wu + wd + wl + wr)  # of the movers, per unit of weight
        out[0, j] = 1.0 - mr + w0 * share
        out[1, j] = wu * share
        out[2, j] = wd * share
        out[3, j] = wl * share
        out[4, j] = wr * share


@njit(cache=True)
def _move(sc, ex, xf, xs, f_out, s_out, mr, bias, ring):
    """Move one organization's stocks ``xf``, ``xs`` by the scores ``sc``; write the
    clipped result. Each cell gathers what stays and what its neighbours send it; the
    weights of rows i-1, i, i+1 live in a ring of three row buffers. ``ex`` is scratch."""
    H, W = sc.shape
    best = -np.inf
    for i in range(H):
        for j in range(W):
            best = max(best, sc[i, j])
    for i in range(H):
        for j in range(W):
            ex[i, j] = math.exp(sc[i, j] - best)
    eb = math.exp(-bias)
    _row_weights(sc, ex, xf, xs, 0, mr, eb, bias, ring[0])
    if H > 1:
        _row_weights(sc, ex, xf, xs, 1, mr, eb, bias, ring[1])
    for i in range(H):
        here = ring[i % 3]
        above = ring[(i - 1) % 3]
        below = ring[(i + 1) % 3]
        for which in range(2):
            x = xf if which == 0 else xs
            for j in range(W):
                v = x[i, j] * here[0, j]
                if i > 0:
                    v += x[i - 1, j] * above[2, j]
                if i < H - 1:
                    v += x[i + 1, j] * below[1, j]
                if j > 0:
                    v += x[i, j - 1] * here[4, j - 1]
                if j < W - 1:
                    v += x[i, j + 1] * here[3, j + 1]
                if which == 0:
                    f_out[i, j] = max(v, 0.0)
                else:
                    s_out[i, j] = min(max(v, 0.0), f_out[i, j])
        if i + 2 < H:
            _row_weights(sc, ex, xf, xs, i + 2, mr, eb, bias, ring[(i + 2) % 3])


#: Organization-cells per replicate from which a lone replicate's day is computed with
#: several threads (one organization per thread); smaller days run on one thread (the
#: parallel machinery costs more than it saves there; ensembles run replicates in worker
#: processes instead).
PARALLEL_MIN = 500_000


def _renamed(func, name: str):
    """A copy of a Python function under another name (numba caches by name)."""
    copy = types.FunctionType(func.__code__, func.__globals__, name, func.__defaults__,
                              func.__closure__)
    copy.__qualname__ = name
    return copy


#: The day on one thread, and on numba's threads (the same source: ``prange`` is ``range``
#: on one thread; each organization's work is the same either way, so both give the same
#: bits).
_day_serial = njit(cache=True)(_day)
_day_parallel = njit(cache=True, parallel=True)(_renamed(_day, "_day_parallel"))


def _choice(plan: DayPlan) -> np.ndarray:
    """``(R, 5, O)``: leniency, surrender weights (sympathizers, loyal), flight, recruiting
    ceiling; nobody surrenders without a receiver."""
    receiver = plan.surrender_to >= 0
    return np.stack([np.where(receiver, plan.leniency, 0.0),
                     np.where(receiver, plan.yield_sympathizers, 0.0),
                     np.where(receiver, plan.yield_loyal, 0.0),
                     plan.flight, plan.recruit_ceiling], axis=1)


def _full(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` as a writable C-contiguous float64 array of ``shape``: itself when it already
    is one (no copy), else a broadcast copy (one compiled signature either way)."""
    if a.shape == shape:
        return np.ascontiguousarray(a, dtype=np.float64)
    return np.array(np.broadcast_to(a, shape), dtype=np.float64, order="C")


def interact(state: KernelState, fields: CellFields, plan: DayPlan, params: np.ndarray,
             noise: Noise, parallel: bool | None = None) -> Flows:
    """Compute every flow of one day.

    Args:
        state: stocks and attributes at the start of the day.
        fields: the per-replicate cell multipliers (terrain).
        plan: what each organization decided today.
        params: ``(R, len(KERNEL_PARAMS))`` packed parameters
            (:func:`affiliate_sim.kernel.arrays.pack_params`).
        noise: the day's random draws.
        parallel: use numba's threads (default: for a lone replicate of at least
            ``PARALLEL_MIN`` organization-cells, when numba has more than one thread).

    Returns:
        The day's flows, and the stocks at the end of the day.
    """
    F = np.ascontiguousarray(state.fighters, dtype=np.float64)
    R, O, H, W = F.shape
    if parallel is None:
        parallel = R == 1 and O * H * W >= PARALLEL_MIN and numba.get_num_threads() > 1
    z3 = lambda: np.zeros((R, O, O))  # noqa: E731
    z2 = lambda: np.zeros((R, O))  # noqa: E731
    flows = Flows(killed=z3(), detained=z3(), surrendered=z3(), defected=z3(), fled=z2(),
                  deserted=z2(), recruited_local=z2(), recruited_foreign=z2(),
                  emir_killed=np.zeros((R, O), dtype=np.bool_),
                  commanders_killed=np.zeros((R, O), dtype=np.int64), leader_hazard=z2(),
                  fighters=np.empty_like(F), sympathizers=np.empty_like(F))
    scratch = [np.empty((O, H, W)) for _ in range(4)]  # danger/score, new stocks, far
    c = np.ascontiguousarray
    day = _day_parallel if parallel else _day_serial
    day(F, c(state.sympathizers, dtype=np.float64), c(state.cohesion, dtype=np.float64),
        c(state.visibility, dtype=np.float64), c(state.purge_capacity, dtype=np.float64),
        c(state.quality, dtype=np.float64), c(state.conceal, dtype=np.float64),
        c(state.conceal_against, dtype=np.float64), c(state.conventional, dtype=np.bool_),
        c(state.emir_alive, dtype=np.bool_),
        c(state.commanders, dtype=np.int64), c(state.population, dtype=np.float64),
        c(state.state_presence, dtype=np.float64), c(state.cover, dtype=np.float64),
        c(state.people, dtype=np.float64),
        c(fields.conceal_factor, dtype=np.float64), c(fields.protection, dtype=np.float64),
        c(fields.raid_shield, dtype=np.float64), c(fields.purge_reach, dtype=np.float64),
        c(plan.engage, dtype=np.float64), c(plan.offensive, dtype=np.float64),
        c(plan.raid, dtype=np.float64),
        _full(plan.raid_reach, (R, O, H, W)),
        c(plan.purge, dtype=np.float64),
        c(plan.pull_sympathizers, dtype=np.float64), c(plan.pull_loyal, dtype=np.float64),
        c(plan.split, dtype=np.float64), c(plan.surrender_to, dtype=np.int64),
        c(_choice(plan), dtype=np.float64),
        c(plan.recruit_appeal, dtype=np.float64), c(plan.foreign_inflow, dtype=np.float64),
        c(plan.conversion, dtype=np.float64), c(plan.attract, dtype=np.float64),
        c(plan.cover, dtype=np.float64), c(plan.home, dtype=np.float64),
        c(plan.danger_weight, dtype=np.float64),
        c(plan.evacuate, dtype=np.float64), c(plan.desertion, dtype=np.float64),
        c(params, dtype=np.float64), c(noise.fortune, dtype=np.float64),
        c(noise.leader, dtype=np.float64),
        flows.killed, flows.detained, flows.surrendered, flows.defected, flows.fled,
        flows.deserted, flows.recruited_local, flows.recruited_foreign, flows.emir_killed,
        flows.commanders_killed, flows.leader_hazard, flows.fighters, flows.sympathizers,
        *scratch)
    return flows


cache.guard(_day_serial, __file__)
cache.guard(_day_parallel, __file__)
