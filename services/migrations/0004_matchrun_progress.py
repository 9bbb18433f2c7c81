"""Matching runs work off the request: a queued state, a progress percentage and a stage text."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0004_purchasing"),  # lead: re-point if the purchasing migration is renamed
    ]

    operations = [
        migrations.AddField(
            model_name="matchrun",
            name="progress",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="progress (%)"),
        ),
        migrations.AddField(
            model_name="matchrun",
            name="stage",
            field=models.CharField(blank=True, max_length=100, verbose_name="stage"),
        ),
        migrations.AlterField(
            model_name="matchrun",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Waiting to start"),
                    ("running", "Running"),
                    ("done", "Done"),
                    ("failed", "Failed"),
                ],
                default="running",
                max_length=10,
                verbose_name="status",
            ),
        ),
    ]
