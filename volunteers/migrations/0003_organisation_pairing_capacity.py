"""Organisations as givers in matching (一帮多): how many elders the matching may pair with one."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("volunteers", "0002_default_kinds"),
    ]

    operations = [
        migrations.AddField(
            model_name="organisation",
            name="pairing_capacity",
            field=models.PositiveIntegerField(
                default=0,
                help_text="一帮多: how many elders the matching may pair with the organisation; 0 = not offered.",
                verbose_name="elders the organisation can be paired with",
            ),
        ),
    ]
