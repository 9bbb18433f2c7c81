"""Wagtail pages of the public site."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page


class HomePage(Page):
    """The portal's front door: what it is, how to get help, where to go next."""

    hero_title = models.CharField(_("headline"), max_length=100, blank=True)
    hero_text = models.TextField(_("introduction"), blank=True)
    hotline = models.CharField(_("care hotline"), max_length=40, blank=True)
    body = RichTextField(_("body"), blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("hero_title"),
        FieldPanel("hero_text"),
        FieldPanel("hotline"),
        FieldPanel("body"),
    ]

    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("home page")
