"""Base cases: the two floors, the home page, the sign-in page and the staff village list."""

import io

from django.core.management import call_command


def register(suite) -> None:
    suite.setup(lambda: call_command("seed_demo", stdout=io.StringIO()))
    suite.page("view floor", "/__bench__/floor/", floor=None)
    suite.public_page("home page (anonymous)", "/")
    suite.page("sign-in page", "/accounts/login/")
    # The county officer's village list: 328 villages of 西吉县, 50 per page.
    suite.sql_floor(
        "SQL floor: villages of a county",
        "SELECT v.code, v.name, t.name, c.name FROM portal_region v "
        "JOIN portal_region t ON t.code = v.parent_id JOIN portal_region c ON c.code = t.parent_id "
        "WHERE v.level = 'village' AND v.code LIKE %s ORDER BY v.code LIMIT 50",
        ["640422%"],
    )
    suite.page(
        "village list (county officer)",
        "/portal/workbench/",
        user="13900000003",
        floor="SQL floor: villages of a county",
    )
