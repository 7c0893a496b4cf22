"""Contract v1: the wire shape of every event (DESIGN §3).

Three families of messages:

* **Inbound events** (``…In``): what sources send to ingest (HTTP, ledger
  import). A discriminated union on ``type``: the payload is validated against
  its type.
* **Published events**: what ingest writes to the ``advisor-events`` topic and
  appraisal consumes. The inbound event plus ``event_id`` and ``recorded_at``;
  for ratings and complaints ``citizen`` is replaced by ``citizen_ref``
  (HMAC-SHA256 under ingest's key). The published models have no ``citizen``
  field and forbid unknown fields, so a raw citizen identifier can never be
  serialised onto Kafka through them.
* **Output events** on ``appraisal-verdicts`` (``verdict.issued.v1``,
  ``verdict.amended.v1``) and :class:`DeadLetter` on the DLQ topics.

Every model forbids unknown fields and is frozen. Integers and booleans are
strict (``true`` is not 1, ``4.5`` and ``"4"`` are not integers); times are RFC
3339 strings with a UTC offset. The models never read a clock: the future-time
check is ``contracts.check_not_future(event, now)``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final, Literal, get_args
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from contracts import _v1_examples as ex
from contracts.errors import ErrorCode, Violation
from contracts.formats import (
    Citizen,
    CitizenRef,
    CountyId,
    EmptyId,
    FreeText,
    Id,
    IsoDate,
    Label,
    Measure,
    Month,
    OffsetDatetime,
    OptionalFreeText,
    OptionalId,
    OptionalLabel,
    Score,
    SourceName,
)
from contracts.ids import derive_event_id

# ---------------------------------------------------------------------------
# Vocabularies (enums of §3)

Qualification = Literal["lawyer", "grassroots_legal_worker", "public_lawyer", "other"]
AssignmentEndReason = Literal["replaced", "resigned", "term_ended", "dismissed"]
CheckIn = Literal["gps", "qr", "supervisor", "self_reported"]
MediationOutcome = Literal["resolved", "unresolved", "referred"]
ConsultationChannel = Literal["onsite", "wechat", "phone", "hotline_12348", "online_platform"]
RatingChannel = Literal["evaluator_device", "wechat", "callback_12348"]
ComplaintChannel = Literal[
    "onsite", "wechat", "phone", "hotline_12348", "online_platform", "letter"
]
VillageKind = Literal["village", "community"]
Verdict = Literal["RETAIN", "RECTIFY", "REPLACE", "NOT_RATED"]
Grade = Literal["EXCELLENT", "COMPETENT", "BASIC", "FAIL"]
ReasonCode = Literal[
    "GRADE_FAIL",
    "COMPLAINTS_2_PLUS",
    "NONCOMPLIANT_MONTHS_6_PLUS",
    "CONSECUTIVE_RECTIFY",
    "GRADE_BASIC",
    "COMPLAINT_1",
    "NONCOMPLIANT_MONTHS_3_PLUS",
    "LECTURES_SHORT",
    "NIGHT_HOLIDAY_LECTURES_SHORT",
    "LOW_SATISFACTION",
    "INSPECTIONS_FAILED",
    "INSUFFICIENT_SERVICE",
]
ServiceName = Literal["ingest", "appraisal"]

MAX_DUTY_HOURS: Final = 24
"""A single on-site duty interval longer than this is rejected as a data error."""


class ContractModel(BaseModel):
    """Base of every contract model: unknown fields rejected, instances immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


# ---------------------------------------------------------------------------
# Payloads


class VillageRegisteredPayload(ContractModel):
    """A village or community joins the programme (村/社区登记)."""

    model_config = _examples(ex.EX_VILLAGE_REGISTERED)

    village_id: Id = Field(description="Village id (村/社区编号), e.g. the 12-digit division code.")
    name: Label = Field(description="Village or community name (村/社区名称).")
    township_id: Id = Field(description="Township or street id (乡镇/街道编号).")
    kind: VillageKind = Field(description="`village` (村) or `community` (社区).")
    remote: StrictBool = Field(description="Remote village (偏远村): far from the county seat.")


class AdvisorAppointedPayload(ContractModel):
    """An advisor is appointed to a village (聘任村法律顾问). Starts an assignment."""

    model_config = _examples(ex.EX_ADVISOR_APPOINTED)

    name: Label = Field(description="Advisor's name (姓名).")
    qualification: Qualification = Field(
        description=(
            "Qualification (执业类别): `lawyer` (律师), `grassroots_legal_worker` "
            "(基层法律服务工作者), `public_lawyer` (公职律师) or `other`."
        )
    )
    firm: OptionalLabel = Field(
        default="",
        description="Law firm or legal service office (律师事务所/法律服务所); empty if none.",
    )
    license_no: OptionalId = Field(
        default="", description="Practising licence number (执业证号); empty if none."
    )
    village_id: Id = Field(description="The village the advisor is appointed to.")
    appointed_on: IsoDate = Field(
        description="First day of the assignment (inclusive), Asia/Shanghai calendar date."
    )


class AssignmentEndedPayload(ContractModel):
    """An advisor's assignment to a village ends (解聘/任期届满)."""

    model_config = _examples(ex.EX_ASSIGNMENT_ENDED)

    village_id: Id = Field(description="The village whose assignment ends.")
    ended_on: IsoDate = Field(
        description="End of the assignment, exclusive: the first day no longer served."
    )
    reason: AssignmentEndReason = Field(
        description=(
            "`replaced` (调整), `resigned` (辞任), `term_ended` (任期届满) or `dismissed` (解聘)."
        )
    )


class OnsiteDutyPayload(ContractModel):
    """An on-site duty interval in the village (驻村值班/坐班)."""

    model_config = _examples(ex.EX_ONSITE_DUTY)

    village_id: Id = Field(description="The village where the duty was served.")
    started_at: OffsetDatetime = Field(description="Start of the duty, with UTC offset.")
    ended_at: OffsetDatetime = Field(
        description=(
            f"End of the duty, with UTC offset; after `started_at` and at most "
            f"{MAX_DUTY_HOURS} h later."
        )
    )
    check_in: CheckIn = Field(
        description=(
            "How presence was attested (签到方式): `gps`, `qr` (扫码), `supervisor` "
            "(司法所确认) or `self_reported` (自报)."
        )
    )

    @field_validator("ended_at")
    @classmethod
    def _ends_after_start(cls, ended_at: datetime, info: ValidationInfo) -> datetime:
        started_at = info.data.get("started_at")
        if started_at is None:
            return ended_at
        if ended_at <= started_at:
            raise PydanticCustomError(
                ErrorCode.END_BEFORE_START.value, "ended_at must be after started_at"
            )
        if (ended_at - started_at).total_seconds() > MAX_DUTY_HOURS * 3600:
            raise PydanticCustomError(
                ErrorCode.OUT_OF_RANGE.value,
                "a duty interval may last at most {hours} hours",
                {"hours": MAX_DUTY_HOURS},
            )
        return ended_at


class LecturePayload(ContractModel):
    """A legal-education lecture (法治讲座/普法宣传) for the village."""

    model_config = _examples(ex.EX_LECTURE)

    village_id: Id = Field(description="The village the lecture was for.")
    topic: Label = Field(description="Topic (主题).")
    started_at: OffsetDatetime = Field(
        description="Start, with UTC offset (night/holiday status is judged in Asia/Shanghai)."
    )
    duration_minutes: StrictInt = Field(ge=1, le=1440, description="Duration in minutes (时长).")
    attendees: StrictInt = Field(ge=0, le=100_000, description="Number of attendees (参加人数).")
    online: StrictBool = Field(
        description="Held online (线上): counts as off-site credit, not on-site hours."
    )


class MediationPayload(ContractModel):
    """A dispute mediation conducted by the advisor (人民调解/参与调解)."""

    model_config = _examples(ex.EX_MEDIATION)

    village_id: Id = Field(description="The village the dispute belongs to.")
    case_ref: Id = Field(description="Mediation case reference (调解案号).")
    dispute_type: Label = Field(description="Kind of dispute (纠纷类型), e.g. 邻里纠纷.")
    parties: StrictInt = Field(ge=2, le=1000, description="Number of parties (当事人数), ≥ 2.")
    outcome: MediationOutcome = Field(
        description="`resolved` (调解成功), `unresolved` (未成功) or `referred` (移交)."
    )


class ConsultationPayload(ContractModel):
    """A legal consultation (法律咨询), on site or remote."""

    model_config = _examples(ex.EX_CONSULTATION)

    village_id: Id = Field(description="The village of the person consulting.")
    channel: ConsultationChannel = Field(
        description=(
            "`onsite` (现场), `wechat` (微信), `phone` (电话), `hotline_12348` "
            "(12348 热线) or `online_platform` (网络平台)."
        )
    )
    asked_at: OffsetDatetime = Field(description="When the question was asked, with UTC offset.")
    answered_at: OffsetDatetime | None = Field(
        default=None,
        description="When it was answered (not before `asked_at`); null while unanswered.",
    )
    topic: Label = Field(description="Subject of the consultation (咨询事项).")

    @field_validator("answered_at")
    @classmethod
    def _answered_after_asked(
        cls, answered_at: datetime | None, info: ValidationInfo
    ) -> datetime | None:
        asked_at = info.data.get("asked_at")
        if answered_at is not None and asked_at is not None and answered_at < asked_at:
            raise PydanticCustomError(
                ErrorCode.END_BEFORE_START.value, "answered_at must not be before asked_at"
            )
        return answered_at


class DocumentDraftedPayload(ContractModel):
    """A legal document drafted or reviewed for the village (起草/审查法律文书)."""

    model_config = _examples(ex.EX_DOCUMENT_DRAFTED)

    village_id: Id = Field(description="The village the document was for.")
    document_kind: Label = Field(description="Kind of document (文书类型).")


class LegalAidReferralPayload(ContractModel):
    """A referral to legal aid (引导申请法律援助)."""

    model_config = _examples(ex.EX_LEGAL_AID_REFERRAL)

    village_id: Id = Field(description="The village of the person referred.")
    case_ref: Id = Field(description="Legal-aid case reference (法律援助案号).")


class CommitteeAdvicePayload(ContractModel):
    """Advice to the village committee (为村两委提供法律意见), e.g. on a contract or rule."""

    model_config = _examples(ex.EX_COMMITTEE_ADVICE)

    village_id: Id = Field(description="The village whose committee was advised.")
    subject: Label = Field(description="Subject of the advice (事项).")


class ActivityVoidedPayload(ContractModel):
    """Voids an earlier activity, rating or inspection (作废). Nothing is deleted."""

    model_config = _examples(ex.EX_VOIDED)

    target_event_id: UUID = Field(
        description="`event_id` of the activity, rating or inspection being voided."
    )
    reason: FreeText = Field(description="Why it is voided (作废原因).")
    voided_by: Id = Field(description="Who voided it (a person or office id).")


class RatingSubmittedInPayload(ContractModel):
    """A citizen's rating (群众评价) as sent by a source: carries the raw ``citizen``."""

    model_config = _examples(ex.EX_RATING_IN)

    rating_id: Id = Field(description="Rating id at the source.")
    village_id: Id = Field(description="The village the rated service was for.")
    activity_event_id: UUID | None = Field(
        default=None, description="`event_id` of the rated activity, or null."
    )
    score: StrictInt = Field(ge=1, le=5, description="Score 1–5 (满意度评分), an integer.")
    channel: RatingChannel = Field(
        description="`evaluator_device` (评价器), `wechat` (微信) or `callback_12348` (12348 回访)."
    )
    citizen: Citizen = Field(
        description=(
            "The citizen's phone number or id number (评价人). Never published: ingest "
            "replaces it by `citizen_ref`."
        )
    )
    comment: OptionalFreeText = Field(default="", description="Free comment (评价意见).")


class RatingSubmittedPayload(ContractModel):
    """A citizen's rating (群众评价) as published: the citizen is pseudonymised."""

    model_config = _examples(ex.EX_RATING)

    rating_id: Id = Field(description="Rating id at the source.")
    village_id: Id = Field(description="The village the rated service was for.")
    activity_event_id: UUID | None = Field(
        default=None, description="`event_id` of the rated activity, or null."
    )
    score: StrictInt = Field(ge=1, le=5, description="Score 1–5 (满意度评分), an integer.")
    channel: RatingChannel = Field(
        description="`evaluator_device` (评价器), `wechat` (微信) or `callback_12348` (12348 回访)."
    )
    citizen_ref: CitizenRef = Field(
        description="Pseudonym of the citizen: HMAC-SHA256 of `citizen` under ingest's key (hex)."
    )
    comment: OptionalFreeText = Field(default="", description="Free comment (评价意见).")


class ComplaintFiledInPayload(ContractModel):
    """A complaint against the advisor (投诉) as sent by a source: carries ``citizen``."""

    model_config = _examples(ex.EX_COMPLAINT_IN)

    complaint_id: Id = Field(description="Complaint id (投诉编号).")
    village_id: Id = Field(description="The village the complaint concerns.")
    channel: ComplaintChannel = Field(
        description=(
            "`onsite` (当面), `wechat`, `phone`, `hotline_12348`, `online_platform` or "
            "`letter` (来信)."
        )
    )
    summary: FreeText = Field(description="What the complaint says (投诉内容摘要).")
    citizen: Citizen = Field(
        description=(
            "The complainant's phone number or id number. Never published: ingest "
            "replaces it by `citizen_ref`."
        )
    )


class ComplaintFiledPayload(ContractModel):
    """A complaint against the advisor (投诉) as published: the citizen is pseudonymised."""

    model_config = _examples(ex.EX_COMPLAINT)

    complaint_id: Id = Field(description="Complaint id (投诉编号).")
    village_id: Id = Field(description="The village the complaint concerns.")
    channel: ComplaintChannel = Field(
        description=(
            "`onsite` (当面), `wechat`, `phone`, `hotline_12348`, `online_platform` or "
            "`letter` (来信)."
        )
    )
    summary: FreeText = Field(description="What the complaint says (投诉内容摘要).")
    citizen_ref: CitizenRef = Field(
        description="Pseudonym of the complainant: HMAC-SHA256 under ingest's key (hex)."
    )


class ComplaintResolvedPayload(ContractModel):
    """The outcome of a complaint investigation (投诉核查结果). The latest one counts."""

    model_config = _examples(ex.EX_COMPLAINT_RESOLVED)

    complaint_id: Id = Field(description="The complaint resolved.")
    substantiated: StrictBool = Field(description="Whether the complaint was upheld (属实).")


class InspectionRecordedPayload(ContractModel):
    """The township justice office's monthly inspection (司法所月度检查)."""

    model_config = _examples(ex.EX_INSPECTION)

    village_id: Id = Field(description="The village inspected.")
    month: Month = Field(description="The month inspected, `YYYY-MM` (Asia/Shanghai).")
    inspector: Id = Field(description="Inspector or office id (检查人).")
    advisor_present: StrictBool = Field(description="Advisor reachable/present (顾问在岗).")
    ledger_complete: StrictBool = Field(description="Work ledger complete (工作台账完整).")
    wechat_group_active: StrictBool = Field(
        description="The village legal WeChat group is active (法律服务微信群活跃)."
    )

    @property
    def passed(self) -> bool:
        """An inspection passes iff all three checks pass."""
        return self.advisor_present and self.ledger_complete and self.wechat_group_active


class PolicyPublishedPayload(ContractModel):
    """An appraisal policy (考核办法) published for a county or the province."""

    model_config = _examples(ex.EX_POLICY)

    policy_id: Id = Field(description="Policy id; every verdict records the one it used.")
    effective_from: IsoDate = Field(
        description="First day the policy applies; a year uses the latest one ≤ its 1 January."
    )
    document: dict[str, Any] = Field(
        description=(
            "The policy document (a JSON object): every number of the appraisal rules "
            "(DESIGN §6). Its model lives in the appraisal service (`appraisal.policy`), "
            "which validates it; the contract only requires an object."
        )
    )


class PeriodClosedPayload(ContractModel):
    """Closes an appraisal year for the county (年度考核结束): verdicts are issued."""

    model_config = _examples(ex.EX_PERIOD_CLOSED)

    year: StrictInt = Field(ge=2000, le=2100, description="The calendar year closed.")


# ---------------------------------------------------------------------------
# Envelopes

_D_TYPE = "Event type (discriminator); the payload is validated against it."
_D_SOURCE = (
    "Sending system (来源系统), e.g. `nansha-platform`: letters, digits, `.`, `_`, `-` (no `:`)."
)
_D_SOURCE_EVENT_ID = (
    "The event's id at the source. With `source` it identifies the event: a re-sent "
    "event is the same event."
)
_D_OCCURRED_AT = (
    "When it happened, RFC 3339 with UTC offset; months and years are cut by this time "
    "in Asia/Shanghai."
)
_D_COUNTY_ID = (
    "County/district 6-digit administrative code (区县行政区划代码); `000000` = province "
    "(policies only)."
)
_D_ADVISOR_ID = "The advisor (法律顾问) the event is about; Kafka key."
_D_ADVISOR_ID_OPTIONAL = "The advisor, if one is already assigned; may be empty."
_D_ADVISOR_ID_EMPTY = "Always empty: the event is county-wide (Kafka key is `county_id`)."
_D_PAYLOAD = "Type-specific content."
_D_EVENT_ID = (
    'Event id: `uuid5(NAMESPACE_URL, "urn:advisor-appraisal:" + source + ":" + '
    "source_event_id)` (see `contracts.derive_event_id`)."
)
_D_RECORDED_AT = "When ingest accepted the event (UTC offset)."


class InboundEnvelope(ContractModel):
    """Fields common to every inbound event; subclasses fix ``type`` and ``payload``."""

    type: str = Field(description=_D_TYPE)
    source: SourceName = Field(description=_D_SOURCE)
    source_event_id: Id = Field(description=_D_SOURCE_EVENT_ID)
    occurred_at: OffsetDatetime = Field(description=_D_OCCURRED_AT)
    county_id: CountyId = Field(description=_D_COUNTY_ID)
    advisor_id: Id = Field(description=_D_ADVISOR_ID)
    payload: ContractModel = Field(description=_D_PAYLOAD)

    def partition_key(self) -> str:
        """The Kafka key: ``advisor_id``, or ``county_id`` for county-wide events."""
        return self.advisor_id or self.county_id

    @property
    def event_id(self) -> UUID:
        """The id ingest will give this event."""
        return derive_event_id(self.source, self.source_event_id)


class PublishedEnvelope(ContractModel):
    """Fields common to every event on ``advisor-events``: inbound plus id and record time."""

    type: str = Field(description=_D_TYPE)
    source: SourceName = Field(description=_D_SOURCE)
    source_event_id: Id = Field(description=_D_SOURCE_EVENT_ID)
    event_id: UUID = Field(description=_D_EVENT_ID)
    occurred_at: OffsetDatetime = Field(description=_D_OCCURRED_AT)
    recorded_at: OffsetDatetime = Field(description=_D_RECORDED_AT)
    county_id: CountyId = Field(description=_D_COUNTY_ID)
    advisor_id: Id = Field(description=_D_ADVISOR_ID)
    payload: ContractModel = Field(description=_D_PAYLOAD)

    @field_validator("event_id")
    @classmethod
    def _event_id_is_derived(cls, event_id: UUID, info: ValidationInfo) -> UUID:
        source = info.data.get("source")
        source_event_id = info.data.get("source_event_id")
        if source is None or source_event_id is None:
            return event_id
        if event_id != derive_event_id(source, source_event_id):
            raise PydanticCustomError(
                ErrorCode.EVENT_ID_MISMATCH.value,
                "event_id is not derive_event_id(source, source_event_id)",
            )
        return event_id

    def partition_key(self) -> str:
        """The Kafka key: ``advisor_id``, or ``county_id`` for county-wide events."""
        return self.advisor_id or self.county_id


# -- village.registered.v1


class VillageRegisteredIn(InboundEnvelope):
    """``village.registered.v1`` as sent by a source."""

    model_config = _examples(ex.IN_VILLAGE_REGISTERED)

    type: Literal["village.registered.v1"] = Field(description=_D_TYPE)
    advisor_id: OptionalId = Field(default="", description=_D_ADVISOR_ID_OPTIONAL)
    payload: VillageRegisteredPayload = Field(description=_D_PAYLOAD)


class VillageRegistered(PublishedEnvelope):
    """``village.registered.v1`` as published on ``advisor-events``."""

    model_config = _examples(ex.PUBLISHED_VILLAGE_REGISTERED)

    type: Literal["village.registered.v1"] = Field(description=_D_TYPE)
    advisor_id: OptionalId = Field(default="", description=_D_ADVISOR_ID_OPTIONAL)
    payload: VillageRegisteredPayload = Field(description=_D_PAYLOAD)


# -- advisor.appointed.v1


class AdvisorAppointedIn(InboundEnvelope):
    """``advisor.appointed.v1`` as sent by a source."""

    model_config = _examples(ex.IN_ADVISOR_APPOINTED)

    type: Literal["advisor.appointed.v1"] = Field(description=_D_TYPE)
    payload: AdvisorAppointedPayload = Field(description=_D_PAYLOAD)


class AdvisorAppointed(PublishedEnvelope):
    """``advisor.appointed.v1`` as published on ``advisor-events``."""

    model_config = _examples(ex.PUBLISHED_ADVISOR_APPOINTED)

    type: Literal["advisor.appointed.v1"] = Field(description=_D_TYPE)
    payload: AdvisorAppointedPayload = Field(description=_D_PAYLOAD)


# -- advisor.assignment_ended.v1


class AdvisorAssignmentEndedIn(InboundEnvelope):
    """``advisor.assignment_ended.v1`` as sent by a source."""

    model_config = _examples(ex.IN_ASSIGNMENT_ENDED)

    type: Literal["advisor.assignment_ended.v1"] = Field(description=_D_TYPE)
    payload: AssignmentEndedPayload = Field(description=_D_PAYLOAD)


class AdvisorAssignmentEnded(PublishedEnvelope):
    """``advisor.assignment_ended.v1`` as published on ``advisor-events``."""

    model_config = _examples(ex.PUBLISHED_ASSIGNMENT_ENDED)

    type: Literal["advisor.assignment_ended.v1"] = Field(description=_D_TYPE)
    payload: AssignmentEndedPayload = Field(description=_D_PAYLOAD)


# -- activity.onsite_duty.v1


class ActivityOnsiteDutyIn(InboundEnvelope):
    """``activity.onsite_duty.v1`` as sent by a source."""

    model_config = _examples(ex.IN_ONSITE_DUTY)

    type: Literal["activity.onsite_duty.v1"] = Field(description=_D_TYPE)
    payload: OnsiteDutyPayload = Field(description=_D_PAYLOAD)


class ActivityOnsiteDuty(PublishedEnvelope):
    """``activity.onsite_duty.v1`` as published on ``advisor-events``."""

    model_config = _examples(ex.PUBLISHED_ONSITE_DUTY)

    type: Literal["activity.onsite_duty.v1"] = Field(description=_D_TYPE)
    payload: OnsiteDutyPayload = Field(description=_D_PAYLOAD)


# -- activity.lecture.v1


class ActivityLectureIn(InboundEnvelope):
    """``activity.lecture.v1`` as sent by a source."""

    model_config = _examples(ex.IN_LECTURE)

    type: Literal["activity.lecture.v1"] = Field(description=_D_TYPE)
    payload: LecturePayload = Field(description=_D_PAYLOAD)


class ActivityLecture(PublishedEnvelope):
    """``activity.lecture.v1`` as published on ``advisor-events``."""

    model_config = _examples(ex.PUBLISHED_LECTURE)

    type: Literal["activity.lecture.v1"] = Field(description=_D_TYPE)
    payload: LecturePayload = Field(description=_D_PAYLOAD)


# -- activity.mediation.v1


class ActivityMediationIn(InboundEnvelope):
    """``activity.mediation.v1`` as sent by a source."""

    model_config = _examples(ex.IN_MEDIATION)

    type: Literal["activity.mediation.v1"] = Field(description=_D_TYPE)
    payload: MediationPayload = Field(description=_D_PAYLOAD)


class ActivityMediation(PublishedEnvelope):
    """``activity.mediation.v1`` as published on ``advisor-events``."""

    model_config = _examples(ex.PUBLISHED_MEDIATION)

    type: Literal["activity.mediation.v1"] = Field(description=_D_TYPE)
    payload: MediationPayload = Field(description=_D_PAYLOAD)


# -- activity.consultation.v1


class ActivityConsultationIn(InboundEnvelope):
    """``activity.consultation.v1`` as sent by a source."""

    model_config = _examples(ex.IN_CONSULTATION)

    type: Literal["activity.consultation.v1"] = Field(description=_D_TYPE)
    payload: ConsultationPayload = Field(description=_D_PAYLOAD)


class ActivityConsultation(PublishedEnvelope):
    """``activity.consultation.v1`` as published on ``advisor-events``."""

    model_config = _examples(ex.PUBLISHED_CONSULTATION)

    type: Literal["activity.consultation.v1"] = Field(description=_D_TYPE)
    payload: ConsultationPayload = Field(description=_D_PAYLOAD)


# -- activity.document_drafted.v1


class ActivityDocumentDraftedIn(InboundEnvelope):
    """``activity.document_drafted.v1`` as sent by a source."""

    model_config = _examples(ex.IN_DOCUMENT_DRAFTED)

    type: Literal["activity.document_drafted.v1"] = Field(description=_D_TYPE)
    payload: DocumentDraftedPayload = Field(description=_D_PAYLOAD)


class ActivityDocumentDrafted(PublishedEnvelope):
    """``activity.document_drafted.v1`` as published on ``advisor-events``."""

    model_config = _examples(ex.PUBLISHED_DOCUMENT_DRAFTED)

    type: Literal["activity.document_drafted.v1"] = Field(description=_D_TYPE)
    payload: DocumentDraftedPayload = Field(description=_D_PAYLOAD)


# -- activity.legal_aid_referral.v1


class ActivityLegalAidReferralIn(InboundEnvelope):
    """``activity.legal_aid_referral.v1`` as sent by a source."""

    model_config = _examples(ex.IN_LEGAL_AID_REFERRAL)

    type: Literal["activity.legal_aid_referral.v1"] = Field(description=_D_TYPE)
    payload: LegalAidReferralPayload = Field(description=_D_PAYLOAD)


class ActivityLegalAidReferral(PublishedEnvelope):
    """``activity.legal_aid_referral.v1`` as published on ``advisor-events``."""

    model_config = _examples(ex.PUBLISHED_LEGAL_AID_REFERRAL)

    type: Literal["activity.legal_aid_referral.v1"] = Field(description=_D_TYPE)
    payload: LegalAidReferralPayload = Field(description=_D_PAYLOAD)


# -- activity.committee_advice.v1


class ActivityCommitteeAdviceIn(InboundEnvelope):
    """``activity.committee_advice.v1`` as sent by a source."""

    model_config = _examples(ex.IN_COMMITTEE_ADVICE)

    type: Literal["activity.committee_advice.v1"] = Field(description=_D_TYPE)
    payload: CommitteeAdvicePayload = Field(description=_D_PAYLOAD)


class ActivityCommitteeAdvice(PublishedEnvelope):
    """``activity.committee_advice.v1`` as published on ``advisor-events``."""

    model_config = _examples(ex.PUBLISHED_COMMITTEE_ADVICE)

    type: Literal["activity.committee_advice.v1"] = Field(description=_D_TYPE)
    payload: CommitteeAdvicePayload = Field(description=_D_PAYLOAD)


# -- activity.voided.v1


class ActivityVoidedIn(InboundEnvelope):
    """``activity.voided.v1`` as sent by a source."""

    model_config = _examples(ex.IN_VOIDED)

    type: Literal["activity.voided.v1"] = Field(description=_D_TYPE)
    payload: ActivityVoidedPayload = Field(description=_D_PAYLOAD)


class ActivityVoided(PublishedEnvelope):
    """``activity.voided.v1`` as published on ``advisor-events``."""

    model_config = _examples(ex.PUBLISHED_VOIDED)

    type: Literal["activity.voided.v1"] = Field(description=_D_TYPE)
    payload: ActivityVoidedPayload = Field(description=_D_PAYLOAD)


# -- rating.submitted.v1


class RatingSubmittedIn(InboundEnvelope):
    """``rating.submitted.v1`` as sent by a source (with the raw ``citizen``)."""

    model_config = _examples(ex.IN_RATING)

    type: Literal["rating.submitted.v1"] = Field(description=_D_TYPE)
    payload: RatingSubmittedInPayload = Field(description=_D_PAYLOAD)


class RatingSubmitted(PublishedEnvelope):
    """``rating.submitted.v1`` as published: ``citizen`` replaced by ``citizen_ref``."""

    model_config = _examples(ex.PUBLISHED_RATING)

    type: Literal["rating.submitted.v1"] = Field(description=_D_TYPE)
    payload: RatingSubmittedPayload = Field(description=_D_PAYLOAD)


# -- complaint.filed.v1


class ComplaintFiledIn(InboundEnvelope):
    """``complaint.filed.v1`` as sent by a source (with the raw ``citizen``)."""

    model_config = _examples(ex.IN_COMPLAINT)

    type: Literal["complaint.filed.v1"] = Field(description=_D_TYPE)
    payload: ComplaintFiledInPayload = Field(description=_D_PAYLOAD)


class ComplaintFiled(PublishedEnvelope):
    """``complaint.filed.v1`` as published: ``citizen`` replaced by ``citizen_ref``."""

    model_config = _examples(ex.PUBLISHED_COMPLAINT)

    type: Literal["complaint.filed.v1"] = Field(description=_D_TYPE)
    payload: ComplaintFiledPayload = Field(description=_D_PAYLOAD)


# -- complaint.resolved.v1


class ComplaintResolvedIn(InboundEnvelope):
    """``complaint.resolved.v1`` as sent by a source."""

    model_config = _examples(ex.IN_COMPLAINT_RESOLVED)

    type: Literal["complaint.resolved.v1"] = Field(description=_D_TYPE)
    payload: ComplaintResolvedPayload = Field(description=_D_PAYLOAD)


class ComplaintResolved(PublishedEnvelope):
    """``complaint.resolved.v1`` as published on ``advisor-events``."""

    model_config = _examples(ex.PUBLISHED_COMPLAINT_RESOLVED)

    type: Literal["complaint.resolved.v1"] = Field(description=_D_TYPE)
    payload: ComplaintResolvedPayload = Field(description=_D_PAYLOAD)


# -- inspection.recorded.v1


class InspectionRecordedIn(InboundEnvelope):
    """``inspection.recorded.v1`` as sent by a source."""

    model_config = _examples(ex.IN_INSPECTION)

    type: Literal["inspection.recorded.v1"] = Field(description=_D_TYPE)
    payload: InspectionRecordedPayload = Field(description=_D_PAYLOAD)


class InspectionRecorded(PublishedEnvelope):
    """``inspection.recorded.v1`` as published on ``advisor-events``."""

    model_config = _examples(ex.PUBLISHED_INSPECTION)

    type: Literal["inspection.recorded.v1"] = Field(description=_D_TYPE)
    payload: InspectionRecordedPayload = Field(description=_D_PAYLOAD)


# -- policy.published.v1


class PolicyPublishedIn(InboundEnvelope):
    """``policy.published.v1`` as sent by a bureau (county `000000` = province default)."""

    model_config = _examples(ex.IN_POLICY)

    type: Literal["policy.published.v1"] = Field(description=_D_TYPE)
    advisor_id: EmptyId = Field(default="", description=_D_ADVISOR_ID_EMPTY)
    payload: PolicyPublishedPayload = Field(description=_D_PAYLOAD)


class PolicyPublished(PublishedEnvelope):
    """``policy.published.v1`` as published on ``advisor-events``."""

    model_config = _examples(ex.PUBLISHED_POLICY)

    type: Literal["policy.published.v1"] = Field(description=_D_TYPE)
    advisor_id: EmptyId = Field(default="", description=_D_ADVISOR_ID_EMPTY)
    payload: PolicyPublishedPayload = Field(description=_D_PAYLOAD)


# -- period.closed.v1


class PeriodClosedIn(InboundEnvelope):
    """``period.closed.v1`` as sent by a bureau: issues the county's verdicts for the year."""

    model_config = _examples(ex.IN_PERIOD_CLOSED)

    type: Literal["period.closed.v1"] = Field(description=_D_TYPE)
    advisor_id: EmptyId = Field(default="", description=_D_ADVISOR_ID_EMPTY)
    payload: PeriodClosedPayload = Field(description=_D_PAYLOAD)


class PeriodClosed(PublishedEnvelope):
    """``period.closed.v1`` as published on ``advisor-events``."""

    model_config = _examples(ex.PUBLISHED_PERIOD_CLOSED)

    type: Literal["period.closed.v1"] = Field(description=_D_TYPE)
    advisor_id: EmptyId = Field(default="", description=_D_ADVISOR_ID_EMPTY)
    payload: PeriodClosedPayload = Field(description=_D_PAYLOAD)


# ---------------------------------------------------------------------------
# Output events on appraisal-verdicts


def _graded_iff_rated(cls: type[BaseModel], value: object, info: ValidationInfo) -> object:
    """Grade and score are null exactly when the verdict is NOT_RATED."""
    verdict = info.data.get("verdict")
    if verdict is None:
        return value
    if verdict == "NOT_RATED" and value is not None:
        raise PydanticCustomError(
            ErrorCode.INCONSISTENT_VERDICT.value,
            "{field} must be null when the verdict is NOT_RATED",
            {"field": info.field_name},
        )
    if verdict != "NOT_RATED" and value is None:
        raise PydanticCustomError(
            ErrorCode.INCONSISTENT_VERDICT.value,
            "{field} is required unless the verdict is NOT_RATED",
            {"field": info.field_name},
        )
    return value


class VerdictReason(ContractModel):
    """One triggered rule behind a verdict, with the observed value and the threshold."""

    model_config = _examples(ex.EX_REASON)

    code: ReasonCode = Field(description="Rule that fired (DESIGN §7.1 reason codes).")
    observed: Measure = Field(
        description="Observed value (a count, score, mean or ratio), exact decimal as a string."
    )
    threshold: Measure = Field(description="The policy threshold it was compared with.")
    message_zh: FreeText = Field(description="Explanation in Chinese (中文说明).")
    message_en: FreeText = Field(description="Explanation in English.")


class PreviousVerdict(ContractModel):
    """The verdict an amendment replaces (as it stood at its version)."""

    model_config = _examples(ex.EX_PREVIOUS_VERDICT)

    verdict: Verdict = Field(description="Previous verdict.")
    grade: Grade | None = Field(description="Previous grade; null when NOT_RATED.")
    score: Score | None = Field(description="Previous score; null when NOT_RATED.")
    version: StrictInt = Field(ge=1, description="Version of the previous verdict.")

    _rated_iff_graded = field_validator("grade", "score")(_graded_iff_rated)


class VerdictEnvelope(ContractModel):
    """Fields common to ``verdict.issued.v1`` and ``verdict.amended.v1``."""

    type: str = Field(description="Event type (discriminator).")
    county_id: CountyId = Field(description="County/district 6-digit administrative code.")
    year: StrictInt = Field(ge=2000, le=2100, description="Appraisal year (考核年度).")
    advisor_id: Id = Field(description="The advisor appraised; with village_id the assignment.")
    village_id: Id = Field(description="The village of the assignment.")
    verdict: Verdict = Field(
        description=(
            "`RETAIN` (保留), `RECTIFY` (整改), `REPLACE` (调整) or `NOT_RATED` (不参评: "
            "fewer than 3 months served)."
        )
    )
    grade: Grade | None = Field(
        description=(
            "`EXCELLENT` (优秀), `COMPETENT` (合格), `BASIC` (基本合格), `FAIL` (不合格); "
            "null iff NOT_RATED."
        )
    )
    score: Score | None = Field(
        description='Score 0–100, two decimals, as a string (e.g. "78.40"); null iff NOT_RATED.'
    )
    reasons: list[VerdictReason] = Field(
        max_length=64,
        description="Every rule that fired (may be empty only for RETAIN).",
    )
    policy_id: Id = Field(description="The policy the verdict was computed under.")
    version: StrictInt = Field(
        ge=1,
        description="Version of this assignment-year's verdict: 1 when issued, +1 per amendment.",
    )
    issued_at: OffsetDatetime = Field(description="When this version was issued.")

    _rated_iff_graded = field_validator("grade", "score")(_graded_iff_rated)

    @field_validator("reasons")
    @classmethod
    def _reasons_explain(
        cls, reasons: list[VerdictReason], info: ValidationInfo
    ) -> list[VerdictReason]:
        verdict = info.data.get("verdict")
        if verdict is not None and verdict != "RETAIN" and not reasons:
            raise PydanticCustomError(
                ErrorCode.INCONSISTENT_VERDICT.value,
                "a {verdict} verdict must list the reasons that triggered it",
                {"verdict": verdict},
            )
        return reasons

    def partition_key(self) -> str:
        """The Kafka key on ``appraisal-verdicts``: ``county_id``."""
        return self.county_id


class VerdictIssued(VerdictEnvelope):
    """``verdict.issued.v1``: a verdict issued when the year is closed (考核结论)."""

    model_config = _examples(ex.EX_VERDICT_ISSUED)

    type: Literal["verdict.issued.v1"] = Field(description="Event type (discriminator).")


class VerdictAmended(VerdictEnvelope):
    """``verdict.amended.v1``: a later event changed an issued verdict; both stay visible."""

    model_config = _examples(ex.EX_VERDICT_AMENDED)

    type: Literal["verdict.amended.v1"] = Field(description="Event type (discriminator).")
    previous: PreviousVerdict = Field(description="The verdict this amendment replaces.")
    caused_by_event_ids: list[UUID] = Field(
        min_length=1,
        max_length=10_000,
        description="`event_id`s of the events that caused the amendment.",
    )

    @field_validator("previous")
    @classmethod
    def _previous_is_older(cls, previous: PreviousVerdict, info: ValidationInfo) -> PreviousVerdict:
        version = info.data.get("version")
        if version is not None and previous.version >= version:
            raise PydanticCustomError(
                ErrorCode.OUT_OF_RANGE.value, "previous.version must be below version"
            )
        return previous


# ---------------------------------------------------------------------------
# Dead letters

_CITIZEN_KEYS: Final = frozenset({"citizen"})


def redact_citizen_data(value: Any) -> Any:
    """Return ``value`` with every ``citizen`` key removed, at any depth."""
    if isinstance(value, dict):
        return {k: redact_citizen_data(v) for k, v in value.items() if k not in _CITIZEN_KEYS}
    if isinstance(value, list):
        return [redact_citizen_data(v) for v in value]
    return value


class KafkaPosition(ContractModel):
    """Where a consumed message was read (for the appraisal DLQ)."""

    model_config = _examples(ex.EX_KAFKA_POSITION)

    topic: Id = Field(description="Topic the message was consumed from.")
    partition: StrictInt = Field(ge=0, description="Partition.")
    offset: StrictInt = Field(ge=0, description="Offset within the partition.")


class DeadLetter(ContractModel):
    """A rejected or poison event on ``ingest-dlq`` / ``appraisal-dlq`` (死信).

    ``event`` is the original event as a JSON object with every ``citizen`` key
    removed (the model removes them itself), or null when the input was not a
    JSON object.
    """

    model_config = _examples(ex.EX_DEAD_LETTER, ex.EX_APPRAISAL_DEAD_LETTER)

    event: dict[str, Any] | None = Field(
        description="The original event minus citizen data; null if it was not a JSON object."
    )
    reasons: list[Violation] = Field(
        min_length=1, max_length=1000, description="Why it was rejected: `{code, path, message}`."
    )
    service: ServiceName = Field(description="The service that dead-lettered it.")
    at: OffsetDatetime = Field(description="When it was dead-lettered.")
    origin: KafkaPosition | None = Field(
        default=None,
        description="Topic/partition/offset it was consumed from (appraisal); null for ingest.",
    )

    @field_validator("event", mode="before")
    @classmethod
    def _without_citizen(cls, event: object) -> object:
        return redact_citizen_data(event)


# ---------------------------------------------------------------------------
# Unions and lookups

InboundEvent = Annotated[
    VillageRegisteredIn
    | AdvisorAppointedIn
    | AdvisorAssignmentEndedIn
    | ActivityOnsiteDutyIn
    | ActivityLectureIn
    | ActivityMediationIn
    | ActivityConsultationIn
    | ActivityDocumentDraftedIn
    | ActivityLegalAidReferralIn
    | ActivityCommitteeAdviceIn
    | ActivityVoidedIn
    | RatingSubmittedIn
    | ComplaintFiledIn
    | ComplaintResolvedIn
    | InspectionRecordedIn
    | PolicyPublishedIn
    | PeriodClosedIn,
    Field(discriminator="type"),
]
"""Any event a source may send to ingest."""

PublishedEvent = Annotated[
    VillageRegistered
    | AdvisorAppointed
    | AdvisorAssignmentEnded
    | ActivityOnsiteDuty
    | ActivityLecture
    | ActivityMediation
    | ActivityConsultation
    | ActivityDocumentDrafted
    | ActivityLegalAidReferral
    | ActivityCommitteeAdvice
    | ActivityVoided
    | RatingSubmitted
    | ComplaintFiled
    | ComplaintResolved
    | InspectionRecorded
    | PolicyPublished
    | PeriodClosed,
    Field(discriminator="type"),
]
"""Any event on the ``advisor-events`` topic."""

VerdictEvent = Annotated[VerdictIssued | VerdictAmended, Field(discriminator="type")]
"""Any event on the ``appraisal-verdicts`` topic."""

INBOUND_EVENT_ADAPTER: Final[TypeAdapter[InboundEvent]] = TypeAdapter(InboundEvent)
PUBLISHED_EVENT_ADAPTER: Final[TypeAdapter[PublishedEvent]] = TypeAdapter(PublishedEvent)
VERDICT_EVENT_ADAPTER: Final[TypeAdapter[VerdictEvent]] = TypeAdapter(VerdictEvent)


def _tag(model: type[BaseModel]) -> str:
    (tag,) = get_args(model.model_fields["type"].annotation)
    return str(tag)


INBOUND_MODELS: Final[dict[str, type[InboundEnvelope]]] = {
    _tag(model): model for model in get_args(get_args(InboundEvent)[0])
}
"""Inbound model by event type."""

PUBLISHED_MODELS: Final[dict[str, type[PublishedEnvelope]]] = {
    _tag(model): model for model in get_args(get_args(PublishedEvent)[0])
}
"""Published model by event type (same keys as ``INBOUND_MODELS``)."""

VERDICT_MODELS: Final[dict[str, type[VerdictEnvelope]]] = {
    _tag(model): model for model in get_args(get_args(VerdictEvent)[0])
}
"""Verdict model by event type."""

EVENT_TYPES: Final[tuple[str, ...]] = tuple(INBOUND_MODELS)
"""The 17 input event types, in DESIGN §3 order."""
