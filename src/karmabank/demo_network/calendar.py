"""Events, campaigns, posts, threads and issues over the window, and each day's weight."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from datetime import date, timedelta

from karmabank.demo_network.base import Base
from karmabank.demo_network.parts import Campaign, Catalog, Item, slugify
from karmabank.demo_network.vocabulary import (
    CAMPAIGNS,
    EVENT_TITLES,
    GITHUB_LINES,
    LINES,
    ORG_DOMAIN,
    PLACES,
    POST_TITLES,
    SITE,
    THEMES,
)


class Calendar(Base):
    """The calendar every activity is drawn against."""

    def build_calendar(self) -> None:
        rng = self.rng
        n = self.n_days
        # Events: Saturday mornings, more in spring and summer, none in late December.
        self.events: list[Item] = []
        for d in range(-7, n + 21):
            day = self.d0 + timedelta(days=d)
            if day.weekday() != 5:
                continue
            p = {1: 0.15, 2: 0.25, 8: 0.1, 12: 0.2}.get(day.month, 0.45)
            if day.month in (4, 5, 6, 9):
                p = 0.65
            if day.month == 12 and day.day >= 18:
                p = 0.0
            if rng.random() < p:
                theme = rng.choice(THEMES)
                title = rng.choice(EVENT_TITLES[theme]).format(place=rng.choice(PLACES))
                self.events.append(Item(d, theme, f"{title} ({day.isoformat()})"))
        self.event_days = [e.day for e in self.events]
        # Campaigns: the latest past occurrence of each, finished at least four weeks ago.
        self.campaigns: list[Campaign] = []
        for name, month, mday, action, theme, recurring in CAMPAIGNS:
            best: Campaign | None = None
            for year in range(self.d0.year, self.d0.year + n // 365 + 2):
                d = (date(year, month, mday) - self.d0).days
                if 0 <= d and d + 28 <= n - 1:
                    best = Campaign(f"{name} {year}" if recurring else name, d, action, theme)
            if best is not None:
                self.campaigns.append(best)
        self.campaigns.sort(key=lambda c: c.day)
        # Blog posts, forum threads and GitHub issues, starting before the window.
        self.posts = self.items(-40, 3.0, POST_TITLES, self.post_ref)
        self.threads = self.items(-20, 2.0, LINES, self.thread_ref)
        self.issues = self.items(-20, 3.5, GITHUB_LINES, self.issue_ref)
        # Day weights: seasons, weekends, growth, bursts around events and campaigns.
        w = []
        for d, day in enumerate(self.dates):
            s = {1: 0.85, 2: 0.9, 3: 1.15, 4: 1.3, 5: 1.3, 6: 1.2, 7: 1.0, 8: 0.45, 9: 1.15,
                 10: 1.1, 11: 0.95, 12: 0.85}[day.month]  # fmt: skip
            if (day.month == 12 and day.day >= 20) or (day.month == 1 and day.day <= 3):
                s = 0.3
            if day.weekday() >= 5:
                s *= 0.8
            s *= 0.75 + 0.5 * d / max(1, n)
            w.append(s)
        for e in self.events:
            for d in range(e.day - 4, e.day + 2):
                if 0 <= d < n:
                    w[d] *= 1.6
        for c in self.campaigns:
            for d in range(c.day, min(n, c.day + 15)):
                w[d] *= 1.5
        self.weight = w
        self.max_weight = max(w)

    def items(
        self,
        start: int,
        mean_gap: float,
        templates: dict[str, tuple[str, ...]],
        make_ref: Callable[[str, int], str],
    ) -> Catalog:
        rng = self.rng
        out: list[Item] = []
        seen: set[str] = set()
        d = float(start)
        while d < self.n_days:
            theme = rng.choice(THEMES)
            title = rng.choice(templates[theme]).format(place=rng.choice(PLACES))
            ref = make_ref(title, len(out) + 1)
            k = 2
            while ref in seen:
                ref = make_ref(f"{title} {k}", len(out) + 1)
                k += 1
            seen.add(ref)
            out.append(Item(int(d), theme, ref))
            d += rng.expovariate(1.0 / mean_gap)
        return Catalog(out, [it.day for it in out])

    @staticmethod
    def post_ref(title: str, n: int) -> str:
        return f"{SITE}/blog/{slugify(title)}"

    @staticmethod
    def thread_ref(title: str, n: int) -> str:
        slug = slugify(title)
        if len(slug) > 48:
            slug = slug[:48].rsplit("-", 1)[0]
        return f"https://forum.{ORG_DOMAIN}/t/{slug}/{100 + n}"

    @staticmethod
    def issue_ref(title: str, n: int) -> str:
        repo = "water-quality-data" if n % 3 else "community-map"
        return f"https://github.com/riverside-commons/{repo}/issues/{n}"

    def recent(self, catalog: Catalog, day: int, themes: tuple[str, ...]) -> Item:
        """One of the latest items published by `day`, preferably on one of `themes`."""
        items = catalog.items
        i = bisect_right(catalog.days, day)
        pool = items[max(0, i - 6) : i] or items[:1]
        liked = [it for it in pool if it.theme in themes]
        if liked and self.rng.random() < 0.75:
            return self.rng.choice(liked)
        return self.rng.choice(pool)
