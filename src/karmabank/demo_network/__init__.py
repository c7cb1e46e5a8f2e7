"""A deterministic, realistic demo network for a fictional nonprofit, "Riverside Commons".

Riverside Commons is a community land & river-cleanup association. `generate` returns the rows of
a CSV the `csv` importer reads (see `CSV_COLUMNS`), plus the identities a community manager would
flag: the team, the bots and the people who asked not to be contacted.

The shape is meant to look like a real network, so the measures have something to find:
- heavy-tailed activity (Pareto): a few people are very active, most have one to three rows;
- people join over time (more recently than not, some in the last 30 days); each has a rhythm
  (weekly, monthly, seasonal or anytime), some went quiet months ago, a few came back recently;
- bursts around events and campaigns, quiet weeks in August and at the end of December;
- each person has one or two favourite themes, which their comments are about;
- a peer graph grown by preferential attachment (hubs), with a pull towards shared themes;
- the organization gives (replies, thanks, welcomes, shares) with a realistic lag, asks a few
  people during a handful of past campaigns, and people who received more respond more often.
- one full name is one human, but for the cases a person should review: a dozen people per
  3,000 are seen on two channels (a second identity, under their name, a nickname or an
  initial; three of them linked by a row's `also`), two strangers share a name (both by email),
  and a family's mailbox is signed by two names. `DemoNetwork` says which (the truth).

Pure: no database, no clock, no I/O except `write_csv`. Everything is drawn from one
`random.Random(seed)` in a fixed order, so the same `seed` and `now` give identical rows.
"""

from __future__ import annotations

from datetime import datetime

from karmabank.demo_network.builder import Builder
from karmabank.demo_network.network import CSV_COLUMNS, DemoNetwork, write_csv

__all__ = ["CSV_COLUMNS", "DemoNetwork", "generate", "write_csv"]


def generate(*, seed: int = 7, now: datetime, people: int = 3000, days: int = 730) -> DemoNetwork:
    """Generate the Riverside Commons network: `people` people over the `days` before `now`.

    A naive `now` is taken as UTC. Every row's time is in `(now - days, now]`.
    """
    if people < 1:
        raise ValueError("people must be at least 1")
    if days < 1:
        raise ValueError("days must be at least 1")
    return Builder(seed, now, people, days).build()
