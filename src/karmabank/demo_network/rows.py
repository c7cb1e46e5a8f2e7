"""The rows a person leaves: their activity, and what the organization gives back."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from karmabank.demo_network.parts import Person
from karmabank.demo_network.several import SeveralChannels
from karmabank.demo_network.vocabulary import (
    CLOSERS,
    DAY,
    FALLBACK,
    GITHUB_LINES,
    GROUPS,
    HELP_LINES,
    HOUR,
    KINDS,
    LINES,
    MONTHS,
    OPENERS,
    PLACES,
    REPLY_LINES,
    THEMES,
)


class Rows(SeveralChannels):
    """Each person's rows, and the gives that answer them."""

    def emit(
        self,
        t: int,
        p: Person,
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
        self, t: int, p: Person, verb: str, channel: str, obj: str = "", text: str = ""
    ) -> None:
        if t <= self.t_end:
            self.emit(t, p, verb, "give", channel, obj, text)

    def line(self, p: Person, lines: dict[str, tuple[str, ...]] = LINES, about: str = "") -> str:
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

    def reply_text(self, p: Person) -> str:
        group = GROUPS[self.rng.choice(p.themes)] if p.profile != "team" else "team"
        return self.rng.choice(REPLY_LINES).format(first=p.first, group=group)

    def post_url(self, p: Person) -> str:
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

    def person_rows(self, p: Person) -> None:
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

    def follow(self, t: int, p: Person) -> None:
        channel = p.platform if p.profile in ("social", "github") else "email"
        obj = "" if channel != "email" else "Newsletter"
        self.emit(t, p, "follow", "in", channel, obj)
        if self.rng.random() < (0.7 if channel == "email" else 0.3):
            text = f"Welcome to Riverside Commons, {p.first}!"
            self.give(self.lag(t, 10 if channel == "email" else 4), p, "welcome", channel, "", text)

    def activity(self, t: int, d: int, p: Person, kind: str) -> None:
        """One activity of `kind` (a key of KINDS' weights) by `p` at `t` on day `d`, with
        what the organization gives back for it."""
        if kind == "peer":
            self.peer_slots.append((t, p.idx, p.peer_channel))
            firsts = self.first_on[p.peer_channel]
            firsts[p.idx] = min(t, firsts.get(p.idx, t))
        elif kind in ("like", "share", "reply", "mention"):
            self.on_social(t, d, p, kind)
        elif kind == "blog_comment":
            self.blog_comment(t, d, p)
        elif kind == "email_reply":
            self.email_reply(t, d, p)
        elif kind in ("forum_post", "forum_reply"):
            self.on_forum(t, d, p, kind)
        elif kind in ("gh_comment", "gh_reply", "gh_like"):
            self.on_github(t, d, p, kind)
        elif kind == "donate":
            self.emit(t, p, "donate", "in", "donations", "General fund")
            if self.rng.random() < 0.9:
                text = f"Thank you for your donation, {p.first}!"
                self.give(self.lag(t, 30), p, "thank", "email", "General fund", text)
        elif kind in ("event", "volunteer"):
            self.event(t, d, p, volunteer=kind == "volunteer")

    def on_social(self, t: int, d: int, p: Person, kind: str) -> None:
        rng = self.rng
        ch = p.platform
        item = self.recent(self.posts, d, p.themes)
        post = item.ref
        if kind in ("like", "share"):
            self.emit(t, p, kind, "in", ch, post)
            if kind == "share" and rng.random() < 0.08:
                self.give(self.lag(t, 6), p, "thank", ch, post, f"Thanks for sharing, {p.first}!")
        else:
            i = self.emit(t, p, kind, "in", ch, post, self.line(p, about=item.theme))
            self.text_rows.append(i)
            if rng.random() < 0.35:
                self.give(self.lag(t, 3), p, "reply", ch, post, self.reply_text(p))
        if rng.random() < 0.04:
            self.give(self.lag(t, 20), p, "share", ch, self.post_url(p))

    def blog_comment(self, t: int, d: int, p: Person) -> None:
        rng = self.rng
        item = self.recent(self.posts, d, p.themes)
        post = item.ref
        i = self.emit(t, p, "comment", "in", "blog", post, self.line(p, about=item.theme))
        self.comment_rows.append(i)
        if rng.random() < 0.45:
            self.give(self.lag(t, 10), p, "reply", "blog", post, self.reply_text(p))
        elif rng.random() < 0.1:
            self.team_reply(t, p, "blog", post)

    def email_reply(self, t: int, d: int, p: Person) -> None:
        obj = f"Newsletter: {MONTHS[self.dates[d].month - 1]} {self.dates[d].year}"
        i = self.emit(t, p, "reply", "in", "email", obj, self.line(p))
        self.text_rows.append(i)
        if self.rng.random() < 0.5:
            self.give(self.lag(t, 20), p, "reply", "email", obj, self.reply_text(p))

    def on_forum(self, t: int, d: int, p: Person, kind: str) -> None:
        rng = self.rng
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

    def on_github(self, t: int, d: int, p: Person, kind: str) -> None:
        rng = self.rng
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

    def event(self, t: int, d: int, p: Person, *, volunteer: bool) -> None:
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

    def team_reply(self, t: int, p: Person, channel: str, obj: str) -> None:
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
