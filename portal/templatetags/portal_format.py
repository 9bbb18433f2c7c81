"""{% load portal_format %}: {{ amount|money }}, {{ amount|yuan }}, {{ day|cn_date }}, {{ moment|cn_datetime }},
{{ secret|groups_of_four }}."""

from django import template

from portal import formatting

register = template.Library()
register.filter("money", formatting.money)
register.filter("yuan", formatting.yuan)
register.filter("cn_date", formatting.cn_date)
register.filter("cn_datetime", formatting.cn_datetime)


@register.filter
def groups_of_four(value) -> str:
    """A secret to type by hand: "ABCD EFGH …"."""
    text = str(value or "")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))
