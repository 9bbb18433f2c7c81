# Service-record photos show elders' homes: they move from public media to the private storage, which is
# served only through the scoped record-photo view.

from django.db import migrations, models

import services.ledger.models
import services.records.models


def move_photos_to_private(apps, schema_editor):
    """Move photos already uploaded under MEDIA_ROOT to the private storage (same names), so they are
    neither left public nor lost to the new view."""
    from django.core.files.storage import default_storage

    private = services.ledger.models.private_storage()
    if private is default_storage:
        return
    ServiceRecord = apps.get_model("services", "ServiceRecord")
    for name in ServiceRecord.objects.exclude(photo="").values_list("photo", flat=True).iterator():
        if private.exists(name) or not default_storage.exists(name):
            continue
        with default_storage.open(name, "rb") as source:
            private.save(name, source)
        default_storage.delete(name)


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0004_matchrun_progress"),
    ]

    operations = [
        migrations.AlterField(
            model_name="servicerecord",
            name="photo",
            field=models.ImageField(
                blank=True,
                storage=services.ledger.models.private_storage,
                upload_to=services.records.models.record_photo_upload_to,
                validators=[services.records.models.validate_photo_size],
                verbose_name="photo",
            ),
        ),
        migrations.RunPython(move_photos_to_private, migrations.RunPython.noop),
    ]
