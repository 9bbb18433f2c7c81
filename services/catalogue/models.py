"""The care-service list (关爱服务清单): categories and items."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Region


class ServiceCategory(models.Model):
    """A category of the care-service list; the policy's nine are seeded, editors may add more."""

    name = models.CharField(_("name"), max_length=30, unique=True)
    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


# The policy's categories (宁民发〔2018〕105号 and its care-service list), in the order it lists them.
DEFAULT_CATEGORIES = [
    ("shenghuo-zhaoliao", "生活照料"),
    ("jingshen-weijie", "精神慰藉"),
    ("anquan-jianhu", "安全监护"),
    ("quanyi-weihu", "权益维护"),
    ("jiankang-guanli", "健康管理"),
    ("kangfu-huli", "康复护理"),
    ("jinji-yuanzhu", "紧急援助"),
    ("wenti-yule", "文体娱乐"),
    ("falv-yuanzhu", "法律援助"),
]


class ServiceItemQuerySet(models.QuerySet):
    def published(self):
        """What the public list shows and givers may deliver: published items, with their category."""
        return self.filter(published=True).select_related("category")


class ServiceItem(models.Model):
    """One entry of the care-service list: what it is, who may have it, how to get it, where it runs."""

    category = models.ForeignKey(
        ServiceCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="items"
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("what it is"))
    eligibility = models.TextField(_("who is eligible"), blank=True)
    how_to_obtain = models.TextField(_("how to obtain"), blank=True)
    provider = models.CharField(_("provider"), max_length=100, blank=True)
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    cost = models.CharField(_("cost"), max_length=100, blank=True, help_text=_("e.g. 免费, 政府购买, 每次10元"))
    professional = models.BooleanField(
        _("professional service"),
        default=False,
        help_text=_("Only qualified social workers may deliver it (e.g. 心理疏导, 家庭关系调适)."),
    )
    regions = models.ManyToManyField(
        Region,
        verbose_name=_("regions covered"),
        blank=True,
        related_name="service_items",
        help_text=_("Counties or townships where it is offered; none means all of Ningxia."),
    )
    published = models.BooleanField(_("published"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ServiceItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("care service item")
        verbose_name_plural = _("care service items")
        ordering = ["category__sort_order", "sort_order", "name"]
        constraints = [models.UniqueConstraint(fields=["category", "name"], name="serviceitem_unique_name")]

    def __str__(self) -> str:
        return self.name
