"""The volunteer record (志愿服务记录): a volunteer's own record page and its Excel export, and a unit's list
of its members with their hours, over the generated service records of bench/cases_records.py
(BENCH_RECORDS, default 200,000; the demo volunteer 海小勇 holds 2,000 of them, 大营村老年协会 all).
"""

from .cases_records import GIVER, ORG_ADMIN, ORGANISATION, _ensure_data

_PK: dict[str, int] = {}


def _organisation_pk() -> int:
    """Looked up once, so the timed request is the page alone."""
    if "pk" not in _PK:
        from volunteers.models import Organisation

        _PK["pk"] = Organisation.objects.get(name=ORGANISATION).pk
    return _PK["pk"]


def register(suite) -> None:
    suite.setup(_ensure_data)
    suite.sql_floor(
        "SQL floor: newest 50 volunteer records of a giver",
        'SELECT r.id, r.start, r."end", r.minutes, r.sign, r.status, r.place, r.content, i.name, c.name, o.name, '
        "g.name, e.name FROM services_servicerecord r JOIN portal_user u ON u.id = r.giver_id "
        "JOIN services_serviceitem i ON i.id = r.service_item_id JOIN services_servicecategory c ON c.id = i.category_id "
        "LEFT JOIN volunteers_organisation o ON o.id = r.organisation_id JOIN portal_region g ON g.code = r.region_id "
        "LEFT JOIN services_elder e ON e.id = r.elder_id "
        "WHERE u.phone = %s AND r.kind = 'volunteer' AND r.status <> 'rejected' ORDER BY r.start DESC LIMIT 50",
        [GIVER],
    )
    suite.page(
        "dossier: my volunteer record (giver with 2,000 records)",
        "/volunteers/record/",
        user=GIVER,
        floor="SQL floor: newest 50 volunteer records of a giver",
    )
    suite.page("dossier: my volunteer record as Excel (every record)", "/volunteers/record/?export=xlsx", user=GIVER)
    suite.sql_floor(
        "SQL floor: members of an organisation",
        "SELECT m.id, u.real_name FROM volunteers_membership m JOIN portal_user u ON u.id = m.user_id "
        "JOIN volunteers_organisation o ON o.id = m.organisation_id WHERE o.name = %s AND m.status = 'active' "
        "ORDER BY u.real_name LIMIT 50",
        [ORGANISATION],
    )

    def members_page():
        client = suite.client_for(ORG_ADMIN)
        response = client.get(f"/volunteers/organisations/{_organisation_pk()}/records/")
        assert response.status_code == 200, response.status_code
        return response

    suite.call(
        "dossier: members' records with hours (organisation admin)",
        members_page,
        floor="SQL floor: members of an organisation",
    )
