"""The peer graph (preferential attachment) and the organization's own rows: team, bots, asks."""

from __future__ import annotations

from karmabank.demo_network.parts import Person
from karmabank.demo_network.rows import Rows
from karmabank.demo_network.vocabulary import (
    ASK_PHRASES,
    BOTS,
    DAY,
    FALLBACK,
    GITHUB_LINES,
    HOUR,
    LINES,
    MONTHS,
    PEER_VERBS,
    PLACES,
    RESPONSE_CHANNELS,
    THEMES,
)


class Organization(Rows):
    """Peers resolved, then what the team, the bots and the campaigns add."""

    def resolve_peers(self) -> None:
        """Give each peer slot a target, by preferential attachment within its channel."""
        rng = self.rng
        slots = sorted(self.peer_slots)
        joins = {
            ch: sorted((t, i) for i, t in firsts.items()) for ch, firsts in self.first_on.items()
        }
        for member in self.team:
            joins["forum"].insert(0, (self.t_start, member.idx))
            joins["blog"].insert(0, (self.t_start, member.idx))
        pools: dict[str, list[int]] = {ch: [] for ch in joins}
        cursor = dict.fromkeys(joins, 0)
        for t, i, ch in slots:
            pool, arrivals = pools[ch], joins[ch]
            while cursor[ch] < len(arrivals) and arrivals[cursor[ch]][0] <= t:
                j = arrivals[cursor[ch]][1]
                pool.extend([j] * (12 if self.persons[j].hub else 1))
                cursor[ch] += 1
            me = self.persons[i]
            picks = [rng.choice(pool) for _ in range(3)] if pool else []
            picks = [j for j in picks if j != i]
            if not picks:
                self.activity(t, self.day_of(t), me, FALLBACK[me.profile])
                continue
            shared = [j for j in picks if set(self.persons[j].themes) & set(me.themes)]
            j = shared[0] if shared else picks[0]
            other = self.persons[j]
            pool.append(j)
            verbs, weights = PEER_VERBS[ch]
            verb = rng.choices(verbs, weights)[0]
            if verb == "follow" and (i, j) in self.follows:
                verb = "reply"
            obj, text = "", ""
            if verb == "follow":
                self.follows.add((i, j))
            elif verb == "share":
                obj = self.post_url(other)
            else:
                common = [th for th in me.themes if th in other.themes]
                about = common[0] if common else ""
                if ch in ("forum", "blog", "github"):
                    items = {"forum": self.threads, "blog": self.posts, "github": self.issues}[ch]
                    item = self.recent(items, self.day_of(t), (about,) if about else me.themes)
                    obj, about = item.ref, about or item.theme
                lines = GITHUB_LINES if ch == "github" else LINES
                text = self.line(me, lines, about)
                if verb == "mention":
                    handle = other.identity.partition(":")[2]
                    at = handle if handle.startswith("@") else f"@{handle.split('@')[0]}"
                    text = f"{at} {text}"
            i_row = self.emit(t, me, verb, "peer", ch, obj, text, other.identity)
            if text:
                self.text_rows.append(i_row)

    # -- the organization -----------------------------------------------------------------------

    def team_rows(self) -> None:
        rng = self.rng
        for e in self.events:
            t = self.epoch0 + e.day * DAY + 8 * HOUR + rng.randint(0, HOUR)
            if self.t_start <= t <= self.t_end:
                for member in rng.sample(self.team, rng.randint(1, 3)):
                    t_member = min(self.t_end, t + rng.randint(0, 1800))
                    self.emit(t_member, member, "attend", "in", "events", e.ref)
        for member in self.team:
            for _ in range(max(1, self.n_days // 21)):
                d = rng.randrange(self.n_days)
                thread = self.recent(self.threads, d, THEMES)
                text = rng.choice(LINES[thread.theme]).format(place=rng.choice(PLACES))
                self.emit(self.at(d, 11.0), member, "comment", "in", "forum", thread.ref, text)

    def bot_rows(self) -> list[str]:
        rng = self.rng
        ids: list[str] = []
        bots: list[Person] = []
        for identity, name in BOTS:
            ids.append(identity)
            platform = identity.partition(":")[0]
            bots.append(
                Person(
                    idx=-1, name=name, first=name, identity=identity, platform=platform,
                    profile="bot", peer_channel="", themes=THEMES, n=0, segments=[],
                    rhythm="anytime", wday=0, mday=1, months=frozenset(), hour=12.0,
                )
            )  # fmt: skip
        news, feed, deps = bots
        for post in self.posts.items:
            if 0 <= post.day < self.n_days:
                t = self.epoch0 + post.day * DAY + 7 * HOUR + rng.randint(0, 600)
                if self.t_start <= t <= self.t_end:
                    self.emit(t, news, "share", "in", "mastodon", post.ref)
        for d in range(self.n_days):
            for _ in range(rng.randint(0, 4)):
                url = self.recent(self.posts, d, THEMES).ref
                self.emit(self.at(d, 12.0, 6.0), news, "share", "in", "mastodon", url)
            for _ in range(rng.randint(1, 3)):
                url = self.recent(self.posts, d, THEMES).ref
                self.emit(self.at(d, 12.0, 6.0), feed, "like", "in", "bluesky", url)
            if self.dates[d].weekday() == 0:
                lib = rng.choice(("pandas", "leaflet", "requests", "numpy", "django"))
                minor = rng.randint(1, 30)
                text = f"Bumps {lib} from 2.{minor}.0 to 2.{minor}.1."
                pr = f"https://github.com/riverside-commons/community-map/pull/{1000 + d}"
                self.emit(self.at(d, 5.0, 0.5), deps, "comment", "in", "github", pr, text)
        return ids

    def ask_rows(self) -> None:
        """Asks during past campaigns; people who received more gives respond more often."""
        rng = self.rng
        asked = [0] * len(self.persons)
        for c in self.campaigns:
            scored: list[tuple[float, int]] = []
            for p in self.persons[: self.n_people]:
                if p.dnc or p.segments[0][0] > c.day - 14 or p.segments[-1][1] < c.day:
                    continue
                w = (1.0 + min(p.n, 30)) * (3.0 if c.theme in p.themes else 1.0)
                scored.append((rng.random() ** (1.0 / w), p.idx))
            scored.sort(reverse=True)
            budget = max(1, round(self.n_people * 0.05))
            chosen = [i for _, i in scored if asked[i] < 3][:budget]
            for i in chosen:
                p = self.persons[i]
                channel = p.platform if p.profile == "social" else "email"
                text = ASK_PHRASES[c.action].format(campaign=c.name)
                t = self.at(c.day + rng.randint(0, 3), 9.0, 1.0)
                received = sum(1 for g in p.gives if g < t)
                p_yes = 0.1 + (0.2 if c.theme in p.themes else 0.0) + 0.12 * min(received, 3)
                self.emit(t, p, "ask", "ask", channel, c.name, text)
                asked[i] += 1
                if rng.random() < p_yes:
                    t_act = self.lag(t, 30, 1.1)
                    if t_act <= self.t_end:
                        self.emit(t_act, p, c.action, "in", RESPONSE_CHANNELS[c.action], c.name)
                        if rng.random() < 0.85:
                            thanks = f"Thank you, {p.first}, for supporting the {c.name}!"
                            self.give(self.lag(t_act, 24), p, "thank", "email", c.name, thanks)
                elif asked[i] < 3 and rng.random() < 0.25:
                    t2 = t + 7 * DAY + rng.randint(-HOUR, HOUR)
                    if t2 <= self.t_end:
                        self.emit(t2, p, "ask", "ask", channel, c.name, "Reminder: " + text)
                        asked[i] += 1

    def feature_rows(self) -> None:
        """A monthly newsletter spotlight on one of the most active people of the month."""
        rng = self.rng
        for d, day in enumerate(self.dates):
            if day.day != 1 or d < 30:
                continue
            active = [
                p for p in self.persons[: self.n_people]
                if p.hub and p.segments[0][0] < d - 30 and p.segments[-1][1] >= d
            ]  # fmt: skip
            if active:
                p = rng.choice(active)
                obj = f"Newsletter: {MONTHS[day.month - 1]} {day.year}"
                self.give(self.at(d, 8.0, 0.5), p, "feature", "email", obj,
                          f"Volunteer spotlight: {p.name}")  # fmt: skip
