"""The import template (导入模板): an .xlsx with an instructions sheet, the header row the import reads, drop-down
lists for the choice columns and the ID column formatted as text (so Excel keeps all 18 digits)."""

import io

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from django.utils import translation

from services.ledger.models import Elder
from services.ledger.spreadsheet import HEADER_LABELS

COLUMNS = (
    "name",
    "gender",
    "id_number",
    "birth_date",
    "village",
    "address",
    "phone",
    "left_behind_basis",
    "living_arrangement",
    "economic_status",
    "ability_level",
    "children_count",
    "income_sources",
    "family_structure",
    "health",
    "care_situation",
    "difficulties",
    "family_doctor_signed",
    "fire_safety_needed",
    "smoke_alarm",
    "sprinkler",
)
REQUIRED_COLUMNS = ("name", "id_number")
YES_NO = ("是", "否")
DATA_ROWS = 2000  # rows the drop-downs and text format cover

INSTRUCTIONS = (
    "农村留守老年人信息台账 导入模板 · 填写说明",
    "",
    "1. 在第一张表“台账”中每位老年人填一行；表头请勿修改、删除或调换顺序。带 * 的列必须填写。",
    "2. 身份证号列已设为“文本”格式，请直接填写18位号码；如从其他表格复制，请“选择性粘贴→数值”，"
    "否则 Excel 会把号码变成数字并丢失最后几位。",
    "3. 出生日期可写 1950-03-05、1950.3.5 或 1950年3月5日；不填时按身份证号计算。",
    "4. 留守情形、居住情况、经济状况、能力等级和“是/否”列请从下拉列表中选择。",
    "5. 按政策，农村留守老年人是指因子女全部离开县域范围外出务工或经商等半年以上，留在农村生活、身边没有赡养人"
    "或者是赡养人没有赡养能力的 60 周岁以上老年人。不满60周岁或不符合留守情形的，导入时会逐行说明原因。",
    "6. 村可填村名（如 大营村）或12位行政区划代码；只负责一个村的可不填。",
    "7. 上传前可先“检查文件”：所有行无误才会导入，有错误时会按 Excel 行号列出，一行也不会写入。",
    "8. 同一身份证号再次导入时更新原记录，不会重复添加。",
)


def _choices(field: str) -> list[str]:
    with translation.override("zh-hans"):
        return [str(label) for _value, label in Elder._meta.get_field(field).choices]


def template_workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active  # first: the import reads the first sheet
    sheet.title = "台账"
    guide = book.create_sheet("填写说明")
    for line in INSTRUCTIONS:
        guide.append([line])
    guide["A1"].font = Font(bold=True, size=14)
    guide.column_dimensions["A"].width = 110
    for row in guide.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")

    headers = [HEADER_LABELS[f] + ("*" if f in REQUIRED_COLUMNS else "") for f in COLUMNS]
    sheet.append(headers)
    header_fill = PatternFill("solid", fgColor="FFF2CC")
    for index, field in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = 22 if field in ("id_number", "address", "left_behind_basis") else 14
        if field == "id_number":
            for row in range(2, DATA_ROWS + 2):
                sheet.cell(row=row, column=index).number_format = "@"
        choices: list[str] = []
        if field in ("gender",):
            choices = ["男", "女"]
        elif field in ("left_behind_basis", "living_arrangement", "economic_status", "ability_level"):
            choices = _choices(field)
        elif field in ("family_doctor_signed", "fire_safety_needed", "smoke_alarm", "sprinkler"):
            choices = list(YES_NO)
        if choices:
            options = ",".join(c.replace(",", "，") for c in choices)
            validation = DataValidation(type="list", formula1=f'"{options}"', allow_blank=True, showDropDown=False)
            validation.error = "请从下拉列表中选择"
            validation.errorTitle = HEADER_LABELS[field]
            validation.add(f"{letter}2:{letter}{DATA_ROWS + 1}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
