"""The builder's state: the window, the random source, the rows so far; times within the window."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta

from karmabank.demo_network.parts import Person
from karmabank.demo_network.vocabulary import DAY, HOUR, PEER_VERBS


class Base:
    """The window of days and the one random source every draw comes from, in a fixed order."""

    def __init__(self, seed: int, now: datetime, people: int, days: int) -> None:
        self.rng = random.Random(seed)
        self.n_people = people
        now_utc = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
        self.t_end = int(now_utc.replace(microsecond=0).timestamp())
        self.t_start = self.t_end - days * DAY + 1
        self.d0: date = datetime.fromtimestamp(self.t_start, UTC).date()
        last = datetime.fromtimestamp(self.t_end, UTC).date()
        self.n_days = (last - self.d0).days + 1
        self.epoch0 = int(
            datetime(self.d0.year, self.d0.month, self.d0.day, tzinfo=UTC).timestamp()
        )
        self.dates = [self.d0 + timedelta(days=d) for d in range(self.n_days)]
        self.weekday = [day.weekday() for day in self.dates]
        self.mday = [day.day for day in self.dates]
        self.month = [day.month for day in self.dates]
        self.rows: list[tuple[int, dict[str, str]]] = []
        self.persons: list[Person] = []
        self.peer_slots: list[tuple[int, int, str]] = []  # (t, person idx, channel)
        self.first_on: dict[str, dict[int, int]] = {ch: {} for ch in PEER_VERBS}
        self.comment_rows: list[int] = []  # blog comments by network people
        self.text_rows: list[int] = []  # other texts by network people
        self.follows: set[tuple[int, int]] = set()
        self.used_keys: set[str] = set()
        self.used_names: set[str] = set()  # full names of the network's people, each once
        self.seconds: list[Person] = []  # second identities of people (and a family's mailbox)
        self.same_person: list[tuple[str, str]] = []  # (first identity, second) of one human
        self.stated: set[str] = set()  # second identities whose last row's `also` links them
        self.namesakes: tuple[str, ...] = ()  # two strangers' identities, one name
        self.shared_mailbox = ""  # the identity a family signs with two names

    # -- calendar -------------------------------------------------------------------------------

    def day_of(self, t: int) -> int:
        return (t - self.epoch0) // DAY

    def at(self, day: int, hour: float, spread: float = 2.5) -> int:
        """A time on `day` around `hour` (UTC), kept inside the window."""
        rng = self.rng
        secs = int(rng.gauss(hour * HOUR, spread * HOUR)) % DAY
        t = self.epoch0 + day * DAY + secs
        if t > self.t_end or t < self.t_start:
            lo = max(self.epoch0 + day * DAY, self.t_start)
            hi = min(self.epoch0 + (day + 1) * DAY - 1, self.t_end)
            t = rng.randint(lo, hi) if lo <= hi else min(max(t, self.t_start), self.t_end)
        return t

    def lag(self, t: int, median_hours: float, sigma: float = 0.9) -> int:
        return t + max(60, int(median_hours * HOUR * math.exp(self.rng.gauss(0.0, sigma))))
