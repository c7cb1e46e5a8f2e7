"""A seeded cross-platform world of accounts, with the truth of who is whom (issue 15).

The test and benchmark ground for identity resolution: personas, each seen on one to four of
email, Mastodon, GitHub, Bluesky and X, under the names and handles real people use:
- display names vary by account: the full name, a nickname (Bob for Robert, Liz for Elizabeth,
  Pepe for José...), the name without its diacritics, an initial ("R. Smith"), the first name
  alone, or no name at all (a handle-only account);
- handles are often reused across platforms, often derived from the name (`robsmith`,
  `r.smith`, `smithr`), sometimes unrelated (`stargazer`), sometimes with digits; a handle is
  handed out once in the whole world (the default), or, with `per_platform=True`, once per
  namespace (a platform, a Mastodon instance, a mail domain) as the real platforms do, so two
  strangers named alike hold the same handle on two platforms (that world also draws from
  wider pools of names, so namesakes are mostly of common names);
- some accounts state others of the same persona (profile links, `also`), which an import joins
  into one person; some personas have a website, which a custom-domain Bluesky handle repeats;
- surnames and first names are drawn heavy-tailed, so strangers share common names ("Maria
  Garcia" several times) and a few pairs of strangers share a full rare-ish name on purpose;
- bots named after people (flagged `bot`), team members (flagged `team` on all their accounts),
  and shared family mailboxes (one email, several people's names signing it).

Pure: no database, no clock, no I/O. Every draw comes from one `random.Random(seed)` in a fixed
order, so one seed gives one world. `persons` are what an import would store: the accounts
joined through shared identities (the profile links), each with its names, identities and
flags; `persona` of each is the truth (two persons are one human when their personas are equal).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

FIRST_NAMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Robert", ("Bob", "Rob", "Bobby")), ("Elizabeth", ("Liz", "Beth", "Lizzie")),
    ("José", ("Pepe",)), ("William", ("Bill", "Will")), ("Margaret", ("Maggie", "Peggy")),
    ("Katherine", ("Kate", "Katie")), ("James", ("Jim", "Jimmy")), ("Alexander", ("Alex",)),
    ("Jennifer", ("Jen",)), ("Michael", ("Mike",)), ("Richard", ("Rick", "Dick")),
    ("Francisco", ("Paco",)), ("María", ()), ("Ngozi", ()), ("Zoë", ()), ("Søren", ()),
    ("Björn", ()), ("Chloé", ()), ("François", ()), ("Anaïs", ()), ("Łukasz", ()), ("Wei", ()),
    ("Priya", ()), ("Aoife", ()), ("Daniel", ("Dan", "Danny")), ("Susan", ("Sue",)),
    ("Thomas", ("Tom",)), ("Patricia", ("Pat", "Trish")), ("Anna", ()), ("Jürgen", ()),
    ("Olga", ()), ("Kwame", ()), ("Fatima", ()), ("Hiroshi", ()), ("Ingrid", ()), ("Mateo", ()),
)  # fmt: skip
SURNAMES: tuple[str, ...] = (
    "Garcia", "Smith", "Nguyen", "Müller", "Kim", "Johnson", "Martínez", "Brown", "Okafor",
    "Wójcik", "Þórsdóttir", "Achterberg", "Castellanos", "Lindqvist", "Haddad", "O'Brien",
    "Novák", "Fernández", "Kowalski", "Tanaka", "Mensah", "Dubois", "Rossi", "Petrov",
    "Ibáñez", "Szabó", "Eriksen", "Moreau", "Papadopoulos", "Van der Berg", "Çelik", "Ahmed",
    "Jansen", "Okonkwo", "Bianchi", "Sørensen", "Yilmaz", "Kovačević", "Delacroix", "Abara",
)  # fmt: skip
# the wider pools of the per-platform world (`generate(per_platform=True)`): a network's
# supporters rarely share a full name unless it is a common one
EXTRA_FIRST_NAMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Anthony", ("Tony",)), ("Christopher", ("Chris",)), ("Nicholas", ("Nick",)),
    ("Edward", ("Ed", "Ted")), ("Joseph", ("Joe",)), ("Samuel", ("Sam",)),
    ("Benjamin", ("Ben",)), ("Ignacio", ("Nacho",)), ("Amara", ()), ("Leila", ()), ("Luca", ()),
    ("Malik", ()), ("Sofía", ()), ("Ana", ()), ("Yusuf", ()), ("Mei", ()), ("Aarav", ()),
    ("Émilie", ()), ("Noémie", ()), ("Tomasz", ()), ("Agnieszka", ()), ("Oluwaseun", ()),
    ("Siobhán", ()), ("Astrid", ()), ("Henrik", ()), ("Giulia", ()), ("Ravi", ()), ("Yuki", ()),
    ("Camila", ()), ("Diego", ()), ("Chiara", ()), ("Nadia", ()), ("Omar", ()), ("Lars", ()),
)  # fmt: skip
EXTRA_SURNAMES: tuple[str, ...] = (
    "Williams", "Jones", "Miller", "Davis", "Rodríguez", "López", "González", "Wilson",
    "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Pérez", "Thompson",
    "White", "Harris", "Sánchez", "Clark", "Ramírez", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer",
    "Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder",
    "Neumann", "Bernard", "Petit", "Durand", "Leroy", "Moulin", "Ferrari", "Esposito",
    "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "Nowak",
    "Lewandowski", "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski",
    "Horvat", "Kaur", "Singh", "Patel", "Sharma", "Gupta", "Chen", "Wang", "Li", "Zhang",
    "Liu", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Sato", "Suzuki", "Takahashi", "Watanabe",
    "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Park", "Choi", "Jung", "Kang", "Cho",
    "Adeyemi", "Oyelaran", "Nwosu", "Boateng", "Owusu", "Asante", "Kariuki", "Otieno",
    "Kamau", "Mwangi", "Hansen", "Johansson", "Nilsson", "Larsen", "Andersen", "Virtanen",
    "Korhonen", "Murphy", "Kelly", "Walsh", "Byrne", "Ryan", "Doyle", "McCarthy", "Popescu",
    "Ionescu", "Nagy", "Tóth", "Horváth", "Dvořák", "Svoboda", "Novotný", "Ivanov",
    "Smirnov", "Kuznetsov", "Popov", "Silva", "Santos", "Oliveira", "Souza", "Pereira",
    "Costa", "Almeida", "Khan", "Ali", "Hussain", "Rahman", "Aziz", "Demir", "Şahin", "Kaya",
)  # fmt: skip
SYLLABLES: tuple[str, ...] = (
    "ka", "lo", "ven", "dri", "mar", "os", "tu", "ber", "ni", "ga", "sho", "ly", "ran", "el",
    "qui", "ze", "dam", "or", "fi", "hal", "ne", "su", "wick", "ard", "mo", "tes", "bra", "ix",
)  # fmt: skip
WORDS: tuple[str, ...] = (
    "stargazer", "riverfox", "tinkerer", "nightowl", "greenthumb", "pixelpusher", "wanderer",
    "bookworm", "saltmarsh", "quietstorm", "moss", "kestrel", "driftwood", "ember",
)  # fmt: skip
FREE_MAIL: tuple[str, ...] = ("gmail.com", "outlook.com", "yahoo.com", "posteo.de", "proton.me")
INSTANCES: tuple[str, ...] = ("mastodon.social", "hachyderm.io", "fosstodon.org", "mas.to")
TWIN_EVERY = 40
PLATFORMS: tuple[str, ...] = ("email", "mastodon", "github", "bluesky", "x")


@dataclass(frozen=True)
class Account:
    """One account as a source sees it: its identity, the name it shows, what it links."""

    persona: int
    platform: str
    key: str  # normalized as karmabank.identities would
    name: str | None
    also: tuple[str, ...]  # `platform:key` identities the profile states
    bot: bool = False
    team: bool = False
    names: tuple[str, ...] = ()  # several signatures on one identity (a shared mailbox)


@dataclass(frozen=True)
class WorldPerson:
    """A person as an import stores it: accounts joined by the identities they share."""

    id: int
    persona: int
    name: str | None
    names: tuple[str, ...]
    identities: tuple[tuple[str, str], ...]  # (platform, key)
    bot: bool
    team: bool
    shared: bool  # a shared mailbox: several people sign its one identity


@dataclass(frozen=True)
class IdentityWorld:
    accounts: tuple[Account, ...]
    persons: tuple[WorldPerson, ...]

    def true_pairs(self) -> set[tuple[int, int]]:
        """Every pair of persons (lower id first) that are one human."""
        by: dict[int, list[int]] = {}
        for p in self.persons:
            by.setdefault(p.persona, []).append(p.id)
        return {(a, b) for ids in by.values() for i, a in enumerate(ids) for b in ids[i + 1 :]}

    def rows(self) -> list[dict[str, object]]:
        """The persons as the linkage measure's input rows (`measures.identity.features`)."""
        return [
            {"id": p.id, "name": p.name, "names": list(p.names), "bot": p.bot, "team": p.team,
             "identities": list(p.identities)}
            for p in self.persons
        ]  # fmt: skip

    def linked_share(self) -> float:
        """The share of true pairs of accounts that profile links alone join (one person)."""
        person_of = {}
        for p in self.persons:
            for ident in p.identities:
                person_of[ident] = p.id
        by: dict[int, list[int]] = {}
        for a in self.accounts:
            by.setdefault(a.persona, []).append(person_of[(a.platform, a.key)])
        pairs = [(x, y) for ps in by.values() for i, x in enumerate(ps) for y in ps[i + 1 :]]
        return sum(x == y for x, y in pairs) / len(pairs) if pairs else 0.0

    def shared_mailboxes(self) -> set[int]:
        """Persons whose one identity several people sign."""
        return {p.id for p in self.persons if p.shared}


def ascii_fold(text: str) -> str:
    """The text without its diacritics (Zoë -> Zoe; ł, ø, þ kept as their base letters)."""
    special = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "þ": "th", "Þ": "Th"})
    decomposed = unicodedata.normalize("NFKD", text.translate(special))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _slug(text: str) -> str:
    return "".join(c for c in ascii_fold(text).lower() if c.isalnum())


class _Draw:
    """The world's builder: every draw from one generator, in a fixed order."""

    def __init__(self, seed: int, per_platform: bool = False) -> None:
        self.rng = random.Random(seed)
        self.per_platform = per_platform
        self.used: set[tuple[str, str]] = set()
        self.firsts = FIRST_NAMES + (EXTRA_FIRST_NAMES if per_platform else ())
        self.surnames = SURNAMES + (EXTRA_SURNAMES if per_platform else ())

    def zipf(self, n: int, exponent: float) -> int:
        weights = [1.0 / (i + 1) ** exponent for i in range(n)]
        return self.rng.choices(range(n), weights=weights)[0]

    def surname(self) -> str:
        """A common surname (heavy-tailed) two times in five, else a rarer made-up one."""
        if self.rng.random() < 0.4:
            return self.surnames[self.zipf(len(self.surnames), 0.7)]
        return "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 3))).title()

    def unique(self, key: str, space: str = "") -> str:
        """`key`, or the first of key2, key3... not yet taken in `space` (per platform: a
        platform's namespace, a handle taken once per platform, instance or mail domain; else
        once in the whole world)."""
        space = space if self.per_platform else ""
        base, k = key, 1
        while (space, key) in self.used:
            k += 1
            key = f"{base}{k}"
        self.used.add((space, key))
        return key

    def handle(self, first: str, last: str) -> str:
        f, s = _slug(first), _slug(last)
        style = self.rng.random()
        if style < 0.25:
            h = f + s
        elif style < 0.40:
            h = f[0] + s
        elif style < 0.50:
            h = f + s[0]
        elif style < 0.60:
            h = s + f
        elif style < 0.75:  # short and common: strangers end up with the same one
            h = f + str(self.rng.randint(1, 99))
            if self.per_platform:
                return h  # made unique in its namespace (`_key`)
            if self.rng.random() < 0.5:
                return h
        else:
            top = 9999 if self.per_platform else 999
            h = self.rng.choice(WORDS) + str(self.rng.randint(1, top))
        return h if self.per_platform else self.unique(h)

    def display(self, first: str, nick: tuple[str, ...], last: str) -> str | None:
        style = self.rng.random()
        if style < 0.45:
            return f"{first} {last}"
        if style < 0.60 and nick:
            return f"{self.rng.choice(nick)} {last}"
        if style < 0.70:
            return ascii_fold(f"{first} {last}")
        if style < 0.78:
            return f"{first[0]}. {last}"
        if style < 0.85:
            return first
        if style < 0.90:
            return f"{first} {last}".upper() if self.rng.random() < 0.5 else f"{first} {last}"
        return None


def _key(platform: str, handle: str, domain: str | None, d: _Draw) -> str:
    """The account's identity (per platform: the handle made unique in its namespace)."""

    def taken(space: str) -> str:
        return d.unique(handle, space) if d.per_platform else handle

    if platform == "email":
        host = domain or d.rng.choice(FREE_MAIL)
        return f"{taken(host)}@{host}"
    if platform == "mastodon":
        host = d.rng.choice(INSTANCES)
        return f"@{taken(host)}@{host}"
    if platform == "bluesky":
        if domain and d.rng.random() < 0.6:
            return domain
        return f"{taken('bsky.social')}.bsky.social"
    return taken(platform)


def _persona(
    pid: int, d: _Draw, name: tuple[str, tuple[str, ...], str], links: float
) -> list[Account]:
    first, nick, last = name
    rng = d.rng
    n = rng.choices((1, 2, 3, 4), weights=(3, 4, 3, 1))[0]
    platforms = rng.sample(PLATFORMS, n)
    domain = d.unique(f"{_slug(first)}{_slug(last)}") + ".net" if rng.random() < 0.2 else None
    base = d.handle(first, last)
    accounts = []
    for platform in platforms:
        h = base if rng.random() < 0.6 else d.handle(first, last)
        key = _key(platform, h, domain if platform in ("email", "bluesky") else None, d)
        also: list[str] = []
        if domain and platform in ("github", "mastodon") and rng.random() < 0.5:
            also.append(f"web:https://{domain}")
        accounts.append(Account(pid, platform, key, d.display(first, nick, last), tuple(also)))
    if len(accounts) > 1 and rng.random() < links:  # a profile names another account
        a, b = rng.sample(range(len(accounts)), 2)
        link = f"{accounts[b].platform}:{accounts[b].key}"
        accounts[a] = Account(pid, accounts[a].platform, accounts[a].key, accounts[a].name,
                              (*accounts[a].also, link))  # fmt: skip
    return accounts


def _specials(d: _Draw, start: int, n: int, names: list[tuple[str, tuple[str, ...], str]],
              ) -> list[Account]:  # fmt: skip
    """Bots named after people, shared mailboxes and name twins (strangers)."""
    out: list[Account] = []
    pid = start
    for _ in range(max(1, n // 50)):
        first, _nick, last = d.rng.choice(names)
        h = d.unique(_slug(first) + _slug(last) + "_bot", "x")
        out.append(Account(pid, "x", h, f"{first} {last}", (), bot=True))
        pid += 1
    for _ in range(max(1, n // 100)):
        family = d.rng.choice(SURNAMES)
        signers = tuple(f"{first} {family}" for first, _ in d.rng.sample(FIRST_NAMES, 3))
        host = d.rng.choice(FREE_MAIL)
        key = d.unique(f"the{_slug(family)}s", host) + "@" + host
        out.append(Account(pid, "email", key, signers[0], (), names=signers))
        pid += 1
    return out


def _join(accounts: list[Account]) -> list[WorldPerson]:
    """Accounts that share an identity (an `also` link) become one person, as an import would."""
    parent = list(range(len(accounts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, a in enumerate(accounts):
        for ident in (f"{a.platform}:{a.key}", *a.also):
            j = owner.setdefault(ident, i)
            parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(accounts)):
        groups.setdefault(find(i), []).append(i)
    persons = []
    for pid, members in enumerate(sorted(groups.values()), start=1):
        accs = [accounts[i] for i in members]
        idents = {(a.platform, a.key) for a in accs}
        idents |= {tuple(x.split(":", 1)) for a in accs for x in a.also}  # type: ignore[misc]
        names = [nm for a in accs for nm in (a.names or ((a.name,) if a.name else ()))]
        persons.append(WorldPerson(
            pid, accs[0].persona, next((a.name for a in accs if a.name), None),
            tuple(dict.fromkeys(names)), tuple(sorted(idents)),
            any(a.bot for a in accs), any(a.team for a in accs), any(a.names for a in accs),
        ))  # fmt: skip
    return persons


def generate(
    *, seed: int = 0, personas: int = 1000, team: int = 5, links: float = 0.25,
    per_platform: bool = False,
) -> IdentityWorld:
    """A world of about `personas` humans (plus bots and shared mailboxes) and its truth; a
    persona on several platforms has a profile that names another of its accounts with
    probability `links` (the import joins those into one person). `per_platform`: handles
    taken once per platform namespace, not once in the world, and wider pools of names."""
    d = _Draw(seed, per_platform)
    names = [(d.firsts[d.zipf(len(d.firsts), 0.5)], d.surname()) for _ in range(personas)]
    full = [(f[0], f[1], s) for f, s in names]
    for i in range(10, personas - 1, TWIN_EVERY):  # strangers sharing one full name on purpose
        full[i + 1] = full[i]
    accounts: list[Account] = []
    for pid, name in enumerate(full):
        accs = _persona(pid, d, name, links)
        if pid < team:
            accs = [Account(a.persona, a.platform, a.key, a.name, a.also, team=True) for a in accs]
        accounts.extend(accs)
    accounts.extend(_specials(d, personas, personas, full))
    return IdentityWorld(tuple(accounts), tuple(_join(accounts)))
