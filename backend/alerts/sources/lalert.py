"""L-Alert (公共情報コモンズ / 災害情報共有システム) PCXML reports into ``AlertDraft``s.

Municipalities publish 避難情報 through L-Alert as a PCXML ``Report`` (namespaces under
``http://xml.publiccommons.ne.jp/pcxml1/``), carried in an EDXL-DE envelope whose
``commons:targetArea/commons:jisX0402`` names the municipality by its 6-digit code with
check digit, often inside a SOAP 1.1 ``publish`` message (``edxl.parse_alert_document``
unwraps both). The evacuation body (``body/evacuationN``) lists ``Detail``s, each a 発令区分
(``Sort``: 高齢者等避難 / 避難指示 / 緊急安全確保 and the older names) that is issued or
lifted (``IssueOrLift``: 発令 / 解除) for districts (``Areas/Area/Location/areaName``).

No official sample may be shipped (no licence). The element names follow the format as
public code uses it: the PCXML templates and generators of LGDIS (石巻市's open-source
disaster information system, ``plugins/lgdis/files/xml/commons_*.xml`` and its
``evacuation_advisory.rb`` / ``shelter.rb``) and the receiver tests of
``pnserv-com/publiccommons-py`` (an EDXL-DE envelope in a SOAP ``publish`` message).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree.ElementTree import Element

from ...ingest.problems import Problems
from ...ingest.xml_doc import XmlDocument
from ...municipalities.reference import normalize_code, reference_of
from ..drafts import (
    AlertAction,
    AlertArea,
    AlertDraft,
    AlertKind,
    AlertSource,
    AlertStatus,
    AreaScheme,
    Severity,
)
from .common import (
    bad_municipality_code,
    child,
    child_text,
    children,
    descendants,
    local_name,
    namespace,
    parse_time,
    squeeze,
    text_of,
)

PCXML_NAMESPACE = re.compile(r"^http://xml\.publiccommons\.ne\.jp/pcxml1/(\d+)$")
# Versions whose Head and evacuation body this reader knows (the elements it reads are the
# same in each; version 4 is what L-Alert's own test traffic carries in the public samples).
SUPPORTED_VERSIONS = frozenset({2, 3, 4})
MAX_DETAILS = 50
MAX_DISTRICTS = 2_000  # districts in one report, all details together
MAX_SHELTERS = 2_000

# 発令区分 (Sort) and the 警戒レベル each stands for: the 2021 names and the older ones.
# 警戒区域 (a zone closed under 災害対策基本法 第63条) is no 警戒レベル; at least as binding as
# 避難指示, it is read as level 4 so that it always reaches residents.
SORT_LEVELS: tuple[tuple[str, int], ...] = (
    ("緊急安全確保", 5),
    ("災害発生情報", 5),
    ("避難指示", 4),
    ("避難勧告", 4),
    ("警戒区域", 4),
    ("高齢者等避難", 3),
    ("避難準備", 3),
)
_STATUS = {
    "Actual": AlertStatus.ACTUAL,
    "Exercise": AlertStatus.EXERCISE,
    "System": AlertStatus.SYSTEM,
    "Test": AlertStatus.TEST,
}
_SEVERITY_OF_LEVEL = {5: Severity.EXTREME, 4: Severity.SEVERE, 3: Severity.MODERATE}
# District names that mean the whole municipality.
_WHOLE = frozenset({"全域", "市内全域", "町内全域", "村内全域", "区内全域"})


def pcxml_version(element: Element) -> int | None:
    """The PCXML version of a ``Report`` element, or None when it is not a PCXML report."""
    found = PCXML_NAMESPACE.match(namespace(element))
    if found is None or local_name(element) != "Report":
        return None
    return int(found.group(1))


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the EDXL-DE envelope says about the report it carries."""

    distribution_id: str | None = None
    status: str | None = None
    distribution_type: str | None = None
    sent: datetime | None = None
    target_code: str | None = None  # 5-digit municipality code from commons:targetArea
    target_name: str | None = None
    document_id: str | None = None
    revision: str | None = None
    previous_revision: str | None = None
    category: str | None = None
    office_name: str | None = None
    shelters_opened: tuple[str, ...] = field(default_factory=tuple)


def read_envelope(
    doc: XmlDocument, root: Element, content: Element | None, problems: Problems
) -> Envelope:
    """The envelope's facts for the report in ``content`` (a contentObject), checking codes."""
    # L-Alert's commons:targetArea may follow a plain EDXL-DE edxlde:targetArea.
    targets = children(root, "targetArea")
    target = next((t for t in targets if child(t, "jisX0402") is not None), None)
    code = None
    for element in children(target, "jisX0402") if target is not None else ():
        code = code or _six_digit_code(doc, element, problems)
    sent_element = child(root, "dateTimeSent")
    return Envelope(
        distribution_id=child_text(root, "distributionID"),
        status=child_text(root, "distributionStatus"),
        distribution_type=child_text(root, "distributionType"),
        sent=parse_time(text_of(sent_element), "dateTimeSent", doc, sent_element, problems),
        target_code=code,
        target_name=child_text(target, "areaName") if target is not None else None,
        document_id=child_text(content, "documentID") if content is not None else None,
        revision=child_text(content, "documentRevision") if content is not None else None,
        previous_revision=(
            child_text(content, "previousDocumentRevision") if content is not None else None
        ),
        category=child_text(content, "category") if content is not None else None,
        office_name=child_text(content, "publishingOfficeName") if content is not None else None,
    )


def opened_shelters(report: Element) -> list[str]:
    """Names of the shelters a PCXML shelter body (避難所情報) reports open (開設, 常設)."""
    names = []
    for body in descendants(report, "Shelter"):
        for information in descendants(body, "Information"):
            sort = unicodedata.normalize("NFKC", child_text(information, "Sort") or "")
            location = child(information, "Location")
            name = child_text(location, "areaName") if location is not None else None
            if name and sort in ("開設", "常設"):
                names.append(squeeze(name))
            if len(names) >= MAX_SHELTERS:
                return names
    return names


def report_drafts(
    doc: XmlDocument, report: Element, envelope: Envelope | None, problems: Problems
) -> list[AlertDraft]:
    """The draft of one PCXML report; problems recorded in ``problems`` (raised by the caller).

    An evacuation report gives one draft whose areas carry each district's level and, for a
    lifted one, ``AlertAction.LIFT``; a shelter report alone gives none (its open shelters
    are attached to the evacuation report of the same envelope).
    """
    envelope = envelope or Envelope()
    version = pcxml_version(report)
    if version not in SUPPORTED_VERSIONS:
        problems.add(
            doc.line(report),
            f"L-Alert PCXML version {version} is not supported "
            f"(supported: {', '.join(map(str, sorted(SUPPORTED_VERSIONS)))})",
            f"公共情報コモンズの形式の版 {version} には対応していません",
        )
        return []
    body = next(descendants(report, "EvacuationOrder"), None)
    if body is None:
        if next(descendants(report, "Shelter"), None) is not None:
            return []
        control = child(report, "Control")
        category = envelope.category
        if category is None and control is not None:
            category = child_text(control, "Title")
        problems.add(
            doc.line(report),
            f"L-Alert report of category {category!r} is not supported: Kizuna reads "
            "evacuation information (EvacuationOrder) and shelters",
            f"公共情報コモンズの種別 '{category}' には対応していません（避難情報と避難所情報のみ）",
        )
        return []
    return _EvacuationReader(doc, report, body, envelope, problems).drafts()


class _EvacuationReader:
    def __init__(
        self,
        doc: XmlDocument,
        report: Element,
        body: Element,
        envelope: Envelope,
        problems: Problems,
    ) -> None:
        self.doc, self.report, self.body = doc, report, body
        self.envelope, self.problems = envelope, problems
        self.head = child(report, "Head")
        self.control = child(report, "Control")

    def add(self, element: Element | None, message: str, message_ja: str) -> None:
        line = self.doc.line(element) if element is not None else self.doc.line(self.report)
        self.problems.add(line, message, message_ja)

    def head_text(self, name: str) -> str | None:
        return child_text(self.head, name) if self.head is not None else None

    def head_time(self, name: str) -> datetime | None:
        element = child(self.head, name) if self.head is not None else None
        return parse_time(text_of(element), name, self.doc, element, self.problems)

    def municipality(self) -> tuple[str, str] | None:
        """(5-digit code, name) of the municipality the report is about."""
        code = self.envelope.target_code
        if code is None and self.head is not None:
            for element in descendants(self.head, "jisX0402"):
                code = _six_digit_code(self.doc, element, self.problems)
                if code is not None:
                    break
        if code is None and self.control is not None:
            for element in descendants(self.control, "OrganizationCode"):
                code = _six_digit_code(self.doc, element, self.problems)
                if code is not None:
                    break
        if code is None:
            self.add(
                None,
                "the report names no municipality (commons:targetArea/commons:jisX0402)",
                "対象の市区町村（団体コード）が書かれていません",
            )
            return None
        ref = reference_of(code)
        return code, ref.name_ja if ref is not None else code

    def drafts(self) -> list[AlertDraft]:
        details = children(self.body, "Detail")
        districts = sum(len(list(descendants(d, "Area"))) for d in details)
        if len(details) > MAX_DETAILS or districts > MAX_DISTRICTS:
            self.problems.fail(
                self.doc.line(self.body),
                f"{len(details)} details with {districts} districts, the limits are "
                f"{MAX_DETAILS} and {MAX_DISTRICTS:,}",
                f"発令区分が {len(details)} 件、地区が {districts:,} 件あり、"
                f"上限（{MAX_DETAILS} 件と {MAX_DISTRICTS:,} 件）を超えています",
            )
        municipality = self.municipality()
        if municipality is None:
            return []
        code, town_name = municipality
        areas: list[AlertArea] = []
        issued: list[tuple[int, str]] = []
        problems_before = self.problems.total
        for detail in details:
            sort_element = child(detail, "Sort")
            sort = squeeze(unicodedata.normalize("NFKC", text_of(sort_element) or ""))
            level = _sort_level(sort)
            if level is None:
                self.add(
                    sort_element if sort_element is not None else detail,
                    f"unknown evacuation category (Sort) {sort!r}",
                    f"発令区分 '{sort}' が分かりません"
                    "（高齢者等避難・避難指示・緊急安全確保のいずれかにしてください）",
                )
                continue
            lift_element = child(detail, "IssueOrLift")
            issue_or_lift = squeeze(text_of(lift_element) or "")
            if issue_or_lift not in ("発令", "解除"):
                self.add(
                    lift_element if lift_element is not None else detail,
                    f"IssueOrLift must be 発令 or 解除, got {issue_or_lift!r}",
                    f"発令・解除の区分 '{issue_or_lift}' が「発令」「解除」のどちらでもありません",
                )
                continue
            lifted = issue_or_lift == "解除"
            if not lifted:
                issued.append((level, sort))
            action = AlertAction.LIFT if lifted else None
            found = list(descendants(detail, "Area"))
            for area in found:
                district = self._district(area, code, town_name, level, action)
                if district is not None:
                    areas.append(district)
            if not found:  # a detail without districts concerns the whole municipality
                areas.append(
                    AlertArea(
                        AreaScheme.MUNICIPALITY, town_name, code=code, level=level, action=action
                    )  # fmt: skip
                )
        if self.problems.total > problems_before:
            return []
        if not areas:
            self.add(self.body, "the evacuation report names no district",
                     "避難情報に対象の地区がありません")  # fmt: skip
            return []
        return [self._draft(code, town_name, areas, issued)]

    def _district(
        self,
        area: Element,
        code: str,
        town_name: str,
        level: int,
        action: AlertAction | None,
    ) -> AlertArea | None:
        location = child(area, "Location")
        holder = location if location is not None else area
        name = squeeze(child_text(holder, "areaName") or "")
        own = child(holder, "jisX0402")
        if own is not None and text_of(own) is not None:
            own_code = _six_digit_code(self.doc, own, self.problems)
            if own_code is None:
                return None
            code = own_code
            ref = reference_of(code)
            town_name = ref.name_ja if ref is not None else town_name
        if not name:
            self.add(area, "a district has no name (areaName)", "地区の名前がありません")
            return None
        if name in _WHOLE or name == town_name:
            return AlertArea(AreaScheme.MUNICIPALITY, town_name, code=code, level=level,
                             action=action)  # fmt: skip
        return AlertArea(AreaScheme.TOWN, name, code=code, level=level, action=action)

    def _draft(
        self, code: str, town_name: str, areas: list[AlertArea], issued: list[tuple[int, str]]
    ) -> AlertDraft:
        envelope = self.envelope
        document_id = envelope.document_id or self.head_text("documentID")
        revision = envelope.revision or self.head_text("documentRevision") or "1"
        distribution_id = envelope.distribution_id or self.head_text("distributionID")
        distribution_type = envelope.distribution_type or self.head_text("distributionType")
        if document_id is None:
            self.add(self.head, "the report has no documentID", "文書の識別番号がありません")
            document_id = ""
        status_text = envelope.status or (
            child_text(self.control, "distributionStatus") if self.control is not None else None
        )
        status = _STATUS.get(status_text or "")
        if status is None:
            self.add(
                self.control,
                f"distribution status {status_text!r} is not Actual, Exercise, System or Test",
                f"運用種別 '{status_text}' が正しくありません",
            )
            status = AlertStatus.TEST
        if distribution_type == "Cancel":
            action = AlertAction.CANCEL
        elif not issued:
            action = AlertAction.LIFT
        elif revision.strip() == "1" and distribution_type in (None, "Report"):
            action = AlertAction.ISSUE
        else:
            action = AlertAction.UPDATE
        level, title = max(issued) if issued else (None, None)
        if title is None:
            level = max((a.level for a in areas if a.level is not None), default=None)
            title = next((w for w, lv in SORT_LEVELS if lv == level), None)
        issued_at = (
            self.head_time("ReportDateTime") or envelope.sent or self.head_time("CreateDateTime")
        )
        if issued_at is None:
            self.add(self.head, "the report has no date (ReportDateTime)",
                     "発表日時がありません")  # fmt: skip
            issued_at = datetime.min
        headline = None
        if self.head is not None:
            headline_element = child(self.head, "Headline")
            headline = child_text(
                headline_element if headline_element is not None else self.head, "Text"
            )
        title_text = self.head_text("Title")
        lifted_only = action is AlertAction.LIFT
        fallback = f"{town_name} {title or '避難情報'}{'解除' if lifted_only else ''}"
        details: dict[str, str] = {"municipality_code": code}
        disaster = next(descendants(self.body, "DisasterName"), None)
        if text_of(disaster):
            details["disaster"] = text_of(disaster) or ""
        total = child(self.body, "TotalNumber")
        if total is not None:
            for name, key in (("Households", "households"), ("HeadCount", "head_count")):
                value = child_text(total, name)
                if value is not None:
                    details[key] = value
        if revision:
            details["document_revision"] = revision
        if envelope.previous_revision:
            details["previous_revision"] = envelope.previous_revision
        if envelope.shelters_opened:
            details["shelters_opened"] = "、".join(envelope.shelters_opened)
            details["shelters_opened_count"] = str(len(envelope.shelters_opened))
        complementary = child_text(self.body, "ComplementaryInfo")
        office = None
        if self.control is not None:
            office = next(descendants(self.control, "OrganizationName"), None)
        return AlertDraft(
            source=AlertSource.L_ALERT,
            source_id=distribution_id or f"{document_id}#{revision}",
            event_key=f"l-alert:{document_id}",
            kind=AlertKind.EVACUATION,
            action=action,
            status=status,
            headline_ja=squeeze(headline or title_text or fallback),
            issued_at=issued_at,
            areas=tuple(areas),
            issuer=text_of(office) or envelope.office_name or envelope.target_name or town_name,
            title_ja=title,
            body_ja=complementary,
            level=level,
            severity=_SEVERITY_OF_LEVEL.get(level or 0, Severity.UNKNOWN),
            effective_at=self.head_time("TargetDateTime"),
            expires_at=self.head_time("ValidDateTime"),
            details=details,
        )


def _sort_level(sort: str) -> int | None:
    compact = sort.replace("・", "").replace(" ", "")
    for word, level in SORT_LEVELS:
        if word in compact:
            return level
    return None


def _six_digit_code(doc: XmlDocument, element: Element, problems: Problems) -> str | None:
    """The 5-digit code of a 6-digit JIS X 0402 code with a valid check digit; else a problem."""
    raw = (element.text or "").strip()
    if not raw:
        return None
    code = normalize_code(raw) if len(raw) == 6 else None
    if code is None or reference_of(code) is None:
        if len(raw) != 6 or not raw.isdigit():
            message = (
                f"municipality code {raw!r} must be the 6-digit JIS X 0402 code with its "
                "check digit",
                f"団体コード '{raw}' は検査数字付きの6桁で書いてください",
            )
        else:
            message = bad_municipality_code(raw)
        problems.add(doc.line(element), *message)
        return None
    return code
