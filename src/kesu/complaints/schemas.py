"""Request bodies of the complaints API, with errors users can act on."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from kesu.channels import phones
from kesu.clock import BEIJING, OUT_OF_RANGE, in_supported_range
from kesu.complaints import vocabulary as vocab
from kesu.complaints.lifecycle import ACTIONS

MAX_DESCRIPTION = 5000


def _one_of(table: dict[str, dict], code: str, label: str):
    def check(value: str) -> str:
        if value not in table:
            raise PydanticCustomError(
                code,
                "未知的{label}“{value}”，可选：{choices}",
                {"label": label, "value": value, "choices": "、".join(table)},
            )
        return value

    return AfterValidator(check)


def _enum(table: dict[str, dict]) -> Any:
    # Stated in the document; checked by _one_of (which answers with the field's own code).
    return Field(json_schema_extra={"enum": list(table)})


# What _phone accepts, stated for the document: 5–20 digits, an optional +86 in front,
# spaces, dashes and brackets between them.
PHONE_PATTERN = r"^(\+86)?[ ()-]*([0-9][ ()-]*){5,20}$"


def _phone(value: str) -> str:
    number = phones.digits(value)
    if not phones.is_phone(number):
        raise PydanticCustomError(
            "invalid_phone", "电话号码“{value}”格式不对，应为5到20位数字。", {"value": value}
        )
    return number


def _province(value: str) -> str:
    name = vocab.normalize_province(value)
    if name is None:
        raise PydanticCustomError(
            "unknown_province",
            "未知的省份“{value}”，请填写省级行政区全称（如“河南省”）或6位行政区划代码。",
            {"value": value},
        )
    return name


def _received_at(value: Any) -> Any:
    # A time without an offset is Beijing time.
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise PydanticCustomError(
                "invalid_datetime",
                "时间“{value}”格式不对，应为 ISO 8601（如 2026-11-28T09:30:00+08:00）。",
                {"value": value},
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=BEIJING)
    return value


def _received_in_range(value: datetime | None) -> datetime | None:
    if value is not None and not in_supported_range(value):
        raise PydanticCustomError("date_out_of_range", "受理时间超出范围：" + OUT_OF_RANGE)
    return value


Text200 = Annotated[str, Field(max_length=200)]
Channel = Annotated[str, _enum(vocab.CHANNELS), _one_of(vocab.CHANNELS, "unknown_channel", "渠道")]
Kind = Annotated[str, _enum(vocab.KINDS), _one_of(vocab.KINDS, "unknown_kind", "类型")]
Category = Annotated[
    str, _enum(vocab.CATEGORIES), _one_of(vocab.CATEGORIES, "unknown_category", "分类")
]
Priority = Annotated[
    str, _enum(vocab.PRIORITIES), _one_of(vocab.PRIORITIES, "unknown_priority", "优先级")
]
TEAM_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"


def _team_code(value: str) -> str:
    # The teams live in the database (admins add them): registration checks it is one.
    if not re.fullmatch(TEAM_PATTERN, value):
        raise PydanticCustomError(
            "unknown_team",
            "未知的班组“{value}”，可选：{choices}",
            {"value": value, "choices": "、".join(vocab.TEAMS)},
        )
    return value


def _not_derived(value: str) -> str:
    if value in vocab.DERIVED_FLAGS:
        raise PydanticCustomError(
            "derived_flag",
            "“{name}”标记由系统按规则判定，登记时不能填写。",
            {"name": vocab.RISK_FLAGS[value]["name"]},
        )
    return value


# Documented as the teams a new installation has (the file's); the teams admins add are
# accepted too: registration checks the code against the teams in the database.
Team = Annotated[str, Field(max_length=40), _enum(vocab.TEAMS), AfterValidator(_team_code)]
# A flag given at registration: one of the vocabulary's, not one kesu derives (repeat).
_GIVEN_FLAGS = {k: v for k, v in vocab.RISK_FLAGS.items() if k not in vocab.DERIVED_FLAGS}
RiskFlag = Annotated[
    str,
    _enum(_GIVEN_FLAGS),
    _one_of(vocab.RISK_FLAGS, "unknown_risk_flag", "风险标记"),
    AfterValidator(_not_derived),
]


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: Annotated[
        str,
        Field(max_length=32, json_schema_extra={"pattern": PHONE_PATTERN}),
        AfterValidator(_phone),
    ]
    name: Annotated[str, Field(max_length=50)] | None = None
    account: Annotated[str, Field(max_length=64)] | None = None
    province: (
        Annotated[
            str,
            Field(max_length=20, json_schema_extra=vocab.province_schema()),
            AfterValidator(_province),
        ]
        | None
    ) = None
    city: Annotated[str, Field(max_length=50)] | None = None
    area: Literal["urban", "rural"] = "urban"


class ComplaintIn(BaseModel):
    """A complaint to register."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Channel
    received_at: Annotated[
        datetime | None, BeforeValidator(_received_at), AfterValidator(_received_in_range)
    ] = None
    customer: CustomerIn
    kind: Kind | None = None
    category: Category | None = None
    title: Text200 | None = None
    # Stripped of surrounding spaces before the length is checked: at least one non-space.
    description: Annotated[
        str,
        Field(min_length=1, max_length=MAX_DESCRIPTION, json_schema_extra={"pattern": r"\S"}),
    ]
    demands: Annotated[str, Field(max_length=2000)] | None = None
    risk_flags: Annotated[list[RiskFlag], Field(max_length=10)] = []
    priority: Priority | None = None
    team: Team | None = None
    first_receiver: Annotated[str, Field(max_length=64)] | None = None
    # The reseller whose sale the complaint is about (its users will see it, masked).
    reseller: Annotated[str, Field(max_length=100)] | None = None


# The hotline form asks more of the agent than the API asks of a system: the agent has
# the caller on the line and can ask again, a system passes on what it received (and
# triage's validity check flags what is too thin to act on). One definition, here.
MIN_FORM_DESCRIPTION = 10


def _mainland_phone(value: str) -> str:
    if not phones.is_mainland(value):
        raise PydanticCustomError(
            "invalid_phone",
            "电话号码“{value}”不对：手机号应为11位、以13–19开头；"
            "固定电话请带区号（如 0371-65432100）。",
            {"value": value},
        )
    return value


def _province_given(value: str | None) -> str | None:
    if value is None:
        raise PydanticCustomError("province_required", "请选择客户所在的省份。")
    return value


def _described(value: str) -> str:
    n = len("".join(value.split()))
    if n < MIN_FORM_DESCRIPTION:
        raise PydanticCustomError(
            "description_too_short",
            "投诉内容太短（{n} 个字），请至少写 {min} 个字，说清发生了什么、客户要求什么。",
            {"n": n, "min": MIN_FORM_DESCRIPTION},
        )
    return value


class FormCustomerIn(CustomerIn):
    """The caller as the hotline form takes them: a mainland number, the province."""

    phone: Annotated[
        str,
        Field(max_length=32, json_schema_extra={"pattern": PHONE_PATTERN}),
        AfterValidator(_phone),
        AfterValidator(_mainland_phone),
    ]
    province: Annotated[
        str | None,
        Field(max_length=20, validate_default=True),
        AfterValidator(lambda v: v if v is None else _province(v)),
        AfterValidator(_province_given),
    ] = None


class FormComplaintIn(ComplaintIn):
    """A complaint typed on the hotline form: ComplaintIn's rules and the form's own."""

    customer: FormCustomerIn
    description: Annotated[
        str,
        Field(min_length=1, max_length=MAX_DESCRIPTION),
        AfterValidator(_described),
    ]


class SplitIn(BaseModel):
    """The second problem a complaint raised, registered as a complaint of its own
    (complaints.split): its category (another than the first's) and its description."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: Category
    # Stated for the document as _described checks it: 10 characters besides spaces.
    description: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_DESCRIPTION,
            json_schema_extra={"pattern": r"(\S\s*){" + str(MIN_FORM_DESCRIPTION) + "}"},
        ),
        AfterValidator(_described),
    ]
    title: Text200 | None = None
    kind: Kind | None = None
    demands: Annotated[str, Field(max_length=2000)] | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


class ActionParams(BaseModel):
    """What an action takes besides its name (one complaint's transition, or a bulk action)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: Annotated[str, Field(max_length=2000)] | None = None
    resolution: Annotated[str, Field(max_length=MAX_DESCRIPTION)] | None = None
    compensation: (
        Annotated[
            Decimal,
            Field(ge=0, le=10_000_000, allow_inf_nan=False),
            WithJsonSchema({"type": "number", "minimum": 0, "maximum": 10_000_000}),
        ]
        | None
    ) = None
    root_cause: Annotated[str, Field(max_length=40)] | None = None
    remedy_kind: (
        Annotated[str, Field(max_length=20, json_schema_extra={"enum": list(vocab.REMEDY_KINDS)})]
        | None
    ) = None
    team: Annotated[str, Field(max_length=40)] | None = None
    assignee: Annotated[str, Field(max_length=64)] | None = None
    result: Annotated[str, Field(max_length=40)] | None = None
    # The callback's satisfaction survey: question code → answer code
    # (data/complaints/survey.yaml); its overall answer is the result.
    survey: (
        Annotated[
            dict[
                Annotated[str, Field(max_length=40)],
                Annotated[str, Field(max_length=40)],
            ],
            Field(max_length=20),
        ]
        | None
    ) = None
    reason: Annotated[str, Field(max_length=40)] | None = None
    expected_on: Annotated[str, Field(max_length=10, examples=["2026-12-20"])] | None = None
    into: Annotated[str, Field(max_length=20)] | None = None
    category: Annotated[str, Field(max_length=40)] | None = None
    add_flags: Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=10)] = []
    remove_flags: Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=10)] = []


ActionName = Annotated[str, Field(max_length=40, json_schema_extra={"enum": list(ACTIONS)})]


class TransitionIn(ActionParams):
    """An action on a complaint. Which fields an action needs: see the docs."""

    action: ActionName
    expected_version: int | None = None


MAX_BULK = 500


def _bulk_numbers(values: list[str]) -> list[str]:
    if not values:
        raise PydanticCustomError("numbers_required", "请至少选择一件投诉单。")
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise PydanticCustomError(
                "duplicate_numbers", "单号“{value}”重复，每件投诉单只能出现一次。", {"value": value}
            )
        seen.add(value)
    return values


class BulkIn(BaseModel):
    """One action on several complaints, each changed (or refused) on its own."""

    model_config = ConfigDict(extra="forbid")

    numbers: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=20)]],
        Field(max_length=MAX_BULK, json_schema_extra={"minItems": 1, "uniqueItems": True}),
        AfterValidator(_bulk_numbers),
    ]
    action: ActionName
    params: ActionParams = ActionParams()
    note: Annotated[str, Field(max_length=2000)] | None = None
