"""Every text message template in one place.

A key names a message; its text (translated, with %(name)s parameters) is what the log sender and the
outbox show, and its parameters are what a provider's pre-registered template receives (Aliyun: a JSON
object by name; Tencent: a list in `params` order). Providers map keys to their template codes through
the environment (portal/sms_providers.py). A message sent without a key goes out through the provider's
"generic" template, with the whole text as its `content` parameter.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .sms import send_sms


@dataclass(frozen=True)
class SmsTemplate:
    text: object  # a lazy translation with %(name)s placeholders
    params: tuple[str, ...]

    def render(self, values: dict) -> str:
        return str(self.text) % values


GENERIC = "generic"

TEMPLATES: dict[str, SmsTemplate] = {
    "verification": SmsTemplate(
        _("Your verification code is %(code)s, valid for 10 minutes. Do not share it."), ("code",)
    ),
    "password_reset": SmsTemplate(_("Your password reset code is %(code)s, valid for 10 minutes."), ("code",)),
    "family_monthly": SmsTemplate(
        _("This month %(elder)s had %(visits)s visits and %(services)s services. Sign in to see more."),
        ("elder", "visits", "services"),
    ),
    "family_no_contact": SmsTemplate(
        _(
            "No family contact with %(elder)s has been reported for %(days)s days. Please call or visit, and report "
            "it in the portal."
        ),
        ("elder", "days"),
    ),
    "agreement_accept": SmsTemplate(
        _(
            "%(family)s asks you to look after %(elder)s from %(start)s to %(end)s (entrusted-care agreement). To "
            "accept, enter code %(code)s at %(url)s within 3 days."
        ),
        ("family", "elder", "start", "end", "code", "url"),
    ),
    "agreement_ending": SmsTemplate(
        _("The entrusted-care agreement for %(elder)s ends on %(end)s. Please arrange the care in time."),
        ("elder", "end"),
    ),
    # services.spotchecks: a call-back found that a logged service did not happen (to the provider and liaison)
    "spotcheck_dispute": SmsTemplate(
        _(
            "Spot-check call-back: the %(what)s logged for %(date)s in %(village)s did not happen, the elder or "
            "family says. It is disputed and taken out of payment. Please look in the portal."
        ),
        ("what", "date", "village"),
    ),
    # services.referrals: a case sent to a receiving unit; a referral past its deadline
    "referral_new": SmsTemplate(
        _(
            "A case from %(village)s is referred to you (%(kind)s). Please acknowledge it in the portal by %(deadline)s."
        ),
        ("village", "kind", "deadline"),
    ),
    "referral_overdue": SmsTemplate(
        _("A referral from %(village)s (%(kind)s) is past its deadline without an answer. Please follow it up."),
        ("village", "kind"),
    ),
    # services.safecheck (平安铃): the daily question, the reminder, the liaison told of missed days
    "safecheck_ask": SmsTemplate(_("平安铃: if you are well today, reply 1."), ()),
    "safecheck_again": SmsTemplate(_("平安铃: we have not heard from you today. If you are well, reply 1."), ()),
    "safecheck_missed": SmsTemplate(
        _("平安铃: an elder of %(village)s has not answered for %(days)s days. Please visit and see that all is well."),
        ("village", "days"),
    ),
    GENERIC: SmsTemplate("%(content)s", ("content",)),
}


def provider_params(template: str, message: str, params: dict | None) -> tuple[str, dict]:
    """The template key and parameters a provider receives for one outbox message."""
    if template in TEMPLATES and template != GENERIC and params:
        return template, {name: str(params.get(name, "")) for name in TEMPLATES[template].params}
    return GENERIC, {"content": message}


def send_template(phone: str, key: str, *, region=None, **values):
    """Render template `key` with `values` and put it in the outbox (portal.sms.send_sms)."""

    return send_sms(phone, TEMPLATES[key].render(values), template=key, params=values, region=region)
