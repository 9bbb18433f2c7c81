from django.db import migrations

from services.models import DEFAULT_CATEGORIES


def create(apps, schema_editor):
    Category = apps.get_model("services", "ServiceCategory")
    for order, (slug, name) in enumerate(DEFAULT_CATEGORIES, start=1):
        Category.objects.get_or_create(slug=slug, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("services", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
