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

Pure: no database, no clock, no I/O except `write_csv`. Everything is drawn from one
`random.Random(seed)` in a fixed order, so the same `seed` and `now` give identical rows.
"""

from __future__ import annotations

import csv
import math
import random
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

__all__ = ["CSV_COLUMNS", "DemoNetwork", "generate", "write_csv"]

CSV_COLUMNS: tuple[str, ...] = (
    "occurred_at", "person", "name", "verb", "direction", "channel", "object", "text", "target",
    "source_key",
)  # fmt: skip


@dataclass(frozen=True)
class DemoNetwork:
    """The generated network: CSV rows sorted by `occurred_at`, and who to flag."""

    rows: list[dict[str, str]]
    team: list[str]
    bots: list[str]
    do_not_contact: list[str]


def generate(*, seed: int = 7, now: datetime, people: int = 3000, days: int = 730) -> DemoNetwork:
    """Generate the Riverside Commons network: `people` people over the `days` before `now`.

    A naive `now` is taken as UTC. Every row's time is in `(now - days, now]`.
    """
    if people < 1:
        raise ValueError("people must be at least 1")
    if days < 1:
        raise ValueError("days must be at least 1")
    return _Builder(seed, now, people, days).build()


def write_csv(network: DemoNetwork, path: Path) -> None:
    """Write the rows as a UTF-8 CSV file with a header row (`CSV_COLUMNS`)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(CSV_COLUMNS))
        writer.writeheader()
        for row in network.rows:
            writer.writerow(row)


# --- vocabulary ----------------------------------------------------------------------------------

SITE = "https://riverside-commons.example"
ORG_DOMAIN = "riverside-commons.example"
DAY = 86_400
HOUR = 3_600

THEMES: tuple[str, ...] = ("river", "trees", "gardens", "streets")

FIRST_NAMES: tuple[str, ...] = (
    "Ada", "Aarav", "Abena", "Adrián", "Aisha", "Akira", "Alejandro", "Amara", "Amina", "Ana",
    "Andrei", "Anika", "Arjun", "Astrid", "Ayşe", "Beatriz", "Ben", "Björn", "Camille", "Carlos",
    "Chen", "Chidi", "Chloé", "Clara", "Daniel", "Darius", "Dmitri", "Efua", "Elena", "Elif",
    "Emma", "Esther", "Ethan", "Fatima", "Felix", "Fiona", "Gabriel", "Grace", "Hana", "Hannah",
    "Hiroshi", "Ibrahim", "Ines", "Ingrid", "Isaac", "Jamal", "James", "Javier", "Jin", "Joanna",
    "José", "Julia", "Kai", "Kavya", "Keanu", "Kenji", "Kofi", "Laila", "Lars", "Leila",
    "Liam", "Lucía", "Luca", "Mai", "Malik", "Marta", "Mateo", "Mei", "Mia", "Miguel",
    "Mohammed", "Nadia", "Naomi", "Ngozi", "Nikhil", "Noah", "Nora", "Oliver", "Olivia", "Omar",
    "Oluwaseun", "Pablo", "Priya", "Rafael", "Rahul", "Rosa", "Ruth", "Samir", "Sara", "Sean",
    "Siobhán", "Sofia", "Tariq", "Thanh", "Tomás", "Valentina", "Wei", "Yara", "Yusuf", "Zoë",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Abebe", "Adeyemi", "Ali", "Andersen", "Asante", "Banerjee", "Begum", "Bianchi", "Boateng",
    "Brown", "Byrne", "Chen", "Chowdhury", "Cohen", "Costa", "Cruz", "Diallo", "Dubois", "Eze",
    "Fernández", "Ferrari", "Flores", "García", "Gill", "Haddad", "Hernández", "Hoang", "Horvat",
    "Ivanova", "Jackson", "Jensen", "Johansson", "Johnson", "Kaur", "Kelly", "Khan", "Kim",
    "Kovács", "Kowalski", "Lee", "Lefebvre", "Lindqvist", "Lopez", "Martinez", "Mensah", "Moore",
    "Moreau", "Müller", "Murphy", "Mwangi", "Nagy", "Nakamura", "Ndiaye", "Nguyen", "Nielsen",
    "Novak", "O'Brien", "Ochieng", "Okafor", "Okeke", "Park", "Patel", "Petrov", "Pham",
    "Popescu", "Rahman", "Reyes", "Rodriguez", "Romano", "Rossi", "Ryan", "Santos", "Sato",
    "Schmidt", "Schneider", "Silva", "Singh", "Smith", "Sow", "Suzuki", "Tanaka", "Taylor",
    "Torres", "Traoré", "Tran", "Vu", "Walsh", "Wang", "Watanabe", "Wilson", "Yamamoto", "Yilmaz",
)  # fmt: skip

PLACES: tuple[str, ...] = (
    "Mill Reach", "Elm Street", "Willow Bend", "Harbor Road", "Oak Park", "Northgate",
    "the Old Towpath", "Fernhill", "Station Square", "Brookside", "Canal Lane", "Heron Flats",
)  # fmt: skip

EMAIL_DOMAINS = ("example.org", "example.com", "example.net", "mail.example", "post.example")
MASTODON_HOSTS = ("social.example", "mastodon.example", "toot.example", "river.social.example")
WEB_DOMAINS = ("example.net", "example.com", "blog.example")

LINES: dict[str, tuple[str, ...]] = {
    "river": (
        "Picked up two full bags of litter below the {place} footbridge this morning.",
        "Is the water quality data for {place} updated after last week's rain?",
        "The E. coli readings near {place} look worrying after the storm.",
        "Saw a heron back on the river at {place}, first time in years.",
        "Can we add a sampling point downstream of the stormwater outfall?",
        "Great turnout at the river cleanup, the banks look so much better.",
        "Someone dumped tyres in the river again near {place}.",
        "Would love a training session on the water testing kits.",
        "The river smelled bad near {place} today, has anyone reported it?",
        "Thanks for publishing the water quality numbers so openly.",
    ),
    "trees": (
        "The new street trees on {place} need watering in this heat.",
        "It was four degrees cooler under the canopy at {place} than on the open square.",
        "Which species are you planting this autumn? Hoping for more natives.",
        "Three of the young trees on {place} have broken stakes.",
        "Happy to adopt a tree pit near my house on {place}.",
        "The heat map makes the case for more shade around the schools.",
        "Could we get a tree planting day in {place}? It is a real heat island.",
        "Love the tree census idea, count me in for my block.",
        "Shade matters so much for older neighbours during heatwaves.",
    ),
    "gardens": (
        "The {place} garden had a huge tomato harvest this week.",
        "Is there still space on the waiting list for a garden plot?",
        "Our compost bins at {place} need more brown material.",
        "Bringing extra seedlings to the seed swap, mostly kale and beans.",
        "Can the surplus vegetables go to the food bank again?",
        "The raised beds at {place} are perfect for the kids.",
        "Slugs ate half my lettuce, any organic tips for the garden?",
        "Would love a workshop on saving seeds.",
        "The pollinator strip along {place} is buzzing this year.",
    ),
    "streets": (
        "The crossing at {place} is still dangerous at school time.",
        "Joined the bike bus this morning, the kids loved it.",
        "We need a protected bike lane on {place}, cars park in the painted one.",
        "Counted over 300 cyclists on {place} during rush hour.",
        "Lower speed limits near {place} would make walking so much safer.",
        "Can we get more bike parking near the station?",
        "The new planters slowed traffic on {place} a lot.",
        "Would love a beginners' group ride on a Sunday.",
        "Drivers keep cutting the corner at {place}, it needs a raised crossing.",
    ),
}
OPENERS = ("", "", "", "", "Update: ", "Agreed! ", "Hi all! ", "Quick note: ")
CLOSERS = ("", "", "", "", " Thanks for organizing!", " See you Saturday.", " Happy to help.")

GITHUB_LINES: dict[str, tuple[str, ...]] = {
    "river": (
        "The CSV export for {place} is missing last month's samples.",
        "Added a script to plot the E. coli readings per sampling point.",
        "The water quality chart mislabels the {place} station.",
    ),
    "trees": (
        "The tree map does not load on mobile.",
        "Opened a PR to import the new tree census data for {place}.",
        "Species names in the tree map should link to the planting guide.",
    ),
    "gardens": (
        "The plot waiting list form rejects names with accents.",
        "Added the {place} garden to the map layer.",
        "Harvest log totals are off by one week.",
    ),
    "streets": (
        "Can we add the bike counter data for {place} to the dashboard?",
        "The crash map legend is unreadable in dark mode.",
        "Opened a PR with speed survey results from {place}.",
    ),
}

POST_TITLES: dict[str, tuple[str, ...]] = {
    "river": (
        "What the {place} water samples told us", "Stormwater outfalls along {place}",
        "Litter counts from the {place} cleanup", "Why E. coli levels spike after rain",
        "Meet the river monitors of {place}",
    ),
    "trees": (
        "Mapping heat islands around {place}", "Planting street trees on {place}",
        "Who waters the new trees?", "Shade, heat and the {place} canopy",
        "Tree census results for {place}",
    ),
    "gardens": (
        "Harvest notes from the {place} garden", "Compost basics at {place}",
        "Seed swap recap", "Sharing surplus food from our plots", "New plots at {place}",
    ),
    "streets": (
        "A safer crossing at {place}", "Bike bus routes for the new school year",
        "Counting cyclists on {place}", "Lower speeds near {place}",
        "Slow streets trial in {place}",
    ),
}  # fmt: skip

EVENT_TITLES: dict[str, tuple[str, ...]] = {
    "river": ("River cleanup at {place}", "Water sampling training at {place}"),
    "trees": ("Tree planting on {place}", "Tree-watering evening at {place}"),
    "gardens": ("Work day at the {place} garden", "Seed swap and potluck at {place}"),
    "streets": ("Bike bus to {place}", "Slow-streets walkabout in {place}"),
}

REPLY_LINES = (
    "Thanks {first}, we will raise this at the next {group} meeting.",
    "Thank you {first}! Could you send a photo so we can log it?",
    "Good point, {first}. The {group} is on it.",
    "Thanks for flagging this, {first}; someone will check it this week.",
    "Great to hear, {first}! Mind if we share this in the newsletter?",
)
HELP_LINES = (
    "Hi {first}, the how-to guide is here: " + SITE + "/guides/{theme}.",
    "Hi {first}, you can borrow the kit from the tool library on Saturdays.",
    "Hi {first}, fixed now, thanks for reporting it.",
)
GROUPS = {
    "river": "river group", "trees": "tree team", "gardens": "garden committee",
    "streets": "safe streets group",
}  # fmt: skip
SPECIAL_TEXTS = (
    "Très bien! The café by the river now has a free water refill station.",
    "Grüße from the Südpark garden group, we would love to join the seed swap 🌱",
    "Loved the cleanup today 💧🚲 see you all next month!",
    "Naïve question: are the new trees on Elm Street native species? 🌳",
    "Merci à toute l'équipe, the crossing at Brookside feels much safer now.",
)
SCRIPT_TEXT = "Great post! <script>alert('x')</script>"

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

# (name, month, day, action, theme, recurring)
CAMPAIGNS: tuple[tuple[str, int, int, str, str, bool], ...] = (
    ("Spring river cleanup", 3, 15, "volunteer", "river", True),
    ("Wetland petition", 6, 2, "sign", "river", False),
    ("Tree census weekend", 9, 8, "volunteer", "trees", True),
    ("Safe streets open letter", 10, 14, "sign", "streets", False),
    ("Winter fundraiser", 11, 28, "donate", "", True),
    ("Harvest festival", 8, 30, "attend", "gardens", True),
)
ASK_PHRASES = {
    "volunteer": "Could you volunteer a morning for the {campaign}?",
    "sign": "Would you add your name to the {campaign}?",
    "donate": "Could you chip in to the {campaign}?",
    "attend": "Would you join us at the {campaign}?",
}
RESPONSE_CHANNELS = {"volunteer": "events", "sign": "email", "donate": "donations",
                     "attend": "events"}  # fmt: skip

TEAM: tuple[tuple[str, str], ...] = (
    ("Maya Okafor", "maya"),
    ("Tomás Rivera", "tomas"),
    ("Hannah Schmidt", "hannah"),
    ("Kwame Mensah", "kwame"),
    ("Lin Zhao", "lin"),
)
BOTS: tuple[tuple[str, str], ...] = (
    ("mastodon:@newsbot@bots.example", "Riverside Newsbot"),
    ("bluesky:linkfeed-bot.bsky.social", "Linkfeed Bot"),
    ("github:dependabot", "dependabot[bot]"),
)

# Activity kinds per platform, with weights; "peer" becomes a person -> person row.
KINDS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "email": (
        ("blog_comment", "email_reply", "peer", "event", "donate", "volunteer"),
        (20, 20, 6, 38, 14, 8),
    ),
    "forum": (
        ("forum_post", "forum_reply", "peer", "event", "donate", "email_reply"),
        (25, 25, 22, 16, 6, 6),
    ),
    "web": (("blog_comment", "peer", "event", "donate"), (72, 14, 9, 5)),
    "social": (
        ("like", "share", "reply", "mention", "peer", "event", "donate"),
        (28, 18, 14, 8, 25, 5, 2),
    ),
    "github": (
        ("gh_comment", "gh_reply", "gh_like", "peer", "event"),
        (30, 15, 12, 33, 10),
    ),
}  # fmt: skip
# What an activity becomes when it cannot happen (no event coming, nobody to talk to yet).
FALLBACK = {
    "email": "blog_comment", "forum": "forum_post", "web": "blog_comment", "social": "like",
    "github": "gh_comment",
}  # fmt: skip
PEER_VERBS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "mastodon": (("reply", "mention", "share", "follow"), (45, 25, 20, 10)),
    "bluesky": (("reply", "mention", "share", "follow"), (45, 25, 20, 10)),
    "forum": (("reply", "mention"), (75, 25)),
    "blog": (("reply",), (1,)),
    "github": (("reply", "mention", "follow"), (60, 25, 15)),
}


# --- internal model ------------------------------------------------------------------------------


@dataclass
class _Person:
    idx: int
    name: str
    first: str
    identity: str
    platform: str
    profile: str  # key of KINDS
    peer_channel: str
    themes: tuple[str, ...]
    n: int
    segments: list[tuple[int, int]]
    rhythm: str
    wday: int
    mday: int
    months: frozenset[int]
    hour: float
    hub: bool = False
    dnc: bool = False
    gives: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Item:
    """A blog post, forum thread, GitHub issue or event: a day, a theme, a URL or title."""

    day: int
    theme: str
    ref: str


@dataclass(frozen=True)
class _Catalog:
    """Items sorted by day, with their days for bisection."""

    items: list[_Item]
    days: list[int]


@dataclass(frozen=True)
class _Campaign:
    name: str
    day: int
    action: str
    theme: str


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    out = []
    for ch in ascii_text.lower():
        if ch.isalnum():
            out.append(ch)
        elif ch in " -_" and out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")


def _plain(text: str) -> str:
    return _slug(text).replace("-", "")


class _Builder:
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
        self.persons: list[_Person] = []
        self.peer_slots: list[tuple[int, int, str]] = []  # (t, person idx, channel)
        self.first_on: dict[str, dict[int, int]] = {ch: {} for ch in PEER_VERBS}
        self.comment_rows: list[int] = []  # blog comments by network people
        self.text_rows: list[int] = []  # other texts by network people
        self.follows: set[tuple[int, int]] = set()
        self.used_keys: set[str] = set()

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

    def build_calendar(self) -> None:
        rng = self.rng
        n = self.n_days
        # Events: Saturday mornings, more in spring and summer, none in late December.
        self.events: list[_Item] = []
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
                self.events.append(_Item(d, theme, f"{title} ({day.isoformat()})"))
        self.event_days = [e.day for e in self.events]
        # Campaigns: the latest past occurrence of each, finished at least four weeks ago.
        self.campaigns: list[_Campaign] = []
        for name, month, mday, action, theme, recurring in CAMPAIGNS:
            best: _Campaign | None = None
            for year in range(self.d0.year, self.d0.year + n // 365 + 2):
                d = (date(year, month, mday) - self.d0).days
                if 0 <= d and d + 28 <= n - 1:
                    best = _Campaign(f"{name} {year}" if recurring else name, d, action, theme)
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
    ) -> _Catalog:
        rng = self.rng
        out: list[_Item] = []
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
            out.append(_Item(int(d), theme, ref))
            d += rng.expovariate(1.0 / mean_gap)
        return _Catalog(out, [it.day for it in out])

    @staticmethod
    def post_ref(title: str, n: int) -> str:
        return f"{SITE}/blog/{_slug(title)}"

    @staticmethod
    def thread_ref(title: str, n: int) -> str:
        slug = _slug(title)
        if len(slug) > 48:
            slug = slug[:48].rsplit("-", 1)[0]
        return f"https://forum.{ORG_DOMAIN}/t/{slug}/{100 + n}"

    @staticmethod
    def issue_ref(title: str, n: int) -> str:
        repo = "water-quality-data" if n % 3 else "community-map"
        return f"https://github.com/riverside-commons/{repo}/issues/{n}"

    def recent(self, catalog: _Catalog, day: int, themes: tuple[str, ...]) -> _Item:
        """One of the latest items published by `day`, preferably on one of `themes`."""
        items = catalog.items
        i = bisect_right(catalog.days, day)
        pool = items[max(0, i - 6) : i] or items[:1]
        liked = [it for it in pool if it.theme in themes]
        if liked and self.rng.random() < 0.75:
            return self.rng.choice(liked)
        return self.rng.choice(pool)

    # -- people ---------------------------------------------------------------------------------

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
        f, la = _plain(first), _plain(last)
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
        rng = self.rng
        n = self.n_days
        for i in range(self.n_people):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            platform = rng.choices(
                ("email", "mastodon", "bluesky", "github", "web"), (50, 18, 17, 7, 8)
            )[0]
            if platform == "email":
                profile = "forum" if rng.random() < 0.35 else "email"
                peer_channel = "forum" if profile == "forum" else "blog"
            elif platform in ("mastodon", "bluesky"):
                profile, peer_channel = "social", platform
            elif platform == "github":
                profile, peer_channel = "github", "github"
            else:
                profile, peer_channel = "web", "blog"
            themes = tuple(rng.sample(THEMES, 1 if rng.random() < 0.6 else 2))
            # Segments of activity: joined some day, maybe went quiet, maybe came back.
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
            rhythm = rng.choices(("weekly", "monthly", "seasonal", "anytime"), (25, 20, 20, 35))[0]
            season = {
                "river": range(4, 10), "trees": (10, 11, 12, 1, 2, 3, 4),
                "gardens": range(3, 10), "streets": range(5, 11),
            }[themes[0]]  # fmt: skip
            name = f"{first} {last}"
            self.persons.append(
                _Person(
                    idx=i, name=name, first=first, identity=self.identity(platform, first, last),
                    platform=platform, profile=profile, peer_channel=peer_channel, themes=themes,
                    n=count, segments=segments, rhythm=rhythm, wday=rng.randrange(7),
                    mday=rng.randint(1, 26), months=frozenset(season),
                    hour=min(22.0, max(6.0, rng.gauss(15.0, 3.5))),
                )
            )  # fmt: skip
        by_count = sorted(self.persons, key=lambda p: (-p.n, p.idx))
        for p in by_count[: max(1, self.n_people // 100)]:
            p.hub = True
        k = round(self.n_people * 0.02)
        for i in sorted(rng.sample(range(self.n_people), k)):
            self.persons[i].dnc = True
        for name, user in TEAM:
            first = name.split()[0]
            identity = f"email:{user}@{ORG_DOMAIN}"
            self.used_keys.add(identity)
            self.persons.append(
                _Person(
                    idx=len(self.persons), name=name, first=first, identity=identity,
                    platform="email", profile="team", peer_channel="forum", themes=THEMES,
                    n=0, segments=[(0, n - 1)], rhythm="anytime", wday=0, mday=1,
                    months=frozenset(), hour=11.0, hub=True,
                )
            )  # fmt: skip
        self.team = self.persons[self.n_people :]

    def sample_day(self, p: _Person, seg: tuple[int, int]) -> int:
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

    # -- rows -----------------------------------------------------------------------------------

    def emit(
        self,
        t: int,
        p: _Person,
        verb: str,
        direction: str,
        channel: str,
        obj: str = "",
        text: str = "",
        target: str = "",
    ) -> int:
        self.rows.append(
            (
                t,
                {
                    "person": p.identity, "name": p.name, "verb": verb, "direction": direction,
                    "channel": channel, "object": obj, "text": text, "target": target,
                },
            )
        )  # fmt: skip
        if direction == "in":
            firsts = self.first_on.get(channel)
            if firsts is not None and 0 <= p.idx < self.n_people:  # network people only
                firsts[p.idx] = min(t, firsts.get(p.idx, t))
        elif direction == "give":
            p.gives.append(t)
        return len(self.rows) - 1

    def give(
        self, t: int, p: _Person, verb: str, channel: str, obj: str = "", text: str = ""
    ) -> None:
        if t <= self.t_end:
            self.emit(t, p, verb, "give", channel, obj, text)

    def line(self, p: _Person, lines: dict[str, tuple[str, ...]] = LINES, about: str = "") -> str:
        """A sentence on the item's theme when the person cares about it, else on theirs."""
        rng = self.rng
        if about in p.themes and rng.random() < 0.8:
            theme = about
        else:
            theme = rng.choice(p.themes) if rng.random() < 0.9 else rng.choice(THEMES)
        text = rng.choice(lines[theme]).format(place=rng.choice(PLACES))
        if lines is LINES:
            text = rng.choice(OPENERS) + text + rng.choice(CLOSERS)
        return text

    def reply_text(self, p: _Person) -> str:
        group = GROUPS[self.rng.choice(p.themes)] if p.profile != "team" else "team"
        return self.rng.choice(REPLY_LINES).format(first=p.first, group=group)

    def post_url(self, p: _Person) -> str:
        """The URL of one of the person's own posts (for shares of their content)."""
        rng = self.rng
        platform, _, key = p.identity.partition(":")
        if platform == "mastodon":
            user, host = key[1:].split("@", 1)
            return f"https://{host}/@{user}/{rng.randrange(10**17, 10**18)}"
        if platform == "bluesky":
            rkey = "".join(rng.choice("234567abcdefghijklmnopqrstuvwxyz") for _ in range(13))
            return f"https://bsky.app/profile/{key}/post/{rkey}"
        return ""

    def person_rows(self, p: _Person) -> None:
        rng = self.rng
        kinds, weights = KINDS[p.profile]
        segs = p.segments
        plan: list[int] = []
        if len(segs) == 2:
            late = max(1, round(p.n * 0.25))
            plan = [self.sample_day(p, segs[0]) for _ in range(p.n - late)]
            plan += [self.sample_day(p, segs[1]) for _ in range(late)]
        else:
            plan = [self.sample_day(p, segs[0]) for _ in range(p.n)]
        plan.sort()
        if segs[0][0] > 0:
            plan[0] = segs[0][0]  # joined that day
        for k, d in enumerate(plan):
            t = self.at(d, p.hour)
            kind = rng.choices(kinds, weights)[0]
            if k == 0:
                if kind == "peer":
                    kind = kinds[0]
                if p.profile == "social" or (p.profile != "web" and rng.random() < 0.25):
                    self.follow(t, p)
                    continue
            self.activity(t, d, p, kind)

    def follow(self, t: int, p: _Person) -> None:
        channel = p.platform if p.profile in ("social", "github") else "email"
        obj = "" if channel != "email" else "Newsletter"
        self.emit(t, p, "follow", "in", channel, obj)
        if self.rng.random() < (0.7 if channel == "email" else 0.3):
            text = f"Welcome to Riverside Commons, {p.first}!"
            self.give(self.lag(t, 10 if channel == "email" else 4), p, "welcome", channel, "", text)

    def activity(self, t: int, d: int, p: _Person, kind: str) -> None:
        rng = self.rng
        if kind == "peer":
            self.peer_slots.append((t, p.idx, p.peer_channel))
            firsts = self.first_on[p.peer_channel]
            firsts[p.idx] = min(t, firsts.get(p.idx, t))
            return
        if kind in ("like", "share", "reply", "mention"):
            ch = p.platform
            item = self.recent(self.posts, d, p.themes)
            post = item.ref
            if kind in ("like", "share"):
                self.emit(t, p, kind, "in", ch, post)
                if kind == "share" and rng.random() < 0.08:
                    self.give(
                        self.lag(t, 6), p, "thank", ch, post, f"Thanks for sharing, {p.first}!"
                    )
            else:
                i = self.emit(t, p, kind, "in", ch, post, self.line(p, about=item.theme))
                self.text_rows.append(i)
                if rng.random() < 0.35:
                    self.give(self.lag(t, 3), p, "reply", ch, post, self.reply_text(p))
            if rng.random() < 0.04:
                self.give(self.lag(t, 20), p, "share", ch, self.post_url(p))
        elif kind == "blog_comment":
            item = self.recent(self.posts, d, p.themes)
            post = item.ref
            i = self.emit(t, p, "comment", "in", "blog", post, self.line(p, about=item.theme))
            self.comment_rows.append(i)
            if rng.random() < 0.45:
                self.give(self.lag(t, 10), p, "reply", "blog", post, self.reply_text(p))
            elif rng.random() < 0.1:
                self.team_reply(t, p, "blog", post)
        elif kind == "email_reply":
            obj = f"Newsletter: {MONTHS[self.dates[d].month - 1]} {self.dates[d].year}"
            i = self.emit(t, p, "reply", "in", "email", obj, self.line(p))
            self.text_rows.append(i)
            if rng.random() < 0.5:
                self.give(self.lag(t, 20), p, "reply", "email", obj, self.reply_text(p))
        elif kind in ("forum_post", "forum_reply"):
            item = self.recent(self.threads, d, p.themes)
            thread = item.ref
            verb = "comment" if kind == "forum_post" else "reply"
            i = self.emit(t, p, verb, "in", "forum", thread, self.line(p, about=item.theme))
            self.text_rows.append(i)
            r = rng.random()
            if r < (0.2 if kind == "forum_post" else 0.1):
                help_text = rng.choice(HELP_LINES).format(first=p.first, theme=p.themes[0])
                self.give(self.lag(t, 6), p, "help", "forum", thread, help_text)
            elif r < (0.45 if kind == "forum_post" else 0.2):
                self.give(self.lag(t, 6), p, "reply", "forum", thread, self.reply_text(p))
            elif r < 0.6:
                self.team_reply(t, p, "forum", thread)
        elif kind in ("gh_comment", "gh_reply", "gh_like"):
            item = self.recent(self.issues, d, p.themes)
            issue = item.ref
            if kind == "gh_like":
                self.emit(t, p, "like", "in", "github", issue)
                return
            verb = "comment" if kind == "gh_comment" else "reply"
            self.emit(t, p, verb, "in", "github", issue, self.line(p, GITHUB_LINES, item.theme))
            if rng.random() < 0.45:
                verb = "help" if rng.random() < 0.4 else "reply"
                lines = HELP_LINES if verb == "help" else REPLY_LINES
                text = rng.choice(lines).format(first=p.first, theme=p.themes[0], group="team")
                self.give(self.lag(t, 8), p, verb, "github", issue, text)
        elif kind == "donate":
            self.emit(t, p, "donate", "in", "donations", "General fund")
            if rng.random() < 0.9:
                text = f"Thank you for your donation, {p.first}!"
                self.give(self.lag(t, 30), p, "thank", "email", "General fund", text)
        elif kind in ("event", "volunteer"):
            self.event(t, d, p, volunteer=kind == "volunteer")

    def event(self, t: int, d: int, p: _Person, *, volunteer: bool) -> None:
        rng = self.rng
        lo = bisect_left(self.event_days, d)
        hi = bisect_right(self.event_days, d + 21)
        upcoming = self.events[lo:hi]
        if not upcoming:
            self.activity(t, d, p, FALLBACK[p.profile])
            return
        liked = [e for e in upcoming if e.theme in p.themes]
        e = rng.choice(liked if liked and rng.random() < 0.7 else upcoming)
        if e.day > d or rng.random() < 0.7:
            self.emit(t, p, "volunteer" if volunteer else "register", "in", "events", e.ref)
        if e.day >= self.n_days or rng.random() > 0.78:
            return
        t_event = self.epoch0 + e.day * DAY + 9 * HOUR + rng.randint(0, 3 * HOUR)
        if t_event > self.t_end or t_event < self.t_start:
            return
        self.emit(t_event, p, "attend", "in", "events", e.ref)
        if rng.random() < (0.8 if volunteer else 0.25):
            what = e.ref.split(" (")[0]
            text = f"Thanks for coming to {what}, {p.first}!"
            if volunteer:
                text = f"Thanks for volunteering at {what}, {p.first}!"
            self.give(self.lag(t_event, 30), p, "thank", "email", e.ref, text)

    def team_reply(self, t: int, p: _Person, channel: str, obj: str) -> None:
        member = self.rng.choice(self.team)
        t2 = self.lag(t, 8)
        if t2 <= self.t_end:
            self.rows.append(
                (
                    t2,
                    {
                        "person": member.identity, "name": member.name, "verb": "reply",
                        "direction": "peer", "channel": channel, "object": obj,
                        "text": self.reply_text(p), "target": p.identity,
                    },
                )
            )  # fmt: skip

    # -- peers ----------------------------------------------------------------------------------

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
        bots: list[_Person] = []
        for identity, name in BOTS:
            ids.append(identity)
            platform = identity.partition(":")[0]
            bots.append(
                _Person(
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

    # -- assembly -------------------------------------------------------------------------------

    def build(self) -> DemoNetwork:
        rng = self.rng
        self.build_calendar()
        self.make_people()
        for p in self.persons[: self.n_people]:
            self.person_rows(p)
        self.team_rows()
        self.resolve_peers()
        self.ask_rows()
        self.feature_rows()
        bots = self.bot_rows()
        if self.comment_rows:
            i = rng.choice(self.comment_rows)
            self.rows[i][1]["text"] = SCRIPT_TEXT
            others = [j for j in self.text_rows if j != i]
            for j, text in zip(
                rng.sample(others, min(len(others), len(SPECIAL_TEXTS))),
                SPECIAL_TEXTS,
                strict=False,
            ):
                self.rows[j][1]["text"] = text
        self.rows.sort(key=lambda r: r[0])
        rows: list[dict[str, str]] = []
        for n, (t, r) in enumerate(self.rows, start=1):
            when = datetime.fromtimestamp(t, UTC).isoformat()
            rows.append({"occurred_at": when, **r, "source_key": f"demo:{n}"})
        return DemoNetwork(
            rows=rows,
            team=[p.identity for p in self.team],
            bots=bots,
            do_not_contact=[p.identity for p in self.persons[: self.n_people] if p.dnc],
        )
