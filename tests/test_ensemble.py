"""Ensembles: R replicates in one model, each bit-identical to a run of its own.

* For every one of the nine cases, replicate r of an ensemble equals the single run with
  r's seed: the same histories (every buffer, bit for bit) and the same events.
* Every parameter broadcasts per replicate: an ensemble of different parameter sets equals
  the single runs of those sets.
* Random streams are kept per replicate and per process, so a knock-out of a mechanism that
  cannot act in a case (the coalition in Algeria) changes nothing at all, and the numbers a
  process draws depend only on the seed, the process, the draw site and the day.
* The one run path gives the same results whatever the grouping and the workers.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from affiliate_sim.experiments.runs import RunSpec, execute, finished_run
from affiliate_sim.model import AffiliateModel
from affiliate_sim.model.streams import Streams
from affiliate_sim.paths import CALIBRATED
from affiliate_sim.scenario import CASES, load_scenario
from affiliate_sim.scenario.params import load_params, without

SEEDS = [7, 0, 3]


@pytest.fixture(scope="module")
def calibrated():
    return load_params(CALIBRATED)


def assert_same_run(a, b, where=""):
    """Two runs (:class:`~affiliate_sim.model.Run`) identical: every history buffer bit for
    bit, the events, the camps and kinds at the end."""
    ha, hb = a.history, b.history
    for group in ("stocks", "flows", "pairs"):
        for k, v in getattr(ha, group).items():
            np.testing.assert_array_equal(v, getattr(hb, group)[k],
                                          err_msg=f"{where}{group}[{k}]")
    np.testing.assert_array_equal(ha.region_cells, hb.region_cells, err_msg=where)
    np.testing.assert_array_equal(ha.region_fighters, hb.region_fighters, err_msg=where)
    assert ha.snapshots.keys() == hb.snapshots.keys()
    for d in ha.snapshots:
        np.testing.assert_array_equal(ha.snapshots[d], hb.snapshots[d])
    assert a.events == b.events, f"{where}events differ"
    np.testing.assert_array_equal(a.camp, b.camp)
    np.testing.assert_array_equal(a.kind, b.kind)


@pytest.mark.parametrize("case", CASES)
def test_replicate_equals_single_run(case, calibrated):
    sc = load_scenario(case)
    ens = AffiliateModel(sc, calibrated, seeds=SEEDS).run()
    for r, seed in enumerate(SEEDS):
        single = AffiliateModel(sc, calibrated, rng=seed).run()
        assert_same_run(ens.record(r), single.record(0), f"{case} seed {seed}: ")
    # the replicates are different histories, not copies
    assert not np.array_equal(ens.record(0).history.stocks["fighters"],
                              ens.record(1).history.stocks["fighters"])


def test_parameters_broadcast_per_replicate(calibrated):
    sc = load_scenario("somalia_2015")
    sets = [calibrated, dataclasses.replace(calibrated, purge_capacity_scale=0.2),
            dataclasses.replace(calibrated, state_vigilance=0.9, combat_rate=0.08)]
    ens = AffiliateModel(sc, sets, seeds=[1, 1, 1], days=150).run()
    for r, p in enumerate(sets):
        single = AffiliateModel(sc, p, rng=1, days=150).run()
        assert_same_run(ens.record(r), single.record(0), f"set {r}: ")
    f = [ens.record(r).history.stocks["fighters"] for r in range(3)]
    assert not np.array_equal(f[0], f[1]) and not np.array_equal(f[0], f[2])


def test_knockout_of_a_mechanism_that_cannot_act_changes_nothing(calibrated):
    """No coalition can form in Algeria (no local group faces an outsider there): switched
    off, every other process draws the same numbers, so the history is identical."""
    sc = load_scenario("algeria_2014")
    full = AffiliateModel(sc, calibrated, seeds=range(5)).run()
    off = AffiliateModel(sc, without(calibrated, "coalition"), seeds=range(5)).run()
    for r in range(5):
        assert_same_run(full.record(r), off.record(r), f"replicate {r}: ")
    assert not any(e["kind"] == "coalition_formed" for r in range(5)
                   for e in full.record(r).events)


def test_knockout_that_acts_changes_the_history(calibrated):
    """Not vacuous: switching off a mechanism that acts in a case does change it."""
    sc = load_scenario("somalia_2015")
    full = AffiliateModel(sc, calibrated, rng=2).run()
    off = AffiliateModel(sc, without(calibrated, "purge"), rng=2).run()
    assert not np.array_equal(full.history.stocks["fighters"], off.history.stocks["fighters"])


def test_streams_depend_only_on_seed_process_site_and_day():
    a = Streams([4, 9], block=5)
    b = Streams([9], block=3)
    got_a, got_b = {}, {}
    for day in range(12):
        a.day = b.day = day
        got_a[day] = a.of("combat").uniform("open", (3,))
        if day % 2:  # another process, and another site, drawn only on some days
            a.of("purge").uniform("x", (2, 2))
        if day >= 4:  # a stream first used later
            got_b[day] = b.of("combat").uniform("open", (3,))
    for day in range(4, 12):
        np.testing.assert_array_equal(got_a[day][1], got_b[day][0])
    assert not np.array_equal(got_a[5][0], got_a[5][1])  # replicates differ
    c = Streams([4])
    c.day = 0
    assert not np.array_equal(c.of("purge").uniform("open", (3,))[0], got_a[0][0])
    with pytest.raises(RuntimeError, match="twice"):
        c.of("purge").uniform("open", (3,))


def test_one_run_path_same_results_whatever_the_grouping(calibrated):
    sc = {c: load_scenario(c) for c in ("imu_2015", "yemen_2015")}
    specs = [RunSpec.of(sc[c], calibrated, s, 90) for c in sc for s in range(5)]
    specs.append(RunSpec.of(sc["imu_2015"], without(calibrated, "retaliation"), 2, 90))
    alone = execute(specs, workers=1, ensemble=1, collect=finished_run)
    grouped = execute(specs, workers=1, ensemble=64, collect=finished_run)
    parallel = execute(specs, workers=2, ensemble=3, collect=finished_run)
    for k, spec in enumerate(specs):
        where = f"{spec.scenario.name} seed {spec.seed}: "
        assert_same_run(alone[k], grouped[k], where)
        assert_same_run(alone[k], parallel[k], where)
    assert alone[-1].params.on("retaliation") is False


@pytest.mark.parametrize("workers", [1, 2])
def test_a_killed_execute_resumes_the_ensembles_it_had_not_finished(calibrated, tmp_path,
                                                                     monkeypatch, workers):
    from affiliate_sim.experiments import runs

    sc = {c: load_scenario(c) for c in ("imu_2015", "yemen_2015")}
    specs = [RunSpec.of(sc[c], calibrated, s, 60) for c in sc for s in range(3)]
    whole = execute(specs, workers=workers, ensemble=3)
    ck = tmp_path / "ck"

    def dies(done, total):
        if done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        execute(specs, workers=workers, ensemble=3, checkpoint=ck, progress=dies)
    assert len(list(ck.glob("task-*.pkl"))) >= 1
    ran = []
    real = runs.run_ensemble
    monkeypatch.setattr(runs, "run_ensemble", lambda sp, *a: ran.append(len(sp)) or
                        real(sp, *a))
    seen = []
    again = execute(specs, workers=workers, ensemble=3, checkpoint=ck,
                    progress=lambda d, n: seen.append(d))
    assert ran == [3] and seen == [3, 6]  # only the ensemble the killed call had not run
    for a, b in zip(whole, again, strict=True):
        np.testing.assert_array_equal(a.fighters, b.fighters)
        np.testing.assert_equal(a.values, b.values)
        assert a.met == b.met
    ran.clear()
    execute(specs[:5], workers=workers, ensemble=3, checkpoint=ck)  # other specs
    if workers == 1:
        assert sum(ran) == 5  # nothing of the other call trusted
    import pickle
    kept = [len(pickle.loads(f.read_bytes())) for f in sorted(ck.glob("task-*.pkl"))]
    assert kept == [3, 2]  # the store now holds the new call's ensembles only


@pytest.mark.slow
def test_pool_workers_compile_the_kernel_from_a_cold_cache(tmp_path):
    """A pool's worker processes compile the kernel when numba's cache is empty (a fresh
    install) and give the serial results: nothing in a worker starts numba's threads
    before its first compilation (which would refuse the worker's thread setting)."""
    import os
    import subprocess
    import sys

    script = tmp_path / "cold.py"
    script.write_text(
        "import json, sys\n"
        "from affiliate_sim.experiments.runs import Pool, RunSpec, execute\n"
        "from affiliate_sim.scenario import load_scenario\n"
        "from affiliate_sim.scenario.params import Params\n"
        "if __name__ == '__main__':\n"
        "    sc = load_scenario('yemen_2015')\n"
        "    specs = [RunSpec.of(sc, Params(), s, 30) for s in range(4)]\n"
        "    with Pool(2) as pool:\n"
        "        res = execute(specs, workers=pool, ensemble=2)\n"
        "    json.dump([r.values for r in res], sys.stdout)\n", encoding="utf-8")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=900, env=env, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert list((tmp_path / "cache").rglob("*.nbi"))  # it did compile into the empty cache
    sc = load_scenario("yemen_2015")
    from affiliate_sim.scenario.params import Params

    serial = execute([RunSpec.of(sc, Params(), s, 30) for s in range(4)])
    import json

    assert json.loads(res.stdout) == json.loads(json.dumps([r.values for r in serial]))
