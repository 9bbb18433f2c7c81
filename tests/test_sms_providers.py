"""The Aliyun and Tencent SMS adapters (their official SDKs) against a fake provider on 127.0.0.1: success,
provider error, timeout and throttling, each through the outbox (portal.sms). The fake checks each request's
signature with the vendor's documented algorithm, written out here (ACS3-HMAC-SHA256; TC3-HMAC-SHA256)."""

import datetime
import hashlib
import hmac
import json
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portal import sms, sms_providers  # noqa: F401 — the SDKs imported before anything is timed
from portal.models import SmsStatus
from portal.sms_templates import send_template

pytestmark = pytest.mark.django_db

SECRET = "fake-secret"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def aliyun_authorization(method: str, path: str, headers: dict, body: bytes) -> str:
    """ACS3-HMAC-SHA256 (Aliyun's V3 request signature) over the request as received."""
    uri, _, query = path.partition("?")
    pairs = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    quote = lambda value: urllib.parse.quote(value, safe="~")  # noqa: E731
    canonical_query = "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)
    lower = {k.lower(): v.strip() for k, v in headers.items()}
    signed = lower["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    canonical_headers = "".join(f"{name}:{lower[name]}\n" for name in signed)
    canonical = "\n".join([method, uri, canonical_query, canonical_headers, ";".join(signed), sha256(body)])
    to_sign = f"ACS3-HMAC-SHA256\n{sha256(canonical.encode())}"
    signature = hmac.new(SECRET.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return f"ACS3-HMAC-SHA256 Credential=LTAIfake,SignedHeaders={';'.join(signed)},Signature={signature}"


def tencent_authorization(secret_id: str, host: str, content_type: str, payload: bytes, timestamp: int) -> str:
    """TC3-HMAC-SHA256 over the canonical request (POST /, content-type and host signed)."""
    date = datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d")
    canonical = f"POST\n/\n\ncontent-type:{content_type}\nhost:{host}\n\ncontent-type;host\n{sha256(payload)}"
    scope = f"{date}/sms/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{sha256(canonical.encode())}"

    def sign(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    signing = sign(sign(sign(f"TC3{SECRET}".encode(), date), "sms"), "tc3_request")
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"


class FakeProvider(BaseHTTPRequestHandler):
    mode = "ok"
    flavour = "aliyun"
    received: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        FakeProvider.received.append((dict(self.headers), body, self.path))
        if FakeProvider.mode == "slow":
            time.sleep(1.0)
        answer = getattr(self, FakeProvider.flavour)(body)
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def aliyun(self, body):
        if self.headers["Authorization"] != aliyun_authorization("POST", self.path, dict(self.headers), body):
            return {"Code": "SignatureDoesNotMatch", "Message": "bad signature"}
        if self.headers["x-acs-action"] != "SendSms" or self.headers["x-acs-version"] != "2017-05-25":
            return {"Code": "InvalidAction.NotFound", "Message": "unknown action"}
        return {
            "ok": {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"},
            "error": {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"},
            "throttle": {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"},
        }.get(FakeProvider.mode, {"Code": "OK", "BizId": "late"})

    def tencent(self, body):
        headers = self.headers
        expected = tencent_authorization(
            "AKIDfake", headers["Host"], headers["Content-Type"], body, int(headers["X-TC-Timestamp"])
        )
        if headers["Authorization"] != expected or headers["X-TC-Action"] != "SendSms":
            return {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad"}}}
        if FakeProvider.mode == "throttle":
            return {"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "slow down"}, "RequestId": "r"}}
        code = "Ok" if FakeProvider.mode in ("ok", "slow") else "InvalidParameterValue.IncorrectPhoneNumber"
        return {
            "Response": {
                "SendStatusSet": [{"SerialNo": "5000:1045710669157053657849499619", "Code": code, "Message": "m"}],
                "RequestId": "r",
            }
        }


@pytest.fixture
def provider(settings, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeProvider)
    pool = ThreadPoolExecutor(max_workers=1)
    pool.submit(server.serve_forever)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    FakeProvider.received = []
    FakeProvider.mode = "ok"
    settings.SMS_TIMEOUT_SECONDS = 0.3
    for name, value in {
        "SMS_ALIYUN_ACCESS_KEY_ID": "LTAIfake",
        "SMS_ALIYUN_ACCESS_KEY_SECRET": SECRET,
        "SMS_ALIYUN_TEMPLATES": "verification=SMS_1001,generic=SMS_1000",
        "SMS_ALIYUN_ENDPOINT": url,
        "SMS_TENCENT_SECRET_ID": "AKIDfake",
        "SMS_TENCENT_SECRET_KEY": SECRET,
        "SMS_TENCENT_APP_ID": "1400000000",
        "SMS_TENCENT_TEMPLATES": "verification=2001,generic=2000",
        "SMS_TENCENT_ENDPOINT": url,
    }.items():
        monkeypatch.setenv(name, value)

    def use(flavour):
        FakeProvider.flavour = flavour
        sms._sender.cache_clear()
        settings.SMS_SENDER = {
            "aliyun": "portal.sms_providers.AliyunSender",
            "tencent": "portal.sms_providers.TencentSender",
        }[flavour]

    yield use
    sms._sender.cache_clear()
    server.shutdown()
    server.server_close()
    pool.shutdown()


@pytest.mark.parametrize("flavour", ["aliyun", "tencent"])
def test_success_sends_the_template_with_its_parameters(provider, flavour):
    provider(flavour)
    row = send_template("13812345678", "verification", code="246810")
    row.refresh_from_db()
    assert row.status == SmsStatus.SENT, row.provider_answer
    assert row.provider_answer.startswith(("OK BizId=9006", "Ok SerialNo=5000"))
    _headers, body, path = FakeProvider.received[-1]
    if flavour == "aliyun":
        form = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))
        assert (form["PhoneNumbers"], form["TemplateCode"], form["SignName"]) == (
            "13812345678",
            "SMS_1001",
            "留守老人关爱",
        )
        assert json.loads(form["TemplateParam"]) == {"code": "246810"}
    else:
        sent = json.loads(body)
        assert sent["PhoneNumberSet"] == ["+8613812345678"] and sent["TemplateId"] == "2001"
        assert sent["TemplateParamSet"] == ["246810"] and sent["SmsSdkAppId"] == "1400000000"


@pytest.mark.parametrize("flavour", ["aliyun", "tencent"])
def test_a_message_without_a_template_goes_through_the_generic_one(provider, flavour):
    provider(flavour)
    row = sms.send_sms("13812345678", "明天上午九点 健康讲座")
    row.refresh_from_db()
    assert row.status == SmsStatus.SENT
    _headers, body, path = FakeProvider.received[-1]
    assert "SMS_1000" in path or '"2000"' in body.decode()


@pytest.mark.parametrize("flavour", ["aliyun", "tencent"])
def test_a_provider_error_fails_the_message_without_retry(provider, flavour):
    provider(flavour)
    FakeProvider.mode = "error"
    row = send_template("13812345678", "verification", code="1")
    row.refresh_from_db()
    assert (row.status, row.attempts) == (SmsStatus.FAILED, 1)
    assert "MOBILE_NUMBER_ILLEGAL" in row.provider_answer or "IncorrectPhoneNumber" in row.provider_answer


@pytest.mark.parametrize("flavour", ["aliyun", "tencent"])
@pytest.mark.parametrize("mode", ["slow", "throttle"])
def test_timeout_and_throttling_are_retried_later(provider, flavour, mode):
    provider(flavour)
    FakeProvider.mode = mode
    started = time.monotonic()
    row = send_template("13812345678", "verification", code="1")
    assert time.monotonic() - started < 1.0  # the timeout, not the provider's pace
    row.refresh_from_db()
    assert (row.status, row.attempts) == (SmsStatus.QUEUED, 1)
    assert row.next_attempt_at is not None
    assert ("no answer" in row.provider_answer) if mode == "slow" else ("LIMIT" in row.provider_answer.upper())
    FakeProvider.mode = "ok"
    row.__class__.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    assert sms.deliver(row.pk) == "sent"


def test_a_missing_key_is_a_configuration_error(provider, monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from portal.sms_providers import AliyunSender

    monkeypatch.delenv("SMS_ALIYUN_ACCESS_KEY_SECRET")
    with pytest.raises(ImproperlyConfigured, match="SMS_ALIYUN_ACCESS_KEY_SECRET"):
        AliyunSender()
