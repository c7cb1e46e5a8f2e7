"""Identity resolution on the seeded cross-platform world (issue 15's quality bar).

    .venv/bin/python bench/identity_bench.py [--personas 2000] [--seeds 1 2 3]

For each seed, on `karmabank.demo_network.identity_world.generate(seed=, personas=)`:
1. karmabank's model (`measures.identity.linkage.candidates`, the default `LinkageSettings`):
   `auto` pairs (what `merge auto` merges) and auto + every `review` suggestion accepted, both
   measured after the merges they imply (transitive closure), plus the number of suggestions;
2. splink's defaults on the same features: `NameComparison` on the name (term-frequency
   adjusted), array intersections on the handles and domains, u by random sampling, m by EM
   (blocked on the name, then on the surname and initial), the same blocking rules; pairs at
   0.99 as `auto` and at 0.5 as suggestions;
3. a plain exact-name rule: two persons with the same full name (folded) are one;
4. profile links alone: the share of true account pairs an import already joins.
Precision and recall are pairwise over persons; times are wall seconds of the linkage alone.

    .venv/bin/python bench/identity_bench.py --scale 100000

times `candidates` alone (and its features) on a world of that many personas, with the peak RSS.
"""

from __future__ import annotations

import argparse
import logging
import time

import pyarrow as pa

from karmabank.demo_network.identity_world import generate
from karmabank.measures.identity.evaluation import Quality, quality
from karmabank.measures.identity.features import features, persons_table
from karmabank.measures.identity.linkage import blocking_rules, candidates
from karmabank.measures.settings import LinkageSettings


def splink_defaults(table: pa.Table, *, seed: int) -> tuple[list[tuple[int, int, float]], float]:
    """Pairs with their probability from splink's library comparisons trained with EM."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    start = time.perf_counter()
    feats = features(table)
    db = DuckDBAPI(duckdb.connect())
    creator = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("name_raw").configure(term_frequency_adjustments=True),
            cl.ArrayIntersectAtSizes("handles", [1]),
            cl.ArrayIntersectAtSizes("domains", [1]),
        ],
        blocking_rules_to_generate_predictions=blocking_rules(),
    )
    linker = Linker(db.register(feats), creator, log_level=None)
    linker.training.estimate_u_using_random_sampling(max_pairs=3e6, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_raw"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("last", "initial"))
    pred = linker.inference.predict(threshold_match_probability=0.01).as_pyarrow_table()  # type: ignore[no-untyped-call]
    pairs = [(min(a, b), max(a, b), p) for a, b, p in zip(
        pred.column("unique_id_l").to_pylist(), pred.column("unique_id_r").to_pylist(),
        pred.column("match_probability").to_pylist(), strict=True)]  # fmt: skip
    return pairs, time.perf_counter() - start


def exact_name(table: pa.Table) -> list[tuple[int, int]]:
    by: dict[str, list[int]] = {}
    feats = features(table)
    for pid, name in zip(feats.column("unique_id").to_pylist(),
                         feats.column("name_raw").to_pylist(), strict=True):  # fmt: skip
        if name:
            by.setdefault(name, []).append(pid)
    return [(a, b) for ids in by.values() for i, a in enumerate(ids) for b in ids[i + 1 :]]


def line(label: str, q: Quality, extra: str = "") -> str:
    numbers = f"precision {q.precision:.3f}  recall {q.recall:.3f}"
    return f"  {label:<34} pairs {q.pairs:6d}  {numbers}{extra}"


def one_world(seed: int, personas: int) -> None:
    world = generate(seed=seed, personas=personas)
    truth = world.true_pairs()
    table = persons_table(world.rows())
    print(f"seed {seed}: {len(world.accounts)} accounts, {len(world.persons)} persons, "
          f"{len(truth)} true pairs; profile links alone join "
          f"{world.linked_share():.1%} of true account pairs")  # fmt: skip
    start = time.perf_counter()
    found = candidates(table, settings=LinkageSettings())
    took = time.perf_counter() - start
    auto = [(c.a, c.b) for c in found if c.action == "auto"]
    every = [(c.a, c.b) for c in found]
    print(line("karmabank auto", quality(auto, truth), f"  ({took:.1f} s)"))
    print(line("karmabank auto + all suggestions", quality(every, truth),
               f"  ({len(found) - len(auto)} review suggestions)"))  # fmt: skip
    print(line("  same, pair by pair (auto)", quality(auto, truth, merged=False)))
    print(line("  same, pair by pair (all)", quality(every, truth, merged=False)))
    pairs, took = splink_defaults(table, seed=seed)
    print(line("splink defaults, p >= 0.99", quality([(a, b) for a, b, p in pairs if p >= 0.99],
                                                     truth), f"  ({took:.1f} s)"))  # fmt: skip
    print(line("splink defaults, p >= 0.5", quality([(a, b) for a, b, p in pairs if p >= 0.5],
                                                    truth)))  # fmt: skip
    print(line("exact full name", quality(exact_name(table), truth)))


def scale(personas: int) -> None:
    """Time and peak memory of `candidates` alone on a world of `personas`."""
    import resource

    world = generate(seed=1, personas=personas)
    table = persons_table(world.rows())
    del world
    start = time.perf_counter()
    feats = features(table)
    took_features = time.perf_counter() - start
    del feats
    found = candidates(table, settings=LinkageSettings())
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{table.num_rows} persons: candidates {took:.1f} s (features {took_features:.1f} s), "
        f"{len(found)} pairs, peak RSS {peak:.0f} MB (the world's Python objects included)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--personas", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--scale", type=int, help="only time candidates on this many personas")
    args = parser.parse_args()
    logging.getLogger("splink").setLevel(logging.WARNING)
    if args.scale:
        scale(args.scale)
        return
    for seed in args.seeds:
        one_world(seed, args.personas)


if __name__ == "__main__":
    main()
