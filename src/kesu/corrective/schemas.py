"""The bodies of the corrective actions' API (types and lengths; the rules are in
corrective.service and corrective.lifecycle)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from kesu.clock import OUT_OF_RANGE, in_supported_range
from kesu.complaints import vocabulary as vocab
from kesu.corrective.lifecycle import ACTIONS

Text = Annotated[str, Field(min_length=1, max_length=4000)]


def _in_range(value: date) -> date:
    if not in_supported_range(value):
        raise PydanticCustomError("date_out_of_range", "日期超出范围：" + OUT_OF_RANGE)
    return value


Day = Annotated[date, AfterValidator(_in_range)]


class GroupIn(BaseModel):
    """A saved filter: the complaints of this cause / category / province / city (those
    given) received in the last weeks (data/corrective/config.yaml group_window_weeks)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    root_cause: (
        Annotated[str, Field(max_length=40, json_schema_extra={"enum": list(vocab.CLOSING_CAUSES)})]
        | None
    ) = None
    category: (
        Annotated[str, Field(max_length=40, json_schema_extra={"enum": list(vocab.CATEGORIES)})]
        | None
    ) = None
    province: Annotated[str, Field(max_length=20)] | None = None
    city: Annotated[str, Field(max_length=50)] | None = None


class ActionIn(BaseModel):
    """Open a corrective action from one complaint (`complaint`) or a group (`group`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Text
    owner: Annotated[str, Field(min_length=1, max_length=64)]
    due_on: Day
    complaint: Annotated[str, Field(max_length=40)] | None = None
    group: GroupIn | None = None

    def as_body(self) -> dict[str, Any]:
        body = self.model_dump()
        if self.group is not None:
            body["group"] = self.group.model_dump(exclude_none=True)
        return body


class TransitionIn(BaseModel):
    """One lifecycle action: start; close (outcome: what was done); cancel (note: why);
    reassign (owner and/or due_on)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    action: Annotated[str, Field(max_length=20, json_schema_extra={"enum": list(ACTIONS)})]
    outcome: Annotated[str, Field(max_length=4000)] | None = None
    note: Annotated[str, Field(max_length=4000)] | None = None
    owner: Annotated[str, Field(max_length=64)] | None = None
    due_on: Day | None = None
    expected_version: Annotated[int, Field(ge=1)] | None = None


class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: Text
