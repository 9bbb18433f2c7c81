"""SMS through Aliyun (阿里云短信服务, Dysmsapi 2017-05-25 `SendSms`) and Tencent Cloud (腾讯云短信, SMS
2021-01-11 `SendSms`).

Both are called through their documented HTTP APIs with their signature algorithms (Aliyun: RPC
signature v1, HMAC-SHA1; Tencent: TC3-HMAC-SHA256), using only the standard library: the official SDKs
(alibabacloud_dysmsapi20170525 with the Tea/Darabonba runtime; tencentcloud-sdk-python-common and -sms)
would add a dozen packages for one POST each. The endpoint is configurable, so the tests talk to a fake
server on 127.0.0.1.

Set SMS_SENDER to `portal.sms_providers.AliyunSender` or `portal.sms_providers.TencentSender` and:

Aliyun:  SMS_ALIYUN_ACCESS_KEY_ID, SMS_ALIYUN_ACCESS_KEY_SECRET, SMS_ALIYUN_TEMPLATES
         (key=code pairs, comma-separated, e.g. "verification=SMS_1,password_reset=SMS_2,generic=SMS_3"),
         optional SMS_ALIYUN_SIGN_NAME (default SMS_SIGN_NAME), SMS_ALIYUN_ENDPOINT, SMS_ALIYUN_REGION.
Tencent: SMS_TENCENT_SECRET_ID, SMS_TENCENT_SECRET_KEY, SMS_TENCENT_APP_ID (SmsSdkAppId),
         SMS_TENCENT_TEMPLATES (key=template id pairs), optional SMS_TENCENT_SIGN_NAME, SMS_TENCENT_ENDPOINT,
         SMS_TENCENT_REGION.

The template keys are those of portal/sms_templates.py; "generic" receives the whole text as `content`.
A send returns the provider's answer (kept on the outbox row) or raises SmsError (permanent) or
SmsTemporaryError (timeout, connection, throttling, provider busy: retried with backoff).
"""

import base64
import datetime
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

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


def _post(url: str, data: bytes, headers: dict) -> tuple[int, dict]:
    """POST and parse the JSON answer; network trouble and 5xx are temporary errors."""
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310 — https or loopback test URL
    try:
        with urllib.request.urlopen(request, timeout=settings.SMS_TIMEOUT_SECONDS) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
        raise SmsTemporaryError(f"no answer: {exc}") from exc
    if status >= 500:
        raise SmsTemporaryError(f"HTTP {status}: {raw[:200]!r}")
    try:
        return status, json.loads(raw or b"{}")
    except ValueError as exc:
        raise SmsTemporaryError(f"HTTP {status}, not JSON: {raw[:200]!r}") from exc


def _percent(value: str) -> str:
    return urllib.parse.quote(str(value), safe="~")


def aliyun_signature(params: dict, secret: str, method: str = "POST") -> str:
    """RPC signature v1: HMAC-SHA1 over METHOD&%2F&percent(sorted canonical query), key secret + "&"."""
    canonical = "&".join(f"{_percent(key)}={_percent(params[key])}" for key in sorted(params))
    to_sign = f"{method}&{_percent('/')}&{_percent(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSender:
    uses_templates = True
    # Codes after which trying again later makes sense.
    TEMPORARY = {"isv.BUSINESS_LIMIT_CONTROL", "Throttling", "Throttling.User", "Throttling.Api", "ServiceUnavailable"}

    def __init__(self):
        self.key_id = _required("SMS_ALIYUN_ACCESS_KEY_ID")
        self.secret = _required("SMS_ALIYUN_ACCESS_KEY_SECRET")
        self.sign_name = env("SMS_ALIYUN_SIGN_NAME") or settings.SMS_SIGN_NAME
        self.templates = _templates("SMS_ALIYUN_TEMPLATES")
        self.endpoint = env("SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
        self.region = env("SMS_ALIYUN_REGION", "cn-hangzhou")

    def send(self, phone: str, message: str, *, template: str = "", params: dict | None = None) -> str:
        key, values = provider_params(template, message, params)
        code = self.templates.get(key)
        if not code:
            raise SmsError(f"no Aliyun template code for {key!r} in SMS_ALIYUN_TEMPLATES")
        query = {
            "AccessKeyId": self.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": code,
            "TemplateParam": json.dumps(values, ensure_ascii=False),
            "Timestamp": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        query["Signature"] = aliyun_signature(query, self.secret)
        body = urllib.parse.urlencode(query, quote_via=urllib.parse.quote).encode()
        _status, answer = _post(self.endpoint, body, {"Content-Type": "application/x-www-form-urlencoded"})
        result = answer.get("Code", "")
        if result == "OK":
            return f"OK BizId={answer.get('BizId', '')}"
        text = f"{result}: {answer.get('Message', '')}"
        raise (SmsTemporaryError if result in self.TEMPORARY else SmsError)(text)


def tencent_authorization(
    secret_id: str, secret_key: str, host: str, payload: bytes, timestamp: int, service: str = "sms"
) -> str:
    """TC3-HMAC-SHA256 over the canonical request (POST /, content-type and host signed)."""
    date = datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d")
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:application/json; charset=utf-8\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"

    def sign(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    signing = sign(sign(sign(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"


class TencentSender:
    uses_templates = True
    TEMPORARY_PREFIXES = ("RequestLimitExceeded", "InternalError", "LimitExceeded.PhoneNumberThirtySecondLimit")

    def __init__(self):
        self.secret_id = _required("SMS_TENCENT_SECRET_ID")
        self.secret_key = _required("SMS_TENCENT_SECRET_KEY")
        self.app_id = _required("SMS_TENCENT_APP_ID")
        self.sign_name = env("SMS_TENCENT_SIGN_NAME") or settings.SMS_SIGN_NAME
        self.templates = _templates("SMS_TENCENT_TEMPLATES")
        self.endpoint = env("SMS_TENCENT_ENDPOINT", "https://sms.tencentcloudapi.com/")
        self.region = env("SMS_TENCENT_REGION", "ap-guangzhou")

    def _fail(self, code: str, message: str):
        temporary = code.startswith(self.TEMPORARY_PREFIXES)
        return (SmsTemporaryError if temporary else SmsError)(f"{code}: {message}")

    def send(self, phone: str, message: str, *, template: str = "", params: dict | None = None) -> str:
        key, values = provider_params(template, message, params)
        template_id = self.templates.get(key)
        if not template_id:
            raise SmsError(f"no Tencent template id for {key!r} in SMS_TENCENT_TEMPLATES")
        names = TEMPLATES[key].params
        payload = json.dumps(
            {
                "PhoneNumberSet": [f"+86{phone}"],
                "SmsSdkAppId": self.app_id,
                "SignName": self.sign_name,
                "TemplateId": template_id,
                "TemplateParamSet": [values[name] for name in names],
            },
            ensure_ascii=False,
        ).encode()
        host = urllib.parse.urlsplit(self.endpoint).netloc
        timestamp = int(datetime.datetime.now(datetime.UTC).timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Version": "2021-01-11",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
            "Authorization": tencent_authorization(self.secret_id, self.secret_key, host, payload, timestamp),
        }
        _status, answer = _post(self.endpoint, payload, headers)
        response = answer.get("Response", {})
        if "Error" in response:
            raise self._fail(response["Error"].get("Code", ""), response["Error"].get("Message", ""))
        statuses = response.get("SendStatusSet") or [{}]
        first = statuses[0]
        if first.get("Code") == "Ok":
            return f"Ok SerialNo={first.get('SerialNo', '')}"
        raise self._fail(first.get("Code", "unknown"), first.get("Message", ""))
