"""Issue 16, items 4 and 10 at 390 px: the import page (template link), a checked file with row errors, and the
yearly review list fit a phone, with no sideways scrolling."""

import pytest

from django.contrib.auth import get_user_model
from django.urls import reverse

from services.ledger import imports
from services.ledger.models import ImportJob, ImportStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def test_import_pages_and_review_list_fit_a_phone(demo_site, open_page):
    liaison = get_user_model().objects.get(phone="13900000001")
    job = ImportJob.objects.create(
        created_by=liaison,
        filename="大营村留守老年人基本情况登记表（2026年5月）.xlsx",
        status=ImportStatus.INVALID,
        total=40,
        processed=40,
        errors=[
            {"row": 6, "name": "杨福", "column": "身份证号", "message": str(imports.ROW_ID_AS_NUMBER)},
            {
                "row": 9,
                "name": "青年",
                "column": "出生日期",
                "message": "不符合政策规定的农村留守老年人：现年 36 周岁；政策规定为 60 周岁以上老年人。",
            },
            {
                "row": 12,
                "name": "马兰",
                "column": "居住情况",
                "message": "居住情况 勾选了不止一项：独居、与配偶同住（空巢）。请只勾选一项。",
            },
        ],
        message="3",
    )
    for path, name in (
        (reverse("services:elder-import"), "import-upload"),
        (reverse("services:elder-import-job", args=[job.pk]), "import-errors"),
        (reverse("services:eligibility-review"), "eligibility-review"),
    ):
        for elder in (False, True):
            page = open_page(path, user=liaison, name=name, elder=elder)
            assert page.evaluate(OVERFLOW) <= 0, (path, elder)
    page = open_page(reverse("services:elder-import-job", args=[job.pk]), user=liaison, name="import-errors")
    text = page.inner_text("main")
    assert "杨福" in text and "文本" in text  # the row and its plain message
