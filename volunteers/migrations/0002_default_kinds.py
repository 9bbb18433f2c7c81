from django.db import migrations

KINDS = [
    ("laonian-xiehui", "老年协会"),
    ("zhiyuan-fuwudui", "志愿服务队"),
    ("shehui-gongzuozhan", "社会工作站"),
    ("weilao-fuwu-jigou", "为老服务机构"),
    ("huzhu-xingfuyuan", "互助幸福院"),
    ("nongcun-laofanzhuo", "农村老饭桌"),
]


def add_kinds(apps, schema_editor):
    OrganisationKind = apps.get_model("volunteers", "OrganisationKind")
    for order, (slug, name) in enumerate(KINDS, start=1):
        OrganisationKind.objects.get_or_create(slug=slug, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [
        ("volunteers", "0001_initial"),
    ]

    operations = [migrations.RunPython(add_kinds, migrations.RunPython.noop)]
