"""L-Alert documents written for the tests (no official sample may be shipped).

They follow the published PCXML format as public code uses it: the EDXL-DE envelope with
L-Alert's ``commons:`` elements (targetArea/jisX0402, contentObject, documentID,
documentRevision, category) and the ``Report`` with ``Control``, ``Head`` (informationBasis)
and the ``EvacuationOrder`` body (``Detail``: ``Sort``, ``IssueOrLift``, ``Areas/Area/Location``
with ``commons:areaName``) as in LGDIS (石巻市, ``plugins/lgdis/files/xml/commons_*.xml`` and
``evacuation_advisory.rb``), the shelter body (``Shelter/Informations/Information``: Location,
Type, Sort 開設/閉鎖) as in LGDIS ``shelter.rb``, and the SOAP 1.1 ``publish`` message of
``pnserv-com/publiccommons-py`` (``tests/data/soap1.xml``). Districts are real 会津若松市 towns.
"""

from __future__ import annotations

from dataclasses import dataclass

EDXL = "urn:oasis:names:tc:emergency:EDXL:DE:1.0"
COMMONS = "http://xml.publiccommons.ne.jp/xml/edxl/"
AIZU = "072028"  # 会津若松市, 6 digits with check digit


@dataclass(frozen=True)
class Detail:
    sort: str
    issue_or_lift: str
    districts: tuple[str, ...]
    households: int | None = None


def report(
    version: int,
    details: list[Detail],
    *,
    document_id: str = "0f9a1c3e-5b7d-4e21-9c8a-6d2b4f1e7a90",
    revision: int = 1,
    distribution_type: str = "Report",
    status: str = "Actual",
    head_code: str | None = None,
    title: str = "会津若松市 避難情報",
    headline: str = "警戒レベル4 避難指示を発令しました",
) -> str:
    """A PCXML ``Report`` of the given version with an evacuation body."""
    v = version
    head_area = (
        f"<pcx_ib:Areas><pcx_ib:Area><commons:areaName>会津若松市</commons:areaName>"
        f"<commons:jisX0402>{head_code}</commons:jisX0402></pcx_ib:Area></pcx_ib:Areas>"
        if head_code
        else ""
    )
    body = "".join(
        f"""
        <pcx_ev:Detail>
          <pcx_ev:Sort>{d.sort}</pcx_ev:Sort>
          <pcx_ev:IssueOrLift>{d.issue_or_lift}</pcx_ev:IssueOrLift>
          <pcx_ev:Object>{_households(d.households)}</pcx_ev:Object>
          <pcx_ev:Areas>{"".join(_district(name) for name in d.districts)}</pcx_ev:Areas>
        </pcx_ev:Detail>"""
        for d in details
    )
    return f"""<Report xmlns="http://xml.publiccommons.ne.jp/pcxml1/{v}"
      xmlns:pcx_ib="http://xml.publiccommons.ne.jp/pcxml1/informationBasis{v}/"
      xmlns:pcx_eb="http://xml.publiccommons.ne.jp/pcxml1/elementBasis{v}/"
      xmlns:pcx_ev="http://xml.publiccommons.ne.jp/pcxml1/body/evacuation{v}"
      xmlns:commons="{COMMONS}" xmlns:edxlde="{EDXL}">
      <Control>
        <Title>EvacuationOrder</Title>
        <edxlde:distributionStatus>{status}</edxlde:distributionStatus>
        <EditorialOffice><pcx_eb:OfficeName>危機管理課</pcx_eb:OfficeName></EditorialOffice>
        <PublishingOffice>
          <pcx_eb:OfficeInfo>
            <pcx_eb:OrganizationCode>{AIZU}</pcx_eb:OrganizationCode>
            <pcx_eb:OfficeName>危機管理課</pcx_eb:OfficeName>
            <pcx_eb:OrganizationName>福島県会津若松市</pcx_eb:OrganizationName>
          </pcx_eb:OfficeInfo>
        </PublishingOffice>
      </Control>
      <pcx_ib:Head>
        <pcx_ib:Title>{title}</pcx_ib:Title>
        <pcx_ib:CreateDateTime>2025-07-01T10:05:00+09:00</pcx_ib:CreateDateTime>
        <pcx_ib:FirstCreateDateTime>2025-07-01T10:05:00+09:00</pcx_ib:FirstCreateDateTime>
        <pcx_ib:ReportDateTime>2025-07-01T10:00:00+09:00</pcx_ib:ReportDateTime>
        <pcx_ib:TargetDateTime>2025-07-01T10:00:00+09:00</pcx_ib:TargetDateTime>
        <pcx_ib:ValidDateTime>2025-07-03T10:00:00+09:00</pcx_ib:ValidDateTime>
        <edxlde:distributionID>head-{document_id}-{revision}</edxlde:distributionID>
        <edxlde:distributionType>{distribution_type}</edxlde:distributionType>
        <commons:documentRevision>{revision}</commons:documentRevision>
        <commons:documentID>{document_id}</commons:documentID>
        <pcx_ib:Headline><pcx_ib:Text>{headline}</pcx_ib:Text>{head_area}</pcx_ib:Headline>
      </pcx_ib:Head>
      <pcx_ev:EvacuationOrder>
        <pcx_eb:Disaster><pcx_eb:DisasterName>令和7年7月大雨</pcx_eb:DisasterName></pcx_eb:Disaster>
        <pcx_ev:ComplementaryInfo>土砂災害の危険が高まっています。</pcx_ev:ComplementaryInfo>
        <pcx_ev:TotalNumber>
          <pcx_ev:Households pcx_ev:unit="世帯">120</pcx_ev:Households>
          <pcx_ev:HeadCount>310</pcx_ev:HeadCount>
        </pcx_ev:TotalNumber>{body}
      </pcx_ev:EvacuationOrder>
    </Report>"""


def shelter_report(opened: list[str], closed: list[str], version: int = 3) -> str:
    """A PCXML ``Report`` with a shelter body (避難所情報)."""
    information = "".join(
        f"""<pcx_sh:Information>
          <pcx_sh:Location><commons:areaName>{name}</commons:areaName></pcx_sh:Location>
          <pcx_sh:Type>避難所</pcx_sh:Type><pcx_sh:Sort>{sort}</pcx_sh:Sort>
        </pcx_sh:Information>"""
        for names, sort in ((opened, "開設"), (closed, "閉鎖"))
        for name in names
    )
    return f"""<Report xmlns="http://xml.publiccommons.ne.jp/pcxml1/{version}"
      xmlns:pcx_sh="http://xml.publiccommons.ne.jp/pcxml1/body/shelter{version}"
      xmlns:commons="{COMMONS}">
      <Control><Title>Shelter</Title></Control>
      <pcx_sh:Shelter><pcx_sh:Informations>{information}</pcx_sh:Informations></pcx_sh:Shelter>
    </Report>"""


def envelope(
    *reports: tuple[str, str],
    target: str = AIZU,
    status: str = "Actual",
    distribution_type: str = "Report",
    distribution_id: str = "5d0c2f4e-8a61-4b9e-a1f3-27c9e0b6d418",
    revision: int = 1,
) -> str:
    """An EDXL-DE distribution with L-Alert's commons elements; ``reports``: (category, xml)."""
    contents = "".join(
        f"""
  <commons:contentObject>
    <edxlde:contentDescription>{category}</edxlde:contentDescription>
    <edxlde:xmlContent><edxlde:embeddedXMLContent>{xml}</edxlde:embeddedXMLContent></edxlde:xmlContent>
    <commons:publishingOfficeName>危機管理課</commons:publishingOfficeName>
    <commons:publishingOfficeID>{target}</commons:publishingOfficeID>
    <commons:documentRevision>{revision}</commons:documentRevision>
    <commons:documentID>doc-{category}</commons:documentID>
    <commons:category>{category}</commons:category>
  </commons:contentObject>"""
        for category, xml in reports
    )
    return f"""<edxlde:EDXLDistribution xmlns:edxlde="{EDXL}" xmlns:commons="{COMMONS}">
  <edxlde:distributionID>{distribution_id}</edxlde:distributionID>
  <edxlde:senderID>editor.city.aizuwakamatsu.example</edxlde:senderID>
  <edxlde:dateTimeSent>2025-07-01T10:06:00+09:00</edxlde:dateTimeSent>
  <edxlde:distributionStatus>{status}</edxlde:distributionStatus>
  <edxlde:distributionType>{distribution_type}</edxlde:distributionType>
  <edxlde:combinedConfidentiality>UNCLASSIFIED AND NOT SENSITIVE</edxlde:combinedConfidentiality>
  <edxlde:language>ja-JP</edxlde:language>
  <commons:targetArea>
    <commons:areaName>福島県会津若松市</commons:areaName>
    <commons:jisX0402>{target}</commons:jisX0402>
  </commons:targetArea>{contents}
</edxlde:EDXLDistribution>"""


def soap_publish(distribution: str) -> str:
    """A SOAP 1.1 ``publish`` message carrying an EDXL-DE distribution, as L-Alert sends it."""
    return f"""<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
<soap:Body><pcsoap:publish xmlns:pcsoap="http://soap.publiccommons.ne.jp/"><pcsoap:message>
{distribution}
</pcsoap:message></pcsoap:publish></soap:Body></soap:Envelope>"""


def document(xml: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}'.encode()


def _households(count: int | None) -> str:
    return (
        ""
        if count is None
        else f'<pcx_ev:Households pcx_ev:unit="世帯">{count}</pcx_ev:Households>'
    )


def _district(name: str) -> str:
    return f"""
            <pcx_ev:Area>
              <pcx_eb:Location><commons:areaName>{name}</commons:areaName></pcx_eb:Location>
              <pcx_ev:DateTime>2025-07-01T10:00:00+09:00</pcx_ev:DateTime>
            </pcx_ev:Area>"""
