"""The karma ledger: what the organization gave each person and asked of them (PRODUCT.md §3).

given = Σ weight of `give` activities, asked = Σ weight of `ask` activities, balance = given −
asked (all time, and decayed like warmth). Ask-ready iff, in this order: not do_not_contact;
decayed balance − one ask's weight ≥ 0 ("give before you ask"); no ask in the last
`ask_cooldown_days`; and this ask would be at most the `max_asks`-th in `max_asks_days`.
Per-channel opt-outs are not in the stored scores (they are read live, and an opt-out must not
wait for a rescore): `with_opt_outs` applies them to a stored rule, after the ledger's rules,
as the campaign planner does (`opted_out`: no channel of theirs is left to ask on).
The organization's share ratio = gives ÷ asks over `share_ratio_days`.
"""

from __future__ import annotations

from dataclasses import dataclass

from karmabank.measures.settings import LedgerSettings


def ask_rule_sql(dnc: str, balance_decayed: str, asks_recent: str, asks_year: str,
                 lg: LedgerSettings) -> str:  # fmt: skip
    """The first rule a person fails (null: ask-ready)."""
    return f"""CASE
        WHEN {dnc} THEN 'do_not_contact'
        WHEN coalesce({balance_decayed}, 0) - {lg.ask_weight!r} < 0 THEN 'balance'
        WHEN {asks_recent} > 0 THEN 'cooldown'
        WHEN {asks_year} + 1 > {lg.max_asks} THEN 'frequency'
        END"""


def with_opt_outs(rule: str | None, *, channels_left: int) -> str | None:
    """The stored ask rule with the person's opt-outs applied: an ask-ready person with no
    channel left to ask on (`channels_left`: how many of theirs they did not opt out of)
    is kept out by `opted_out`; any other rule stays first."""
    return "opted_out" if rule is None and channels_left == 0 else rule


@dataclass(frozen=True)
class ShareRatio:
    """Gives and asks of the organization over `days`, and what that makes it."""

    days: int
    gives: int
    asks: int
    target: float

    @property
    def ratio(self) -> float | None:
        return self.gives / self.asks if self.asks else None

    @property
    def verdict(self) -> str:
        if self.asks == 0:
            return "a great sharer: no asks" if self.gives else "quiet: no gives, no asks"
        assert self.ratio is not None
        return "a great sharer" if self.ratio >= self.target else "a hoarder"

    def as_json(self) -> dict[str, object]:
        return {
            "days": self.days,
            "gives": self.gives,
            "asks": self.asks,
            "ratio": None if self.ratio is None else round(self.ratio, 2),
            "target": self.target,
            "verdict": self.verdict,
        }
