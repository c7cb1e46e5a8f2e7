"""The people: names, identities, themes, rhythms and when they were active."""

from __future__ import annotations

from karmabank.demo_network.calendar import Calendar
from karmabank.demo_network.parts import Person, plain
from karmabank.demo_network.vocabulary import (
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    MASTODON_HOSTS,
    ORG_DOMAIN,
    TEAM,
    THEMES,
    WEB_DOMAINS,
)


class People(Calendar):
    """The people of the network and the team."""

    def unique(self, make: str) -> str:
        key = make
        k = 2
        while key in self.used_keys:
            base, sep, rest = make.partition("@") if make.startswith("email:") else (make, "", "")
            key = f"{base}{k}{sep}{rest}" if sep else self.suffixed(make, k)
            k += 1
        self.used_keys.add(key)
        return key

    @staticmethod
    def suffixed(identity: str, k: int) -> str:
        platform, _, key = identity.partition(":")
        if platform == "mastodon":
            user, host = key[1:].split("@", 1)
            return f"mastodon:@{user}{k}@{host}"
        if platform == "bluesky":
            head, _, tail = key.partition(".")
            return f"bluesky:{head}{k}.{tail}"
        if platform == "web":
            scheme, _, rest = key.partition("://")
            head, _, tail = rest.partition(".")
            return f"web:{scheme}://{head}{k}.{tail}"
        return f"{identity}{k}"

    def identity(self, platform: str, first: str, last: str) -> str:
        rng = self.rng
        f, la = plain(first), plain(last)
        if platform == "email":
            user = rng.choice(
                (f"{f}.{la}", f"{f}{la[0]}", f"{f[0]}{la}", f"{f}_{la}{rng.randint(1, 99)}")
            )
            return self.unique(f"email:{user}@{rng.choice(EMAIL_DOMAINS)}")
        if platform == "mastodon":
            user = rng.choice((f, f"{f}_{la}", f"{f}{la}", f"{f}{rng.randint(1, 999)}"))
            return self.unique(f"mastodon:@{user}@{rng.choice(MASTODON_HOSTS)}")
        if platform == "bluesky":
            handle = rng.choice((f"{f}{la}.bsky.social", f"{f}-{la}.bsky.social", f"{f}.{la}.net"))
            return self.unique(f"bluesky:{handle}")
        if platform == "github":
            return self.unique(f"github:{rng.choice((f'{f}{la[0]}', f'{f}-{la}', f'{f[0]}{la}'))}")
        return self.unique(f"web:https://{rng.choice((f + la, f))}.{rng.choice(WEB_DOMAINS)}")

    def make_people(self) -> None:
        """The network's people, in index order; then its hubs and who asked for quiet; then
        the team (every draw in the same order as ever: the demo's bytes depend on it)."""
        rng = self.rng
        self.used_names.update(name for name, _ in TEAM)
        for i in range(self.n_people):
            self.persons.append(self.new_person(i))
        by_count = sorted(self.persons, key=lambda p: (-p.n, p.idx))
        for p in by_count[: max(1, self.n_people // 100)]:
            p.hub = True
        k = round(self.n_people * 0.02)
        for i in sorted(rng.sample(range(self.n_people), k)):
            self.persons[i].dnc = True
        self.add_team()

    def new_person(self, i: int) -> Person:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        while f"{first} {last}" in self.used_names:  # one name, one person: draw again
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        self.used_names.add(f"{first} {last}")
        platform, profile, peer_channel = self.channels()
        themes = tuple(rng.sample(THEMES, 1 if rng.random() < 0.6 else 2))
        segments, count = self.active_segments()
        rhythm = rng.choices(("weekly", "monthly", "seasonal", "anytime"), (25, 20, 20, 35))[0]
        season = {
            "river": range(4, 10), "trees": (10, 11, 12, 1, 2, 3, 4),
            "gardens": range(3, 10), "streets": range(5, 11),
        }[themes[0]]  # fmt: skip
        name = f"{first} {last}"
        return Person(
            idx=i, name=name, first=first, identity=self.identity(platform, first, last),
            platform=platform, profile=profile, peer_channel=peer_channel, themes=themes,
            n=count, segments=segments, rhythm=rhythm, wday=rng.randrange(7),
            mday=rng.randint(1, 26), months=frozenset(season),
            hour=min(22.0, max(6.0, rng.gauss(15.0, 3.5))),
        )  # fmt: skip

    def channels(self) -> tuple[str, str, str]:
        """A person's platform, profile (a key of KINDS) and the channel of their peer rows."""
        rng = self.rng
        platform = rng.choices(
            ("email", "mastodon", "bluesky", "github", "web"), (50, 18, 17, 7, 8)
        )[0]
        if platform == "email":
            profile = "forum" if rng.random() < 0.35 else "email"
            return platform, profile, "forum" if profile == "forum" else "blog"
        if platform in ("mastodon", "bluesky"):
            return platform, "social", platform
        if platform == "github":
            return platform, "github", "github"
        return platform, "web", "blog"

    def active_segments(self) -> tuple[list[tuple[int, int]], int]:
        """Segments of activity (joined some day, maybe went quiet, maybe came back), and how
        many rows the person leaves in them."""
        rng = self.rng
        n = self.n_days
        u = rng.random()
        if u < 0.03:
            start = rng.randint(max(0, n - 30), n - 1)
        elif u < 0.4:
            start = 0
        else:
            start = rng.randint(0, max(0, n - 31))
        segments = [(start, n - 1)]
        v = rng.random()
        if v < 0.22 and start < n - 150:
            segments = [(start, rng.randint(start + 20, n - 75))]
        elif v < 0.29 and start < n - 260:
            back = rng.randint(n - 45, n - 1)
            segments = [(start, rng.randint(start + 10, n - 210)), (back, n - 1)]
        span = sum(b - a + 1 for a, b in segments)
        count = min(400, int(rng.paretovariate(1.2) * 1.3), max(1, int(span * 0.6)))
        if len(segments) == 2:
            count = max(count, 3)
        return segments, count

    def add_team(self) -> None:
        for name, user in TEAM:
            first = name.split()[0]
            identity = f"email:{user}@{ORG_DOMAIN}"
            self.used_keys.add(identity)
            self.persons.append(
                Person(
                    idx=len(self.persons), name=name, first=first, identity=identity,
                    platform="email", profile="team", peer_channel="forum", themes=THEMES,
                    n=0, segments=[(0, self.n_days - 1)], rhythm="anytime", wday=0, mday=1,
                    months=frozenset(), hour=11.0, hub=True,
                )
            )  # fmt: skip
        self.team = self.persons[self.n_people :]

    def sample_day(self, p: Person, seg: tuple[int, int]) -> int:
        """A day of the segment, by the day weights and the person's rhythm (rejection)."""
        random_ = self.rng.random
        a, b = seg
        width = b - a + 1
        rhythm, top = p.rhythm, self.max_weight
        for _ in range(60):
            d = a + int(random_() * width)
            w = self.weight[d]
            if rhythm == "weekly" and self.weekday[d] != p.wday:
                w *= 0.1
            elif rhythm == "monthly" and not p.mday <= self.mday[d] <= p.mday + 2:
                w *= 0.06
            elif rhythm == "seasonal" and self.month[d] not in p.months:
                w *= 0.04
            if random_() * top < w:
                return d
        return a + int(random_() * width)
