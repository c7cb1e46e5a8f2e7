"""Sentences a community manager understands, built from a person's scores and their parts.

Pure: values in, words out ("warm because 3 comments this month, a donation in May; ×1.25 for
two channels"; "resting: usually comes every 7 days, quiet for 20 — normal for them").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from karmabank.measures.ledger import ShareRatio
from karmabank.measures.settings import MeasureSettings
from karmabank.model import from_micros

_NUMBERS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
# Verbs said as nouns ("a donation", "two replies"); others are their own noun.
_NOUNS = {
    "donate": "donation", "attend": "event attended", "register": "registration",
    "volunteer": "volunteer shift", "organize": "event organized", "sign": "signature",
    "interact": "interaction", "answer": "answer",
}  # fmt: skip


def _n(n: int) -> str:
    return _NUMBERS[n] if n < len(_NUMBERS) else f"{n:,}"


def _days(d: float) -> str:
    d = round(d, 1)
    return f"{d:g} day" + ("" if d == 1 else "s")


def _verb_count(verb: str, n: int) -> str:
    noun = _NOUNS.get(verb, verb)
    if n == 1:
        return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"
    head, _, tail = noun.partition(" ")
    plural = head[:-1] + "ies" if head.endswith("y") else head + "s"
    return f"{_n(n)} {plural}" + (f" {tail}" if tail else "")


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _period(occurred_at: int, now: datetime) -> str:
    when = from_micros(occurred_at)
    if (when.year, when.month) == (now.year, now.month):
        return "this month"
    if (now - when).days < 300:
        return f"in {when:%B}"
    return f"in {when:%B %Y}"


def warmth_sentence(
    warmth: float, multiplexity: float, channels: int, parts: Sequence[Mapping[str, Any]],
    now: datetime,
) -> str:  # fmt: skip
    """The few activities that make most of the warmth, grouped by verb and month."""
    if not parts:
        return "no warmth yet: nothing from them toward us"
    ranked = sorted(parts, key=lambda p: -float(p["contribution"]))
    total = sum(float(p["contribution"]) for p in parts) or 1.0
    groups: Counter[tuple[str, str]] = Counter()
    shown = 0.0
    for p in ranked:
        key = (str(p["verb"]), _period(int(p["occurred_at"]), now))
        if key not in groups and (len(groups) >= 3 or shown >= 0.8 * total):
            break
        groups[key] += 1
        shown += float(p["contribution"])
    by_period: dict[str, list[str]] = {}
    for (verb, period), n in groups.items():
        by_period.setdefault(period, []).append(_verb_count(verb, n))
    phrases = [f"{_and(items)} {period}" for period, items in by_period.items()]
    rest = len(parts) - sum(groups.values())
    shown_value = f"{warmth:.2f}" if warmth < 10 else f"{warmth:.1f}"
    text = f"warmth {shown_value}: " + ", ".join(phrases)
    if rest > 0:
        text += f" (+{rest:,} older or smaller)"
    if channels > 1:
        text += f"; ×{multiplexity:g} for {_n(channels)} channels"
    return text


def rhythm_sentence(score: Mapping[str, Any], network_cadence: float) -> str:
    status, s = score["status"], score["silence_days"]
    if status is None:
        return "no rhythm yet: nothing from them toward us"
    own = score["cadence_days"] is not None
    c = float(score["cadence_used"])
    every = "every day" if c == 1 else f"every {_days(c)}"
    usual = f"usually comes {every}" if own else (
        f"too few active days for a rhythm of their own; the network's is {_days(network_cadence)}"
    )  # fmt: skip
    quiet = "came today" if s == 0 else f"quiet for {_days(s)}"
    tail = {
        "active": "in their rhythm",
        "resting": "normal for them, no need to nudge",
        "drifting": "longer than usual for someone this warm: check in gently",
        "quiet": "longer than usual",
        "dormant": "over a year",
    }[status]
    return f"{status}: {usual}, {quiet} — {tail}"


def circle_sentence(
    score: Mapping[str, Any], summary: Mapping[str, Any], s: MeasureSettings
) -> str:
    circle, raw = score["circle"], score["raw_circle"]
    if circle is None:
        return "no circle: nothing from them toward us"
    if circle == "newcomers":
        return f"newcomers: first seen {_days(score['tenure_days'])} ago"
    if circle == "observers":
        return "observers: only likes and follows so far"
    rank, ranked = score["warmth_rank"], summary.get("ranked", 0)
    if rank is None:
        why = f"fewer than {s.circles.min_activities} activities toward us"
    else:
        why = f"warmth ranks {rank:,} of {ranked:,}"
    text = f"{circle}: {why}"
    if score["pending_circle"] and raw != circle:
        since = from_micros(int(score["pending_since"]))
        hold = s.circles.demotion_hold_days * 86_400_000_000
        until = from_micros(int(score["pending_since"]) + hold)
        text += (
            f"; ranks as {score['pending_circle']} since {since:%Y-%m-%d}, kept in {circle} "
            f"until {until:%Y-%m-%d} unless they come back"
        )
    return text


def ledger_sentence(score: Mapping[str, Any], s: MeasureSettings, now: datetime) -> str:
    lg = s.ledger
    given, asked, dec = score["given"], score["asked"], score["balance_decayed"]
    head = f"gave {given:g}, asked {asked:g}: balance {score['balance']:g} ({dec:.1f} decayed)"
    rule = score["ask_rule"]
    if rule is None:
        return f"{head}; ready for an ask"
    last = score["last_ask_at"]
    ago = "" if last is None else f"{(now - from_micros(int(last))).days} days ago"
    why = {
        "do_not_contact": "they asked not to be contacted",
        "opted_out": "they opted out of every channel they have",
        "balance": f"give first: an ask costs {lg.ask_weight:g} and would leave "
        f"{dec - lg.ask_weight:.1f}",
        "cooldown": f"asked {ago}; wait {lg.ask_cooldown_days} days between asks",
        "frequency": f"already asked {score['asks_year']} times in {lg.max_asks_days} days, "
        f"at most {lg.max_asks}",
    }[rule]
    return f"{head}; not ready for an ask ({why})"


def stage_sentence(score: Mapping[str, Any]) -> str:
    if score["stage"] is None:
        return "not on the ladder: nothing toward us in the last year"
    return f"{score['stage']} since {from_micros(int(score['stage_at'])):%Y-%m-%d}"


def tenure_sentence(score: Mapping[str, Any]) -> str:
    return (
        f"with us {_days(score['tenure_days'])}; active on {score['presence_30']} of the last 30 "
        f"days, {score['presence_90']} of 90, {score['presence_365']} of 365"
    )


def share_sentence(share: ShareRatio) -> str:
    if share.ratio is None:
        ratio = "no asks" if share.gives else "nothing given or asked"
    else:
        ratio = f"{share.ratio:.1f} gives per ask"
    verdict = share.verdict.split(":")[0]
    return (
        f"{share.gives:,} gives and {share.asks:,} asks in {share.days} days ({ratio}): "
        f"{verdict} (target: {share.target:g} gives per ask)"
    )
