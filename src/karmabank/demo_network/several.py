"""People seen on several channels (issue 15): a few of the network's people leave part of their
activity through a second identity, some under a nickname or an initial, a few with the source
stating the link (the CSV `also` column); and the two cases a person must decide: two strangers
with one name, and a family's shared mailbox signed with two names."""

from __future__ import annotations

from dataclasses import replace

from karmabank.demo_network.parts import Person, plain
from karmabank.demo_network.people import People
from karmabank.demo_network.vocabulary import (
    EMAIL_DOMAINS,
    FIRST_NAMES,
    MASTODON_HOSTS,
    NICKNAMES,
    WEB_DOMAINS,
)

SEEN_TWICE = 12  # people with a second identity, per 3,000
INITIALS = 2  # of them, the ones whose second identity shows an initial ("J. Okafor")
STATED = 3  # of them, the ones a row's `also` links (the source says it)
SECOND_SHARE = 0.4  # of a person's rows, about how many more the second identity leaves


def profile_of(platform: str) -> tuple[str, str]:
    """The profile (a key of KINDS) and peer channel of an identity on `platform`."""
    if platform in ("mastodon", "bluesky"):
        return "social", platform
    if platform == "github":
        return "github", "github"
    if platform == "web":
        return "web", "blog"
    return "email", "blog"


class SeveralChannels(People):
    """The second identities, the namesakes and the shared mailbox, drawn after everyone else."""

    def make_people(self) -> None:
        super().make_people()
        self.add_second_identities()
        self.add_namesakes()
        self.add_shared_mailbox()

    def candidates(self) -> list[Person]:
        """Network people with a few rows, not asked for quiet, and not yet special."""
        taken = {s.idx for s in self.seconds}
        return [
            p for p in self.persons[: self.n_people]
            if p.n >= 4 and not p.dnc and p.idx not in taken
        ]  # fmt: skip

    def add_second_identities(self) -> None:
        rng = self.rng
        pool = self.candidates()
        count = min(len(pool), max(1, round(SEEN_TWICE * self.n_people / 3000)))
        nicknamed = [p for p in pool if p.first in NICKNAMES]
        chosen: list[Person] = rng.sample(nicknamed, min(2, len(nicknamed), count))
        rest = [p for p in pool if p not in chosen]
        chosen += rng.sample(rest, count - len(chosen))
        chosen.sort(key=lambda p: p.idx)
        stated = set(rng.sample([p.idx for p in chosen], min(STATED, len(chosen))))
        plain_named = [p.idx for p in chosen if p.first not in NICKNAMES]
        initials = set(rng.sample(plain_named, min(INITIALS, len(plain_named))))
        for p in chosen:
            first, last = p.name.split(" ", 1)
            if p.first in NICKNAMES:
                first = NICKNAMES[p.first]
            elif p.idx in initials:
                first = first[0] + "."
            if p.platform == "email":
                platform = rng.choice(("mastodon", "bluesky", "github"))
            else:
                other = "github" if p.platform == "web" else "web"
                platform = rng.choice(("email", "email", other))
            profile, peer_channel = profile_of(platform)
            identity = self.named_identity(platform, first.rstrip("."), last)
            second = replace(
                p, name=f"{first} {last}", first=first if len(first) > 2 else p.first,
                identity=identity, platform=platform, profile=profile,
                peer_channel=peer_channel, n=max(2, round(p.n * SECOND_SHARE)), gives=[],
            )  # fmt: skip
            self.seconds.append(second)
            self.same_person.append((p.identity, identity))
            if p.idx in stated:
                self.stated.add(identity)

    def named_identity(self, platform: str, first: str, last: str) -> str:
        """An identity whose handle is made of the whole name (as people seen on several
        channels often pick, so a matcher can tell)."""
        rng = self.rng
        f, la = plain(first), plain(last)
        if platform == "email":
            return self.unique(f"email:{f}.{la}@{rng.choice(EMAIL_DOMAINS)}")
        if platform == "mastodon":
            return self.unique(f"mastodon:@{f}{la}@{rng.choice(MASTODON_HOSTS)}")
        if platform == "bluesky":
            return self.unique(f"bluesky:{f}-{la}.bsky.social")
        if platform == "github":
            return self.unique(f"github:{f}-{la}")
        return self.unique(f"web:https://{f}{la}.{rng.choice(WEB_DOMAINS)}")

    def add_namesakes(self) -> None:
        """Two strangers with one name, both by email and their handles alike (a person tells
        them apart: the matcher never makes two emails `auto`)."""
        rng = self.rng
        pool = [p for p in self.candidates() if p.platform == "email"]
        if len(pool) < 2:
            return
        a, b = sorted(rng.sample(pool, 2), key=lambda p: p.idx)
        first, last = a.name.split(" ", 1)
        b.name, b.first = a.name, first
        a.identity = self.named_identity("email", first, last)  # both: first.last@ a domain
        b.identity = self.named_identity("email", first, last)
        self.namesakes = (a.identity, b.identity)

    def add_shared_mailbox(self) -> None:
        """A family's mailbox: one email identity, signed by two of the family."""
        rng = self.rng
        pool = [
            p for p in self.candidates()
            if p.platform == "email" and p.identity not in self.namesakes
        ]  # fmt: skip
        if not pool:
            return
        p = rng.choice(pool)
        last = p.name.split(" ", 1)[1]
        firsts = [f for f in FIRST_NAMES if f != p.first and f"{f} {last}" not in self.used_names]
        if not firsts:
            return
        first = rng.choice(firsts)
        self.used_names.add(f"{first} {last}")
        family = replace(p, name=f"{first} {last}", first=first, n=max(2, p.n // 2), gives=[])
        self.seconds.append(family)
        self.shared_mailbox = p.identity
