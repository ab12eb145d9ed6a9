"""GraphQL types of life events: events, their questions and procedures, and the guide."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from ..api.errors import ErrorInterface, union_error_fields
from ..api.scalars import JSONValue
from ..errors import DomainError
from .definition import Channel, Procedure, Question, QuestionType
from .guide import Answer, Applicable, Guide
from .service import MunicipalLifeEvent

if TYPE_CHECKING:
    LifeEventQuestionTypeType = QuestionType
    LifeEventChannelType = Channel
else:
    LifeEventQuestionTypeType = strawberry.enum(
        QuestionType,
        name="LifeEventQuestionType",
        description="How a question is answered: the JSON value it takes.",
    )
    LifeEventChannelType = strawberry.enum(
        Channel, name="LifeEventChannel", description="How a procedure is done."
    )


@strawberry.type(name="LifeEventOption", description="One choice of a choice question.")
class LifeEventOptionType:
    code: str = strawberry.field(description="The value to answer with")
    label_ja: str
    label_en: str


@strawberry.type(
    name="LifeEventQuestion",
    description=(
        "A question of a life event's questionnaire. Answer values by type: BOOLEAN true/false, "
        "SINGLE_CHOICE an option code, MULTIPLE_CHOICE a list of option codes, NUMBER a number "
        'from min to max (whole when `integer`), DATE "YYYY-MM-DD".'
    ),
)
class LifeEventQuestionType:
    code: str
    type: LifeEventQuestionTypeType
    label_ja: str
    label_en: str
    help_ja: str | None
    help_en: str | None
    options: list[LifeEventOptionType]
    min: float | None = strawberry.field(description="NUMBER: the smallest answer allowed")
    max: float | None = strawberry.field(description="NUMBER: the largest answer allowed")
    integer: bool = strawberry.field(description="NUMBER: only whole numbers")
    asked_when: JSONValue | None = strawberry.field(
        description="The condition on earlier answers under which it is asked (null: always)"
    )

    @classmethod
    def from_question(cls, question: Question) -> LifeEventQuestionType:
        return cls(
            code=question.code,
            type=question.type,
            label_ja=question.label_ja,
            label_en=question.label_en,
            help_ja=question.help_ja,
            help_en=question.help_en,
            options=[
                LifeEventOptionType(code=o.code, label_ja=o.label_ja, label_en=o.label_en)
                for o in question.options
            ],
            min=question.min,
            max=question.max,
            integer=question.integer,
            asked_when=JSONValue(question.ask_if) if question.ask_if else None,
        )


@strawberry.type(name="LifeEventDocument", description="A document to bring.")
class LifeEventDocumentType:
    ja: str
    en: str


@strawberry.type(name="LifeEventProcedure", description="A procedure: where, how, what to bring.")
class LifeEventProcedureType:
    code: str
    name_ja: str
    name_en: str
    how: list[LifeEventChannelType] = strawberry.field(description="Ways it can be done")
    where_ja: str | None = strawberry.field(description="The window (窓口) and its place")
    where_en: str | None
    online_url: str | None = strawberry.field(description="Where to do it online")
    documents: list[LifeEventDocumentType] = strawberry.field(description="持ち物")
    deadline_ja: str | None = strawberry.field(description="e.g. 転入した日から14日以内")
    deadline_en: str | None
    portal_service_code: str | None = strawberry.field(
        description="The related service of the portal's catalog, when there is one"
    )
    applies_when: JSONValue | None = strawberry.field(
        description="The condition on the answers under which it applies (null: always)"
    )

    @classmethod
    def from_procedure(cls, procedure: Procedure) -> LifeEventProcedureType:
        return cls(
            code=procedure.code,
            name_ja=procedure.name_ja,
            name_en=procedure.name_en,
            how=list(procedure.how),
            where_ja=procedure.where_ja,
            where_en=procedure.where_en,
            online_url=procedure.online_url,
            documents=[LifeEventDocumentType(ja=d.ja, en=d.en) for d in procedure.documents],
            deadline_ja=procedure.deadline_ja,
            deadline_en=procedure.deadline_en,
            portal_service_code=procedure.portal_service,
            applies_when=JSONValue(procedure.applies_if) if procedure.applies_if else None,
        )


@strawberry.type(name="LifeEvent", description="A life event (ライフイベント) of a municipality.")
class LifeEventType:
    municipality_code: str
    code: str
    name_ja: str
    name_en: str
    description_ja: str
    description_en: str
    questions: list[LifeEventQuestionType] = strawberry.field(
        description="The whole questionnaire in order (the guide says which apply)"
    )
    procedures: list[LifeEventProcedureType] = strawberry.field(
        description="Every procedure of the event (the guide says which apply)"
    )

    @classmethod
    def from_event(cls, found: MunicipalLifeEvent) -> LifeEventType:
        event = found.event
        return cls(
            municipality_code=found.municipality_code,
            code=event.code,
            name_ja=event.name_ja,
            name_en=event.name_en,
            description_ja=event.description_ja,
            description_en=event.description_en,
            questions=[LifeEventQuestionType.from_question(q) for q in event.questions],
            procedures=[LifeEventProcedureType.from_procedure(p) for p in event.procedures],
        )


@strawberry.input(name="LifeEventAnswerInput", description="An answer to one question.")
class LifeEventAnswerInput:
    question: str = strawberry.field(description="The question's code")
    value: JSONValue = strawberry.field(description="A value of the question's type")

    def to_answer(self) -> Answer:
        return Answer(question=self.question, value=self.value)


@strawberry.type(name="LifeEventAnswer")
class LifeEventAnswerType:
    question: str
    value: JSONValue = strawberry.field(description="As used: choices in the options' order")


def _answer(question: str, value: Any) -> LifeEventAnswerType:
    return LifeEventAnswerType(question=question, value=JSONValue(value))


@strawberry.type(name="LifeEventGuideProcedure", description="A procedure that applies, and why.")
class LifeEventGuideProcedureType:
    procedure: LifeEventProcedureType
    reason_ja: str
    reason_en: str
    based_on: list[LifeEventAnswerType] = strawberry.field(
        description="The answers it was decided on (empty: it applies to everyone)"
    )

    @classmethod
    def from_applicable(
        cls, found: Applicable, answers: dict[str, Any]
    ) -> LifeEventGuideProcedureType:
        return cls(
            procedure=LifeEventProcedureType.from_procedure(found.procedure),
            reason_ja=found.reason_ja,
            reason_en=found.reason_en,
            based_on=[_answer(q.code, answers[q.code]) for q in found.based_on],
        )


@strawberry.type(
    name="LifeEventGuide",
    description="Where the questionnaire stands: what to ask next, and what applies so far.",
)
class LifeEventGuideType:
    event: LifeEventType
    complete: bool = strawberry.field(description="Every question that applies is answered")
    next_questions: list[LifeEventQuestionType] = strawberry.field(
        description="Unanswered questions that apply now, in order (ask the first, or all)"
    )
    procedures: list[LifeEventGuideProcedureType] = strawberry.field(
        description="Procedures that apply given the answers so far, in the event's order"
    )
    undecided_procedures: int = strawberry.field(
        description="Procedures that may still apply once the next questions are answered"
    )
    answers: list[LifeEventAnswerType] = strawberry.field(
        description="The answers used, in question order"
    )
    ignored_questions: list[str] = strawberry.field(
        description="Answered questions that do not apply (after a change of an earlier "
        "answer): checked, then ignored"
    )

    @classmethod
    def from_guide(cls, guide: Guide, found: MunicipalLifeEvent) -> LifeEventGuideType:
        values = {a.question: a.value for a in guide.answers}
        return cls(
            event=LifeEventType.from_event(found),
            complete=guide.complete,
            next_questions=[LifeEventQuestionType.from_question(q) for q in guide.next_questions],
            procedures=[
                LifeEventGuideProcedureType.from_applicable(p, values) for p in guide.procedures
            ],
            undecided_procedures=guide.undecided,
            answers=[_answer(a.question, a.value) for a in guide.answers],
            ignored_questions=list(guide.ignored),
        )


@strawberry.type(
    name="LifeEventGuideError",
    description="The guide could not be given: unknown event or question, or a bad answer.",
)
class LifeEventGuideErrorType(ErrorInterface):
    fields: list[str] = strawberry.field(description="Every offending input field")

    @classmethod
    def from_domain(cls, exc: DomainError) -> LifeEventGuideErrorType:
        return cls(**union_error_fields(exc))


LifeEventGuideResult = Annotated[
    LifeEventGuideType | LifeEventGuideErrorType, strawberry.union("LifeEventGuideResult")
]
