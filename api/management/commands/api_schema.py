"""Print the API's OpenAPI document, or with --write save it as api/openapi.json (committed; a test
compares it with what /api/v1/openapi.json serves)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "openapi.json"


def schema_text() -> str:
    from api.api import api

    return json.dumps(api.get_openapi_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "Print the OpenAPI schema of /api/v1/; --write saves it as api/openapi.json."

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true", help="write api/openapi.json")

    def handle(self, *args, write=False, **options):
        text = schema_text()
        if write:
            SCHEMA_FILE.write_text(text, encoding="utf-8")
            self.stdout.write(f"{SCHEMA_FILE}")
        else:
            self.stdout.write(text, ending="")
