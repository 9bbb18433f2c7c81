"""The table of the database cache that stands in for Redis while it is down (settings.CACHE_FALLBACK_TABLE):
rate limits keep counting across every web process. Created here, not by `createcachetable`, because the
cache is nested inside portal.cache_backends.ResilientCache, where that command does not look."""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "portal_cache_fallback"


def create(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("portal", "0005_department_role")]

    operations = [migrations.RunPython(create, drop)]
