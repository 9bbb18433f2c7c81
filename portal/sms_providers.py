"""SMS through Aliyun (阿里云短信服务, Dysmsapi 2017-05-25 `SendSms`) and Tencent Cloud (腾讯云短信, SMS
2021-01-11 `SendSms`), each through its official SDK (alibabacloud_dysmsapi20170525; tencentcloud-sdk-python-sms),
so that signing, endpoints and API changes stay the vendors' business. The endpoint is configurable (a URL; its
scheme is passed to the SDK), so the tests talk to a fake server on 127.0.0.1.

Set SMS_SENDER to `portal.sms_providers.AliyunSender` or `portal.sms_providers.TencentSender` and:

Aliyun:  SMS_ALIYUN_ACCESS_KEY_ID, SMS_ALIYUN_ACCESS_KEY_SECRET, SMS_ALIYUN_TEMPLATES
         (key=code pairs, comma-separated, e.g. "verification=SMS_1,password_reset=SMS_2,generic=SMS_3"),
         optional SMS_ALIYUN_SIGN_NAME (default SMS_SIGN_NAME), SMS_ALIYUN_ENDPOINT, SMS_ALIYUN_REGION.
Tencent: SMS_TENCENT_SECRET_ID, SMS_TENCENT_SECRET_KEY, SMS_TENCENT_APP_ID (SmsSdkAppId),
         SMS_TENCENT_TEMPLATES (key=template id pairs), optional SMS_TENCENT_SIGN_NAME, SMS_TENCENT_ENDPOINT,
         SMS_TENCENT_REGION.

The template keys are those of portal/sms_templates.py; "generic" receives the whole text as `content`.
A send returns the provider's answer (kept on the outbox row) or raises SmsError (permanent) or
SmsTemporaryError (timeout, connection, throttling, provider busy: retried with backoff). The SDKs' own
retries are off: the outbox retries, with backoff, across worker restarts.
"""

import json
import urllib.parse

from alibabacloud_dysmsapi20170525 import models as aliyun_models
from alibabacloud_dysmsapi20170525.client import Client as AliyunClient
from alibabacloud_tea_openapi import models as aliyun_openapi
from alibabacloud_tea_util import models as aliyun_util
from tencentcloud.common import credential as tencent_credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as tencent_models
from tencentcloud.sms.v20210111.sms_client import SmsClient as TencentClient

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .settings.env import env
from .sms import SmsError, SmsTemporaryError
from .sms_templates import TEMPLATES, provider_params


def _templates(name: str) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in (env(name) or "").split(",") if "=" in item]
    return {key.strip(): code.strip() for key, code in pairs}


def _required(name: str) -> str:
    value = env(name)
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} must be set for this SMS sender.")
    return value


def _endpoint(url: str) -> tuple[str, str]:
    """("https", "dysmsapi.aliyuncs.com") from a URL: the SDKs take the host and the scheme apart."""
    parts = urllib.parse.urlsplit(url if "//" in url else f"https://{url}")
    return parts.scheme or "https", parts.netloc


class AliyunSender:
    uses_templates = True
    # Codes after which trying again later makes sense.
    TEMPORARY = {"isv.BUSINESS_LIMIT_CONTROL", "Throttling", "Throttling.User", "Throttling.Api", "ServiceUnavailable"}

    def __init__(self):
        scheme, host = _endpoint(env("SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/"))
        self.client = AliyunClient(
            aliyun_openapi.Config(
                access_key_id=_required("SMS_ALIYUN_ACCESS_KEY_ID"),
                access_key_secret=_required("SMS_ALIYUN_ACCESS_KEY_SECRET"),
                endpoint=host,
                protocol=scheme.upper(),
                region_id=env("SMS_ALIYUN_REGION", "cn-hangzhou"),
            )
        )
        self.sign_name = env("SMS_ALIYUN_SIGN_NAME") or settings.SMS_SIGN_NAME
        self.templates = _templates("SMS_ALIYUN_TEMPLATES")

    def send(self, phone: str, message: str, *, template: str = "", params: dict | None = None) -> str:
        key, values = provider_params(template, message, params)
        code = self.templates.get(key)
        if not code:
            raise SmsError(f"no Aliyun template code for {key!r} in SMS_ALIYUN_TEMPLATES")
        request = aliyun_models.SendSmsRequest(
            phone_numbers=phone,
            sign_name=self.sign_name,
            template_code=code,
            template_param=json.dumps(values, ensure_ascii=False),
        )
        timeout_ms = int(settings.SMS_TIMEOUT_SECONDS * 1000)
        runtime = aliyun_util.RuntimeOptions(
            autoretry=False, max_attempts=1, read_timeout=timeout_ms, connect_timeout=timeout_ms
        )
        try:
            answer = self.client.send_sms_with_options(request, runtime).body
        except Exception as exc:  # the SDK raises its own and requests' errors for HTTP and network trouble
            code = getattr(exc, "code", "") or ""
            if code and code not in self.TEMPORARY and not str(code).startswith(("5", "Internal")):
                raise SmsError(f"{code}: {getattr(exc, 'message', exc)}") from exc
            raise SmsTemporaryError(f"no answer: {exc}"[:300]) from exc
        if answer.code == "OK":
            return f"OK BizId={answer.biz_id or ''}"
        text = f"{answer.code}: {answer.message or ''}"
        raise (SmsTemporaryError if answer.code in self.TEMPORARY else SmsError)(text)


class TencentSender:
    uses_templates = True
    TEMPORARY_PREFIXES = (
        "RequestLimitExceeded",
        "InternalError",
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        "ClientNetworkError",
        "ServerNetworkError",
    )

    def __init__(self):
        scheme, host = _endpoint(env("SMS_TENCENT_ENDPOINT", "https://sms.tencentcloudapi.com/"))
        profile = HttpProfile(protocol=scheme, endpoint=host, reqTimeout=settings.SMS_TIMEOUT_SECONDS)
        self.client = TencentClient(
            tencent_credential.Credential(_required("SMS_TENCENT_SECRET_ID"), _required("SMS_TENCENT_SECRET_KEY")),
            env("SMS_TENCENT_REGION", "ap-guangzhou"),
            ClientProfile(httpProfile=profile),
        )
        self.app_id = _required("SMS_TENCENT_APP_ID")
        self.sign_name = env("SMS_TENCENT_SIGN_NAME") or settings.SMS_SIGN_NAME
        self.templates = _templates("SMS_TENCENT_TEMPLATES")

    def _fail(self, code: str, message: str):
        temporary = code.startswith(self.TEMPORARY_PREFIXES)
        return (SmsTemporaryError if temporary else SmsError)(f"{code}: {message}"[:300])

    def send(self, phone: str, message: str, *, template: str = "", params: dict | None = None) -> str:
        key, values = provider_params(template, message, params)
        template_id = self.templates.get(key)
        if not template_id:
            raise SmsError(f"no Tencent template id for {key!r} in SMS_TENCENT_TEMPLATES")
        request = tencent_models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{phone}"]
        request.SmsSdkAppId = self.app_id
        request.SignName = self.sign_name
        request.TemplateId = template_id
        request.TemplateParamSet = [values[name] for name in TEMPLATES[key].params]
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            if exc.get_code() == "ClientNetworkError":  # timeout, refused connection: as Aliyun's
                raise SmsTemporaryError(f"no answer: {exc.get_message()}"[:300]) from exc
            raise self._fail(exc.get_code() or "", exc.get_message() or "") from exc
        statuses = response.SendStatusSet or []
        first = statuses[0] if statuses else None
        if first is not None and first.Code == "Ok":
            return f"Ok SerialNo={first.SerialNo or ''}"
        raise self._fail(first.Code if first else "unknown", first.Message if first else "")
