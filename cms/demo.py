"""Demo content for the public site. Idempotent: running it again finds what exists and adds nothing.

Texts live in cms/demo_texts/ (the project must work from a plain clone): the Ningxia policy's full
text, an honest summary of the national opinion it implements, and a few generic publicity articles.
"""

import datetime
import json
import re
from pathlib import Path

from django.db import transaction
from django.utils.html import escape

from wagtail.models import Page, Site

from portal.models import Region

from .editorial import county_section_ensure, workflow_ensure
from .models import ArticleIndexPage, ArticlePage, HomePage, PolicyIndexPage, PolicyPage, ServiceListPage, StandardPage

TEXTS = Path(__file__).resolve().parent / "demo_texts"
DEMO_COUNTY = "640422000000"  # 西吉县

DEFAULT_SECTIONS = [
    ("hero", {"title": "", "text": ""}),
    ("hotline", {"number": "", "text": ""}),
    ("latest_policies", {"title": "政策文件", "count": 3}),
    (
        "service_list",
        {
            "title": "关爱服务清单",
            "text": "生活照料、精神慰藉、安全监护、健康管理……看看您所在的县、乡镇有哪些服务，怎样申请。",
        },
    ),
    ("activities", {"title": "近期活动", "count": 3}),
    ("publicity", {"title": "孝亲敬老宣传", "count": 4}),
]

HOME = {
    "title": "首页",
    "hero_title": "农村留守老年人关爱服务",
    "hero_text": "让每一位留守老人有人知、有人访、有人帮。村联络人定期巡访，老年协会互助，志愿者结对帮扶，子女履行赡养责任。",
    "hotline": "12349",
}

NINGXIA_POLICY = {
    "slug": "ningxia-2018-105",
    "title": "关于加强农村留守老年人关爱服务工作的实施意见",
    "document_number": "宁民发〔2018〕105号",
    "issuing_bodies": "\n".join(
        [
            "宁夏回族自治区民政厅",
            "宁夏回族自治区公安厅",
            "宁夏回族自治区司法厅",
            "宁夏回族自治区财政厅",
            "宁夏回族自治区人力资源和社会保障厅",
            "宁夏回族自治区文化和旅游厅",
            "宁夏回族自治区卫生健康委员会",
            "宁夏回族自治区扶贫开发办公室",
            "宁夏回族自治区老龄工作委员会办公室",
        ]
    ),
    "written_date": datetime.date(2018, 11, 13),
    "published_date": datetime.date(2018, 11, 13),
    "summary": "宁夏回族自治区民政厅等9部门为贯彻落实民政部等9部门《关于加强农村留守老年人关爱服务工作的意见》"
    "（民发〔2017〕193号）制定的实施意见：排查掌握农村留守老年人基本情况，建立以家庭为主体、村民委员会、"
    "老年协会、养老服务设施和社会力量共同参与的关爱服务体系，建立定期巡访和救助保护机制。",
    "search_description": "宁民发〔2018〕105号全文：宁夏加强农村留守老年人关爱服务工作的实施意见。",
}

NATIONAL_POLICY = {
    "slug": "national-2017-193",
    "title": "关于加强农村留守老年人关爱服务工作的意见（摘要）",
    "document_number": "民发〔2017〕193号",
    "issuing_bodies": "民政部等9部门",
    "summary": "",
    "search_description": "民发〔2017〕193号摘要：民政部等9部门关于加强农村留守老年人关爱服务工作的意见。",
}

_HEADING = re.compile(r"^[一二三四五六七八九十]+、")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def text_to_html(text: str) -> str:
    """Paragraphs separated by blank lines → <p>; 一、… headings → <h3>; **bold** → <strong>."""
    html = []
    for para in (p.strip() for p in text.split("\n\n")):
        if not para:
            continue
        body = _BOLD.sub(r"<strong>\1</strong>", escape(para))
        html.append(f"<h3>{body}</h3>" if _HEADING.match(para) and len(para) < 20 else f"<p>{body}</p>")
    return "".join(html)


def _child(parent: Page, model, slug: str, /, **fields):
    fields.pop("slug", None)
    existing = model.objects.child_of(parent).filter(slug=slug).first()
    if existing is not None:
        return existing, False
    return parent.add_child(instance=model(slug=slug, **fields)), True


@transaction.atomic
def ensure_home() -> HomePage:
    """Make a HomePage the site root (replacing Wagtail's placeholder page) and return it."""
    home = HomePage.objects.first()
    if home is None:
        root = Page.get_first_root_node()
        home = root.add_child(instance=HomePage(slug="portal-home", sections=DEFAULT_SECTIONS, **HOME))
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="关爱服务门户"
        )
    elif site.root_page_id != home.pk:
        old = site.root_page
        site.root_page = home
        site.save()
        if old.specific_class is Page and old.depth == 2 and not old.get_children().exists():
            old.delete()
    return home


@transaction.atomic
def ensure_site() -> HomePage:
    """The home page and the public site below it: policies, publicity, the care-service list, about."""
    home = ensure_home()
    if not home.sections:
        home.sections = DEFAULT_SECTIONS
        home.save()

    policies, _ = _child(
        home, PolicyIndexPage, "policy", title="政策文件", intro="农村留守老年人关爱服务的政策文件，按发布日期排列。"
    )
    national, _ = _child(
        policies,
        PolicyPage,
        NATIONAL_POLICY["slug"],
        **{**NATIONAL_POLICY, "summary": (TEXTS / "national_2017_193_summary.txt").read_text(encoding="utf-8")},
    )
    full_text = text_to_html((TEXTS / "ningxia_2018_105.txt").read_text(encoding="utf-8"))
    ningxia, created = _child(policies, PolicyPage, NINGXIA_POLICY["slug"], full_text=full_text, **NINGXIA_POLICY)
    if created:
        ningxia.related_policies.set([national])
        ningxia.save()
        national.related_policies.set([ningxia])
        national.save()

    publicity, _ = _child(
        home,
        ArticleIndexPage,
        "publicity",
        title="孝亲敬老宣传",
        intro="孝亲敬老典型、健康知识、法治宣传和工作动态。",
    )
    county_section, _ = county_section_ensure(
        county=Region.objects.get(code=DEMO_COUNTY), parent=publicity, intro="西吉县的关爱服务工作动态。"
    )
    for article in json.loads((TEXTS / "articles.json").read_text(encoding="utf-8")):
        parent = county_section if article["section"] == "county" else publicity
        body = [("paragraph", "".join(f"<p>{escape(p)}</p>" for p in article["paragraphs"]))]
        page, created = _child(
            parent,
            ArticlePage,
            article["slug"],
            title=article["title"],
            category=article["category"],
            date=datetime.date.fromisoformat(article["date"]),
            summary=article["summary"],
            body=body,
        )
        if created:
            page.tags.add(*article["tags"])
            page.save()

    _child(
        home,
        ServiceListPage,
        "care-services",
        title="关爱服务清单",
        intro="按照宁民发〔2018〕105号“建立留守老年人关爱服务清单制度”的要求，列出各县（区）面向农村留守老年人的"
        "关爱服务项目、申请方式和提供单位。选择您所在的县（区）和乡镇，只看当地的服务。",
    )
    _child(
        home,
        StandardPage,
        "about",
        title="关于本站",
        intro="本站是宁夏农村留守老年人关爱服务的信息门户。",
        body=[
            (
                "paragraph",
                "<p>本站发布农村留守老年人关爱服务的政策文件、孝亲敬老宣传和关爱服务清单，"
                "并为村联络人、乡镇和县级民政干部、志愿者提供工作平台。</p>"
                "<p>发现留守老人走失、遭受侵害、突发重病等紧急情况，请立即拨打110或120，"
                "并告诉村委会或拨打关爱服务热线12349。</p>",
            )
        ],
    )
    workflow_ensure(site_root=home)
    return home


def seed() -> None:
    ensure_site()
