"""The served schema is the committed one; the docs page uses the vendored Swagger UI, no CDN."""

import json

from api.management.commands.api_schema import SCHEMA_FILE


def test_served_schema_is_openapi_3_and_matches_the_committed_file(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    served = response.json()
    assert served["openapi"].startswith("3.")
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert served == committed, "api/openapi.json is stale: run `python manage.py api_schema --write`"


def test_docs_page_uses_vendored_swagger(client, db):
    response = client.get("/api/v1/docs")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html
