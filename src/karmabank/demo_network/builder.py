"""The whole network, assembled in a fixed order from one random source."""

from __future__ import annotations

from datetime import UTC, datetime

from karmabank.demo_network.network import DemoNetwork
from karmabank.demo_network.organization import Organization
from karmabank.demo_network.vocabulary import SCRIPT_TEXT, SPECIAL_TEXTS


class Builder(Organization):
    """Calendar, people, their rows, peers, team, asks, bots: then sorted and numbered."""

    def build(self) -> DemoNetwork:
        rng = self.rng
        self.build_calendar()
        self.make_people()
        for p in self.persons[: self.n_people]:
            self.person_rows(p)
        self.second_rows()
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
            also = r.pop("also", "")
            rows.append({"occurred_at": when, **r, "source_key": f"demo:{n}", "also": also})
        return DemoNetwork(
            rows=rows,
            team=[p.identity for p in self.team],
            bots=bots,
            do_not_contact=[p.identity for p in self.persons[: self.n_people] if p.dnc],
            same_person=list(self.same_person),
            namesakes=list(self.namesakes),
            shared_mailbox=self.shared_mailbox,
        )

    def second_rows(self) -> None:
        """The second identities' rows; a stated one's last row names the first identity."""
        first_of = {second: first for first, second in self.same_person}
        for s in self.seconds:
            start = len(self.rows)
            self.person_rows(s)
            if s.identity in self.stated:
                mine = [
                    i for i in range(start, len(self.rows))
                    if self.rows[i][1]["person"] == s.identity
                    and self.rows[i][1]["direction"] == "in"
                ]  # fmt: skip
                if mine:
                    last = max(mine, key=lambda i: self.rows[i][0])
                    self.rows[last][1]["also"] = first_of[s.identity]
