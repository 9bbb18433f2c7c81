"""Indexes of the givers' list pages at scale (issue #5): the public directory and an organiser's member list.

Depends on the current leaf so that the graph stays linear while other helpers' migrations land.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("volunteers", "0003_dossier"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="organisation",
            name="volunteers__status_3f88a3_idx",
        ),
        migrations.AddIndex(
            model_name="organisation",
            index=models.Index(fields=["status", "region", "name"], name="organisation_directory_idx"),
        ),
        migrations.AddIndex(
            model_name="membership",
            index=models.Index(
                fields=["organisation", "-is_admin", "status", "created_at"], name="membership_list_idx"
            ),
        ),
    ]
