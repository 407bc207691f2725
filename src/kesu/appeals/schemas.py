"""What an appeal arrives as (`POST /api/v1/appeals`, the centre's form, a letter or call
registered by staff, the ministry platform's file), and the actions' bodies.

Types and lengths are checked here (a bad value is a 422 naming the field); whether the
items of 申诉处理办法 第十二条 are all there is not: an appeal missing some is still
received, and the appellant is told what to add (appeals.materials)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kesu.appeals.lifecycle import ACTIONS
from kesu.complaints.schemas import Category

Short = Annotated[str, Field(max_length=100)]
Long = Annotated[str, Field(max_length=4000)]
CHANNELS = {
    "web": {"name": "网站", "en": "Web form"},
    "letter": {"name": "信函", "en": "Letter"},
    "phone": {"name": "电话", "en": "Phone"},
    "api": {"name": "接口", "en": "API"},
    "import": {"name": "部平台导入", "en": "Ministry platform file"},
}


class AppellantIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Short | None = None
    phone: Annotated[str, Field(max_length=20, pattern=r"^\+?[0-9][0-9 -]{4,19}$")] | None = None
    address: Annotated[str, Field(max_length=300)] | None = None
    postcode: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = None


class Declared(BaseModel):
    """Facts the officer confirms that the data cannot decide (第十条（一）, 第十一条（二）
    （四）（六）): true, false, or unknown (null)."""

    model_config = ConfigDict(extra="forbid")
    direct_interest: bool | None = None
    settled: bool | None = None
    other_body: bool | None = None
    other_law: bool | None = None
    # 第十一条（三）: the officer's word on whether the centre handled the matter already;
    # when given it overrides the likeness of the texts (appeals.conditions).
    already_handled: bool | None = None
    # 第十条（四）: the officer's word that the appellant did (or did not) complain to the
    # operator about this matter, where the operator's own record does not bear out the
    # date given (appeals.operator_evidence); false sends the appellant to the operator
    # first (第十三条).
    complaint_verified: bool | None = None


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    appellant: AppellantIn = Field(default_factory=AppellantIn)
    operator: Annotated[str, Field(max_length=40, pattern=r"^[a-z][a-z0-9_-]{1,39}$")] | None = None
    operator_name: Short | None = None
    request: Long | None = None
    reasons: Long | None = None
    facts: Long | None = None
    dispute: Literal["fee", "other"] = "other"
    category: Category | None = None
    occurred_at: date | None = None
    complained_at: date | None = None
    operator_answered_at: date | None = None
    appeal_date: date | None = None
    received_at: datetime | None = None
    channel: Literal["web", "letter", "phone", "api", "import"] = "api"
    external_ref: Annotated[str, Field(max_length=60, pattern=r"^[A-Za-z0-9_.:-]+$")] | None = None
    declared: Declared = Field(default_factory=Declared)


class TransitionIn(BaseModel):
    """One action on an appeal with its parameters (which ones each action takes:
    appeals.lifecycle)."""

    model_config = ConfigDict(extra="forbid")
    action: Annotated[str, Field(max_length=30, json_schema_extra={"enum": list(ACTIONS)})]
    params: dict[str, Any] = Field(default_factory=dict)
