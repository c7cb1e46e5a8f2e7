"""Does a kept likelihood model rank as well as a fresh one? (`measures/likelihood_refit.py`)

    .venv/bin/python bench/likelihood_refit_bench.py DB CUTOFF [--deltas 0,1,3,7]

For each δ (days): the model fitted δ before `CUTOFF` (`likelihood.fit` on the data up to
then), applied to everyone's features at `CUTOFF` with that model's window (what a plan on new
scores does with a kept fit), against who came toward us in the 30 days after `CUTOFF` (the
backtest's labels): ROC AUC. δ = 0 is the backtest's own figure (`karmabank backtest`). Also
printed: how much the data grew between the fit's time and the cutoff (what
`likelihood.refit_growth` counts) and the fit's CPU time.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from karmabank.actions.scoring import flagged_people
from karmabank.frames import micros
from karmabank.measures import backtest as bt
from karmabank.measures import likelihood as lk
from karmabank.measures.likelihood_refit import history_counts
from karmabank.measures.network import score_network
from karmabank.settings import load_measure_settings, settings_path
from karmabank.store import arrow_io
from karmabank.store.columns import ActivityColumns
from karmabank.store.likelihood import acted_asks
from karmabank.store.open import open_store


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("db")
    ap.add_argument("cutoff", help="ISO-8601, UTC")
    ap.add_argument("--deltas", default="0,1,3,7", help="days before the cutoff, comma-separated")
    args = ap.parse_args()
    cutoff = datetime.fromisoformat(args.cutoff).replace(tzinfo=UTC)
    with open_store(args.db) as store:
        s = load_measure_settings(settings_path(store.url))
        columns = ActivityColumns(store.url, store.engine, directory=store.columns_dir)
        source = columns.sync().source()
        with arrow_io.connect(store.url, store.engine) as conn:
            flags, acted = flagged_people(conn), acted_asks(conn, cutoff)
    past, _, _ = bt._split(source, cutoff)
    came = lk.acted_between(source, after=cutoff, until=cutoff + timedelta(days=30))
    scores = score_network(past, now=cutoff, settings=s, flags=flags, acted=acted).scores
    for delta in (float(d) for d in args.deltas.split(",")):
        at = cutoff - timedelta(days=delta)
        start = time.process_time()
        model = lk.fit(past, now=at, horizon_days=30, settings=s, flags=flags, asks=acted)
        cpu = time.process_time() - start
        feats = lk.features(past, now=cutoff, settings=s, flags=flags, scores=scores,
                            asks=acted, window_days=model.window_days)  # fmt: skip
        y = lk.labels_for(feats, came)
        before, later = history_counts(past, micros(at), micros(cutoff))
        print(f"cutoff {cutoff:%Y-%m-%d %H:%M}, model fitted {delta:g} days before: AUC "
              f"{lk.auc(lk.predict(model, feats), y):.4f} ({int(y.sum()):,} of {y.size:,} came; "
              f"window {model.window_days:.2f} days; data since +{later / max(before, 1):.1%}; "
              f"fit {cpu:.1f} s CPU)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
