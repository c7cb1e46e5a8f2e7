"""Planner benchmark: `maximize_influence` (IMM) on NetHEPT, against a compiled IC simulator.

    .venv/bin/python bench/planner_bench.py [--data PATH] [--k 50] [--epsilon 0.1]
                                            [--runs 10000] [--repeat 5] [--seed 0]

Data: `../shared/data/nethept/NetHEPT.txt` (first line `n m`, then `u v p`, 0-based): the
directed edges as listed with the file's probabilities (weighted cascade, p = 1/indeg(v)),
self-loops stripped, as `../shared/data/README.md` says. Its anchor: the original C++ IMM
(ε = 0.1, ℓ = 1, k = 50) reaches 1,294 ± 0.7 nodes (10,000 Monte Carlo runs).

What is timed (wall clock, this process)
    cold        the first `maximize_influence` call (NumPy throughout: nothing to compile
                or load; before 2026-12 this was Numba loading its cached kernels, ~1 s).
    warm        further calls with the same arguments (--repeat of them; best and median).
    reference   `--runs` independent cascade simulations of the warm call's seeds by
                cynetdiff (`IndependentCascadeModel.compute_marginal_gains`, all in C++),
                the fixed compiled yardstick, --repeat times (best and median).
    ratio       warm median / reference median; the target is <= 0.4 (the C++ IMM takes
                about 0.24x the reference here).

Quality: the seeds' spread by `--runs` cynetdiff simulations (reset, run to completion,
count; mean ± standard error), not timed, against the anchor: it must reach 99% of it.
Peak memory: `ru_maxrss` of this process (interpreter, numpy and the data included),
also shown just before the first call. Exit status 1 when the spread misses 99%.

A whole campaign plan at higgs-twitter's size (`--plan`, after the NetHEPT part, or alone with
`--plan-only`): `karmabank campaign plan` as a person runs it, against the IMM core alone on
the same graph.

    .venv/bin/python bench/planner_bench.py --plan-only [--plan-db /tmp/higgs-plan.db]

The database (default `/tmp/karmabank-planner-bench.db`) is imported once, when missing, with
the line of bench/README.md (`karmabank import edgelist higgs-activity_time.txt.gz --org 88
--verb-map RT=share,MT=mention,RE=reply`), and brought to the newest schema (`karmabank init`)
when it exists; a campaign `bench` (share, budget `--plan-k`, 20) is planned `--now
2012-07-08` (after the last activity).
    first plan  `plan_campaign` in this process the first time: rescore if stale, likelihood
                model fit (then cached); not the target.
    plan        further `plan_campaign` calls (--repeat; median, best): everyone's
                likelihood (read from the cache of these scores), the diffusion graph, IMM,
                communities when the cap binds, reasons, drafts, the plan written to the
                store (the asks kept for these scores deleted first, so IMM chooses each
                time). The target is <= 2 s.
    kept asks   the same, reading the asks kept for these scores (`store/plan_seeds.py`:
                what `karmabank rescore` readies for the open campaigns): no IMM.
    new scores  the same with everyone's likelihood computed and the asks chosen (both
                caches deleted first), as the first plan after any change to the data.
    IMM core    `maximize_influence` alone on the plan's graph, candidates and weights (no
                communities), --repeat times: the floor of any plan on this graph.
    reference   `--runs` cynetdiff IC simulations of the plan's seeds on the same graph (the
                fixed compiled yardstick of the NetHEPT part).
    CLI         `karmabank campaign plan bench` in --repeat fresh processes (start-up and
                imports included): median wall clock, median CPU (user + sys of the child),
                and the load average before each run (the machine may be shared).
Printed: each time, the ratios plan / IMM core and plan / reference, and the peak memory.

The first plan after new data (`--after-new-data`, alone): `--repeat` fresh processes each of
`karmabank record in other:3998 comment` (one new activity, not timed) then `karmabank campaign
plan` (which rescores first), then the same with `karmabank rescore` run (and timed) before the
plan, then that with the last fit deleted (`likelihood-fit.json`: the model due to be fitted
again, as every 7 days or 5% more data). Wall and child CPU per process, the load before each.
`--steps plan,rescore-plan,refit` (the default) names which of the three to run.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from cynetdiff.models import IndependentCascadeModel

from karmabank.graph.imm import InfluencePlan, maximize_influence
from karmabank.store import arrow_io
from karmabank.store.columns import ActivityColumns

if TYPE_CHECKING:
    from karmabank.actions.mobilization import CampaignPlan
    from karmabank.graph.diffusion import DiffusionGraph
    from karmabank.measures.settings import MeasureSettings, PlannerSettings
    from karmabank.store.open import Store

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "nethept" / "NetHEPT.txt"
IMM_ANCHOR = 1294.0  # C++ IMM, k = 50, ε = 0.1, on this file (../shared/data/README.md)

Edges = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64], int]


def load_nethept(path: Path) -> Edges:
    """(src, dst, prob, n) of the file, self-loops stripped."""
    with path.open() as f:
        n = int(f.readline().split()[0])
        rows = np.loadtxt(f, dtype=np.float64, ndmin=2)
    src, dst, prob = rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64), rows[:, 2]
    keep = src != dst
    return src[keep], dst[keep], prob[keep], n


def ic_model(edges: Edges, seed: int) -> IndependentCascadeModel:
    """cynetdiff's IC model of the graph: out-edge CSR (starts has n entries, no end)."""
    src, dst, prob, n = edges
    order = np.argsort(src, kind="stable")
    starts = np.zeros(n, dtype=np.uint32)
    starts[1:] = np.cumsum(np.bincount(src, minlength=n))[:-1]
    return IndependentCascadeModel(
        array("I", starts.tobytes()),
        array("I", dst[order].astype(np.uint32).tobytes()),
        activation_probs=array("f", prob[order].astype(np.float32).tobytes()),
        rng=seed,
    )


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


HIGGS = ROOT.parent / "shared" / "data" / "higgs-twitter" / "higgs-activity_time.txt.gz"
PLAN_NOW = "2012-07-08T00:00:00Z"
NOW = datetime(2012, 7, 8, tzinfo=UTC)


def fresh_processes(cmd: list[str], runs: int) -> tuple[list[float], list[float], list[float]]:
    """`cmd` run `runs` times as a person runs it, each a fresh process: (wall seconds, CPU
    seconds of the child, user + sys, and the 1-minute load average before each run)."""
    import os

    env = {**os.environ, "KARMABANK_NOW": PLAN_NOW}
    walls, cpus, loads = [], [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        loads.append(os.getloadavg()[0])
        start = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus, loads


@dataclass
class Runs:
    """Wall and CPU seconds (process time, all threads) of repeated calls."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def time(self, call: Callable[[], T]) -> T:
        start, start_cpu = time.perf_counter(), time.process_time()
        out = call()
        self.cpu.append(time.process_time() - start_cpu)
        self.wall.append(time.perf_counter() - start)
        return out

    def line(self) -> str:
        wall, cpu = statistics.median(self.wall), statistics.median(self.cpu)
        best, count = min(self.wall), len(self.wall)
        return f"median {wall:.3f} s, best {best:.3f} s, CPU median {cpu:.3f} s ({count} runs)"


def bench_database(db: Path, cli: list[str]) -> None:
    """The higgs bench database, imported once when missing, else brought to the newest
    schema (`karmabank init`: a database made before a migration; neither timed)."""
    if db.exists():
        subprocess.run([*cli, "init", "--db", str(db)], check=True, stdout=subprocess.DEVNULL)
        return
    if not HIGGS.exists():
        sys.exit(f"data file not found: {HIGGS}")
    print(f"importing {HIGGS.name} into {db} (once; not timed)")
    subprocess.run(
        [*cli, "import", "edgelist", str(HIGGS), "--org", "88",
         "--verb-map", "RT=share,MT=mention,RE=reply", "--db", str(db)],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def plans_in_process(
    store: Store, name: str, settings: MeasureSettings, repeat: int
) -> dict[str, Any]:
    """The first plan, further plans (the kept asks deleted first: IMM chooses each time),
    plans that read the kept asks, and plans on new scores (likelihood and asks deleted)."""
    from karmabank.actions.mobilization import plan_campaign

    def plan_once() -> CampaignPlan:
        return plan_campaign(store=store, name=name, now=NOW, settings=settings, excluded_limit=5)

    first = Runs()
    plan = first.time(plan_once)
    print(f"peak memory after the first plan: {peak_mib():.0f} MiB")
    plans, kept, fresh = Runs(), Runs(), Runs()
    cache = ActivityColumns(store.url, store.engine, directory=store.columns_dir).dir

    def drop(pattern: str) -> None:
        for f in cache.glob(pattern):
            f.unlink()

    for _ in range(repeat):
        drop("plan-seeds-*.json")
        plans.time(plan_once)
    for _ in range(repeat):
        kept.time(plan_once)
    for _ in range(repeat):
        drop("*.chance.parquet")
        drop("plan-seeds-*.json")
        fresh.time(plan_once)
    return {"plan": plan, "first": first, "plans": plans, "kept": kept, "fresh": fresh}


def plan_graph(store: Store, settings: MeasureSettings) -> tuple[DiffusionGraph, Any, Any]:
    """The plan's graph, candidates (nodes) and weights, as the planner builds them."""
    from karmabank.actions.freshness import ensure_scores
    from karmabank.actions.likelihood import likelihood_inputs
    from karmabank.graph.diffusion import diffusion_graph
    from karmabank.measures.peer_graph import peer_edges
    from karmabank.measures.planning import by_person, chance_of

    last = ensure_scores(store=store, now=NOW, settings=settings)
    model, feats = likelihood_inputs(store=store, now=NOW, settings=settings)
    ready_schema = pa.schema([("person_id", pa.int64()), ("ask_ready", pa.bool_())])
    with arrow_io.connect(store.url, store.engine) as conn:
        scores = arrow_io.read_table(
            conn, "(SELECT person_id, ask_ready FROM person_score) s", ready_schema
        )
    people = scores.column("person_id").to_numpy()
    ready = scores.column("ask_ready").to_numpy(zero_copy_only=False).astype(bool)
    candidates = people[ready]
    chance = by_person(chance_of(model, feats), people)
    whole = diffusion_graph(peer_edges(last.snapshot(store).activities(), NOW), also=candidates)
    graph = whole.within_reach(whole.nodes_of(candidates))
    weights = np.zeros(graph.n)
    known = np.isin(people, graph.people)
    weights[graph.nodes_of(people[known])] = chance[known]
    return graph, graph.nodes_of(candidates), weights


def core_and_reference(
    graph: DiffusionGraph, candidates: Any, weights: Any, p: PlannerSettings, plan: CampaignPlan,
    k: int, repeat: int, runs: int, seed: int,
) -> tuple[Runs, Runs]:  # fmt: skip
    """IMM alone on the plan's graph (no communities), and the cynetdiff reference."""
    kk = min(k, len(candidates))

    def core_once() -> None:
        got = maximize_influence(
            graph.src, graph.dst, graph.prob, graph.n, kk, epsilon=p.epsilon, ell=p.ell,
            candidates=candidates, weights=weights, seed=p.seed, cap_rr_sets=p.max_rr_sets,
        )  # fmt: skip
        assert got.seeds.size

    core_once()
    core, ref = Runs(), Runs()
    for _ in range(repeat):
        core.time(core_once)
    seeds = graph.nodes_of([a.person["id"] for a in plan.asks]).tolist()
    model_ic = ic_model((graph.src, graph.dst, graph.prob, graph.n), seed)
    for _ in range(repeat):
        ref.time(lambda: model_ic.compute_marginal_gains(seeds, [], runs))
    return core, ref


def plan_bench(db: Path, k: int, repeat: int, runs: int, seed: int) -> int:
    """The whole plan at higgs size against the IMM core alone (see the module docstring)."""
    from karmabank.actions.campaigns import new_campaign
    from karmabank.errors import ConfigError
    from karmabank.settings import load_measure_settings, settings_path
    from karmabank.store.open import open_store

    cli = [sys.executable, "-m", "karmabank"]
    bench_database(db, cli)
    name = f"bench-{k}"
    with open_store(str(db)) as store:
        settings = load_measure_settings(settings_path(store.url))
        try:
            new_campaign(store=store, name=name, action="share", budget=k, now=NOW)
        except ConfigError:  # it exists from an earlier run
            pass
        timed = plans_in_process(store, name, settings, repeat)
        graph, candidates, weights = plan_graph(store, settings)
        plan = timed["plan"]
        core, ref = core_and_reference(graph, candidates, weights, settings.planner, plan, k,
                                       repeat, runs, seed)  # fmt: skip
    cli_wall, cli_cpu, loads = fresh_processes([*cli, "campaign", "plan", name, "--db", str(db)],
                                               repeat)  # fmt: skip
    print(
        f"plan at higgs size: {graph.n:,} people within reach of {len(candidates):,} ask-ready "
        f"candidates, {len(graph.src):,} edges; {len(plan.asks)} asks of {k}, "
        f"expected reach {plan.expected_reach:,.1f}, {plan.rr_sets:,} RR sets"
    )
    print(f"first plan (rescore if stale, model fit): {timed['first'].line()}")
    print(f"plan: {timed['plans'].line()}; target <= 2 s")
    print(f"plan on the asks kept for these scores (IMM not run): {timed['kept'].line()}")
    print(f"plan on new scores (everyone's likelihood computed, not read): {timed['fresh'].line()}")
    print(f"IMM core alone: {core.line()}")
    print(f"reference ({runs:,} cynetdiff IC runs of the seeds): {ref.line()}")
    med, fresh = statistics.median(timed["plans"].wall), statistics.median(timed["fresh"].wall)
    c_core = statistics.median(core.wall)
    print(f"ratio plan/IMM core: {med / c_core:.1f} wall, "
          f"{statistics.median(timed['plans'].cpu) / statistics.median(core.cpu):.1f} CPU "
          f"(new scores: {fresh / c_core:.1f} wall); "
          f"plan/reference: {med / statistics.median(ref.wall):.2f}")  # fmt: skip
    print(f"CLI `karmabank campaign plan` (fresh process, start-up included, {repeat} runs): "
          f"median {statistics.median(cli_wall):.3f} s wall (runs "
          f"{', '.join(f'{x:.2f}' for x in cli_wall)}), CPU (user + sys) median "
          f"{statistics.median(cli_cpu):.3f} s (runs {', '.join(f'{x:.2f}' for x in cli_cpu)}); "
          f"load average {min(loads):.1f}-{max(loads):.1f}")  # fmt: skip
    print(f"peak memory: {peak_mib():.0f} MiB (ru_maxrss)")
    return 0


def simulated_spread(edges: Edges, seeds: list[int], runs: int, seed: int) -> tuple[float, float]:
    """The seeds' spread in `runs` cynetdiff IC runs: (mean, standard error)."""
    model = ic_model(edges, seed)
    model.set_seeds(seeds)
    spreads = np.empty(runs, dtype=np.float64)
    for i in range(runs):
        model.reset_model()
        model.advance_until_completion()
        spreads[i] = model.get_num_activated_nodes()
    stderr = float(spreads.std(ddof=1) / np.sqrt(runs)) if runs > 1 else 0.0
    return float(spreads.mean()), stderr


def nethept_bench(args: argparse.Namespace) -> int:
    """IMM on NetHEPT: cold and warm calls, the reference, the spread (module docstring)."""
    edges = load_nethept(args.data)
    src, dst, prob, n = edges
    print(f"graph: {args.data.name}, {n:,} nodes, {src.size:,} edges (self-loops stripped)")
    print(f"peak memory before the first call: {peak_mib():.0f} MiB")

    def plan_once() -> InfluencePlan:
        return maximize_influence(src, dst, prob, n, args.k, epsilon=args.epsilon, seed=args.seed)

    cold, warm, ref = Runs(), Runs(), Runs()
    cold.time(plan_once)
    print(f"peak memory after the first call: {peak_mib():.0f} MiB")
    for _ in range(args.repeat):
        plan = warm.time(plan_once)
    seeds = [int(s) for s in plan.seeds]
    model = ic_model(edges, args.seed)
    for _ in range(args.repeat):
        ref.time(lambda: model.compute_marginal_gains(seeds, [], args.runs))
    spread, stderr = simulated_spread(edges, seeds, args.runs, args.seed + 1)
    print(
        f"IMM k={args.k} eps={args.epsilon}: {plan.rr_sets:,} RR sets "
        f"(theta {plan.theta:,}, LB {plan.lower_bound:,.1f}), "
        f"estimated spread {plan.spread_estimate:,.1f}"
    )
    print(f"cold call (the first in the process): {cold.line()}")
    print(f"warm call: {warm.line()}")
    print(f"reference ({args.runs:,} cynetdiff IC runs of the seeds): {ref.line()}")
    ratio = statistics.median(warm.wall) / statistics.median(ref.wall)
    print(f"ratio warm/reference: {ratio:.3f} (target <= 0.4)")
    pct = 100.0 * spread / args.anchor if args.anchor > 0 else float("nan")
    print(
        f"spread (cynetdiff, {args.runs:,} runs): {spread:,.1f} ± {stderr:.1f} "
        f"= {pct:.1f}% of {args.anchor:,.0f} (target >= 99%)"
    )
    print(f"peak memory: {peak_mib():.0f} MiB (ru_maxrss)")
    if args.anchor > 0 and spread < 0.99 * args.anchor:
        print("FAIL: spread below 99% of the anchor")
        return 1
    return 0


def _timed(cmd: list[str]) -> tuple[float, float]:
    """Wall and child CPU seconds of one fresh process of `cmd` (KARMABANK_NOW = PLAN_NOW)."""
    wall, cpu, _ = fresh_processes(cmd, 1)
    return wall[0], cpu[0]


STEPS = ("plan", "rescore-plan", "refit")  # the three ways of `--after-new-data`, in order


def after_new_data(db: Path, k: int, repeat: int, steps: tuple[str, ...] = STEPS) -> int:
    """The first plan after new data, as a person runs it (module docstring): each run records
    one inbound activity (`karmabank record`, a new time each run, not timed), then times
    `karmabank campaign plan` (it rescores), or `karmabank rescore` then the plan; the same
    with the last fit deleted first (the model due to be fitted again)."""
    import os

    from karmabank.actions.campaigns import new_campaign
    from karmabank.errors import ConfigError
    from karmabank.store.open import open_store

    cli = [sys.executable, "-m", "karmabank"]
    bench_database(db, cli)
    name = f"bench-{k}"
    with open_store(str(db)) as store:
        try:
            new_campaign(store=store, name=name, action="share", budget=k, now=NOW)
        except ConfigError:  # it exists from an earlier run
            pass
        folder = store.columns_dir
    plan, on = [*cli, "campaign", "plan", name, "--db", str(db)], ["--db", str(db)]
    subprocess.run(plan, check=True, env={**os.environ, "KARMABANK_NOW": PLAN_NOW},
                   stdout=subprocess.DEVNULL)  # the model fitted once, not timed  # fmt: skip
    minute = 0
    for step, label, rescore_first, refit in (
        ("plan", "record, then campaign plan (it rescores), model kept", False, False),
        ("rescore-plan", "record, rescore, then campaign plan (timed), model kept", True, False),
        ("refit", "record, rescore, then campaign plan (timed), model due (its fit deleted)",
         True, True),
    ):  # fmt: skip
        if step not in steps:
            continue
        rows = []
        for _ in range(repeat):
            minute += 1
            at = f"2012-07-07T{20 + minute // 60:02d}:{minute % 60:02d}:00Z"
            _timed([*cli, "record", "in", "other:3998", "comment", "--at", at, *on])
            if refit:
                for f in folder.glob("likelihood-fit*.json"):
                    f.unlink()
            load = os.getloadavg()[0]
            rescored = _timed([*cli, "rescore", *on]) if rescore_first else None
            rows.append((load, rescored, _timed(plan)))
        print(f"{label}, {repeat} fresh processes each:")
        for load, rescored, (wall, cpu) in rows:
            r = f"rescore {rescored[0]:.2f} s wall, {rescored[1]:.2f} s CPU; " if rescored else ""
            print(f"  load {load:.1f}: {r}plan {wall:.2f} s wall, {cpu:.2f} s CPU")
        walls, cpus = [w for _, _, (w, _) in rows], [c for _, _, (_, c) in rows]
        print(f"  plan median {statistics.median(walls):.2f} s wall, "
              f"{statistics.median(cpus):.2f} s CPU")  # fmt: skip
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="NetHEPT-format edge file")
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--epsilon", type=float, default=0.1)
    ap.add_argument("--runs", type=int, default=10_000, help="IC simulations (reference, spread)")
    ap.add_argument("--repeat", type=int, default=5, help="warm calls and reference runs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--anchor", type=float, default=IMM_ANCHOR, help="spread to reach 99%% of")
    ap.add_argument("--plan", action="store_true", help="then a whole plan at higgs size")
    ap.add_argument("--plan-only", action="store_true", help="only the plan at higgs size")
    ap.add_argument("--plan-db", type=Path, default=Path("/tmp/karmabank-planner-bench.db"))
    ap.add_argument("--plan-k", type=int, default=20, help="the plan's budget of asks")
    ap.add_argument(
        "--after-new-data",
        action="store_true",
        help="only the first plan after new data at higgs size (fresh processes)",
    )
    ap.add_argument(
        "--steps",
        default=",".join(STEPS),
        help=f"with --after-new-data: which of {', '.join(STEPS)} (comma-separated)",
    )
    args = ap.parse_args()
    if args.after_new_data:
        steps = tuple(args.steps.split(","))
        if not set(steps) <= set(STEPS):
            sys.exit(f"--steps: each of {', '.join(STEPS)}")
        return after_new_data(args.plan_db, args.plan_k, args.repeat, steps)
    if args.plan_only:
        return plan_bench(args.plan_db, args.plan_k, args.repeat, args.runs, args.seed)
    if not args.data.exists():
        sys.exit(f"data file not found: {args.data}")
    status = nethept_bench(args)
    if status == 0 and args.plan:
        return plan_bench(args.plan_db, args.plan_k, args.repeat, args.runs, args.seed)
    return status


if __name__ == "__main__":
    sys.exit(main())
