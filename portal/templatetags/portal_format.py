"""{% load portal_format %}: {{ amount|money }}, {{ amount|yuan }}, {{ day|cn_date }}, {{ moment|cn_datetime }}."""

from django import template

from portal import formatting

register = template.Library()
register.filter("money", formatting.money)
register.filter("yuan", formatting.yuan)
register.filter("cn_date", formatting.cn_date)
register.filter("cn_datetime", formatting.cn_datetime)
