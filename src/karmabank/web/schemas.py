"""What the API takes and returns, as pydantic models, so /openapi.json describes it.

Input strings are checked to be text a database can keep (no NUL, no lone surrogates) and
bounded in length; ids are bounded to what an integer column holds. Anything else is the
actions' business: they raise `KarmabankError`s that the app turns into 4xx answers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

MAX_ID = 2**31 - 1  # PostgreSQL's integer


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _text(max_length: int, min_length: int = 0) -> StringConstraints:
    return StringConstraints(min_length=min_length, max_length=max_length)


_STORABLE = AfterValidator(_storable)
STORABLE = _STORABLE  # the pages' form and query fields are checked the same way
Ref = Annotated[str, _text(300, 1), _STORABLE]
Name = Annotated[str, _text(200, 1), _STORABLE]
Short = Annotated[str, _text(64), _STORABLE]
Verb = Annotated[str, _text(32, 1), _STORABLE]
Channel = Annotated[str, _text(32), _STORABLE]
Body = Annotated[str, _text(100_000), _STORABLE]
ObjectText = Annotated[str, _text(2000), _STORABLE]
Keyword = Annotated[str, _text(100), _STORABLE]
Description = Annotated[str, _text(5000), _STORABLE]
Email = Annotated[str, _text(254, 3), _STORABLE]
Password = Annotated[str, _text(1024), _STORABLE]
Instant = Annotated[str, _text(64, 1), _STORABLE]


class PersonRef(BaseModel):
    id: int
    name: str | None
    identities: list[str]


class PersonRow(PersonRef):
    circle: str | None
    status: str | None
    stage: str | None
    warmth: float | None
    balance: float | None
    activities: int
    last_seen: str | None
    flags: list[str]


class PeoplePage(BaseModel):
    items: list[PersonRow]
    offset: int
    limit: int
    next_offset: int | None = Field(description="Ask again from here; null on the last page.")


class ActivityIn(BaseModel):
    direction: Literal["in", "give", "ask"]
    person: Ref = Field(description="An id, an identity platform:key (a new one creates its "
                        "person) or a unique name.")  # fmt: skip
    verb: Verb = Field(description="e.g. comment, donate, thank, ask.")
    at: Instant | None = Field(None, description="ISO-8601, naive is UTC (default: now).")
    channel: Channel | None = None
    text: Body | None = None
    object: ObjectText | None = None
    weight: Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)] | None = None
    name: Name | None = Field(None, description="Name of a new person.")


class ActivityOut(BaseModel):
    id: int
    person_id: int
    direction: str
    verb: str
    channel: str
    occurred_at: str
    object: str | None
    text: str | None
    weight: float | None


class FlagIn(BaseModel):
    flag: Literal["team", "bot", "do_not_contact"]
    on: bool = True


class FlagOut(BaseModel):
    person: PersonRef
    flag: str
    on: bool


class ErasureOut(BaseModel):
    """What an erasure did, in counts only (what its audit entry says too)."""

    person_id: int
    erased: bool
    tombstones: int
    removed: dict[str, int]
    mentions_rewritten: dict[str, int]
    rescored: bool


class IssueIn(BaseModel):
    name: Name
    keywords: list[Keyword] = Field(min_length=1, max_length=200)
    description: Description = ""


class IssueOut(BaseModel):
    id: int
    name: str
    keywords: list[str]
    description: str


class NurtureItemOut(BaseModel):
    id: int
    kind: str
    person: PersonRef
    circle: str | None
    reason: str
    priority: float
    next_step: str
    draft: str
    channel: str | None


class NurtureDoneOut(BaseModel):
    item_id: int
    status: str
    activity: ActivityOut


class NurtureStatusOut(BaseModel):
    item_id: int
    status: str
    snoozed_until: str | None


class CampaignIn(BaseModel):
    name: Name
    action: Literal["share", "attend", "register", "donate", "volunteer", "sign", "introduce",
                    "custom"]  # fmt: skip
    budget: int = Field(ge=1, le=1_000_000, description="At most this many asks.")
    issue: Ref | None = Field(None, description="The issue it serves (id or name).")
    deadline: Instant | None = Field(None, description="ISO-8601: when it must be done.")
    target_reach: float | None = Field(
        None, gt=0, le=1e12,
        description="The expected reach wanted: the plan asks no more once it is met.",
    )  # fmt: skip


class CampaignOut(BaseModel):
    id: int
    name: str
    action: str
    issue: str | None
    budget: int
    deadline: str | None
    created_at: str
    planned_at: str | None
    expected_reach: float | None
    target_reach: float | None


class Funnel(BaseModel):
    planned: int
    sent: int
    yes: int
    no: int
    acted: int
    thanked: int


class CampaignRow(CampaignOut):
    status: Literal["new", "planned", "sent"] = Field(
        description="new: never planned; planned: nothing sent yet; sent: asks went out."
    )
    funnel: Funnel


class Refused(BaseModel):
    person: PersonRef
    reason: str


class SendOut(BaseModel):
    campaign: str
    sent: list[PersonRef]
    refused: list[Refused]


class ResponseIn(BaseModel):
    person: Ref
    response: Literal["yes", "no", "acted"]


class ResponseOut(BaseModel):
    campaign: str
    person: PersonRef
    status: str
    recorded: str | None


class UserOut(BaseModel):
    id: int
    email: str
    role: str
    created_at: str
    disabled: bool


class UserIn(BaseModel):
    email: Email
    role: Literal["owner", "organizer", "viewer"]
    password: Password | None = Field(
        None, description="At least 10 characters; omit it to have one generated."
    )


class TokenOut(BaseModel):
    id: int
    email: str = Field(description="Whose token it is.")
    created_at: str
    last_used_at: str | None


class NewUserOut(UserOut):
    password: str | None = Field(description="The generated password, shown this once.")


class Me(BaseModel):
    id: int
    email: str
    role: str
    permissions: list[str]
    via: Literal["token", "session"]
    csrf_token: str | None = Field(
        description="With a session cookie: send it as X-CSRF-Token on POST requests."
    )


class Problem(BaseModel):
    detail: str


# -- merging (identity resolution) ---------------------------------------------------------------


class EvidenceField(BaseModel):
    field: str = Field(description="name, handle or domain")
    level: str = Field(description="How they compare, e.g. 'same name', 'missing', 'disagrees'.")
    weight: float = Field(description="Its match weight: log2(m/u), how much it moved the pair.")


class Evidence(BaseModel):
    """The matcher's evidence field by field; other keys (a source that linked the two) pass
    through as they are stored. A merge no suggestion lent its word to has none: `{}`."""

    model_config = ConfigDict(extra="allow")
    fields: list[EvidenceField] | None = None
    match_weight: float | None = Field(None, description="The prior plus the fields' weights.")
    same_platform: str | None = Field(
        None, description="A platform both hold an identity on: review only, never auto."
    )


class ChannelCount(BaseModel):
    channel: str
    activities: int


class SuggestedPerson(PersonRef):
    flags: list[str]
    activities: int = Field(description="What they did (direction in).")
    last_activity_at: str | None
    channels: list[ChannelCount] = Field(description="Where they did it, most used first.")


class SuggestionOut(BaseModel):
    id: int
    a: SuggestedPerson
    b: SuggestedPerson
    confidence: float = Field(description="The probability (0-1) that they are one person.")
    evidence: Evidence
    action: Literal["auto", "review"]


class SuggestionPage(BaseModel):
    items: list[SuggestionOut]
    total: int = Field(description="Open suggestions at or above min_confidence, in all.")
    offset: int
    limit: int
    next_offset: int | None = Field(description="Ask again from here; null on the last page.")


class MergeIn(BaseModel):
    a: Ref = Field(description="A person: an id `id:N`, an identity platform:key or a name.")
    b: Ref
    why: Description | None = None


class NeverIn(MergeIn):
    pass


class MergedPersons(BaseModel):
    kept: PersonRef
    absorbed: PersonRef = Field(description="As they were when merged; back on unmerge.")


class MergeOut(BaseModel):
    id: int
    at: str
    decided_by: str = Field(description="web:EMAIL, cli, auto or source.")
    why: str | None
    confidence: float | None
    evidence: Evidence
    persons: MergedPersons
    undone_at: str | None


class NeverOut(BaseModel):
    a: PersonRef
    b: PersonRef
    at: str
    decided_by: str
    why: str | None
