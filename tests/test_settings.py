"""Settings read the environment; production refuses to start without what it cannot guess."""

import os
import subprocess
import sys

import pytest

from portal.phone import clean_phone, mask_phone, normalise_phone

BASE_ENV = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": "."}
PROD_KEYS = {"FIELD_ENCRYPTION_KEYS": "q1Kx3v6gH2y0m8Rr7b5Tt4Jc9Zd1Nn2Pp3Ss4Ww5Ee0=", "IDENTITY_HASH_KEY": "h" * 40}


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env={**BASE_ENV, **env}
    )


PRINT_DB = "import django,os;from django.conf import settings;django.setup();print(settings.DATABASES['default']['ENGINE'], settings.CACHES['default'])"


@pytest.mark.parametrize("module", ["portal.settings.dev", "portal.settings.test", "portal.settings.production"])
def test_every_settings_module_honours_database_and_redis_url(module):
    result = run_python(
        PRINT_DB,
        DJANGO_SETTINGS_MODULE=module,
        DATABASE_URL="postgres://u@127.0.0.1:5432/x",
        REDIS_URL="redis://127.0.0.1:6379/1",
        SECRET_KEY="k" * 60,
        ALLOWED_HOSTS="care.example.cn",
        **PROD_KEYS,
    )
    assert result.returncode == 0, result.stderr
    assert "postgresql" in result.stdout
    if module != "portal.settings.test":
        assert "django_redis" in result.stdout


def test_production_requires_a_secret_key():
    result = run_python(
        PRINT_DB,
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        DATABASE_URL="sqlite:///x",
        ALLOWED_HOSTS="a",
        **PROD_KEYS,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        check=False,
        env={
            **BASE_ENV,
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "SECRET_KEY": "p9!x" + "z8Kq2mW7rT4vY1nB6cL0sD3fG5hJ" * 2,
            "DATABASE_URL": "sqlite:///prod-check.sqlite3",
            "ALLOWED_HOSTS": "care.example.cn",
            **PROD_KEYS,
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
    ],
)
def test_phone_normalisation(raw, normal):
    assert normalise_phone(raw) == normal
    assert clean_phone(raw) == normal
    assert mask_phone(normal) == "138****5678"


@pytest.mark.parametrize("raw", ["", "12812345678", "1381234567", "138123456789", "abc", None])
def test_phone_validation_rejects(raw):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        clean_phone(raw)
