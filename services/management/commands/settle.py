"""Build, and optionally approve, one contract's settlement for a month.

    python manage.py settle --contract ID --month YYYY-MM                      # build/refresh the draft
    python manage.py settle --contract ID --month YYYY-MM --by PHONE --submit  # as the provider's admin
    python manage.py settle --contract ID --month YYYY-MM --by PHONE --approve # as a county officer

Without --by the draft is built as a system action (audited with no person). A settlement already
submitted, approved or paid is not rebuilt: its summary is printed. --submit needs --by an admin of the
provider; --approve needs --by a county officer whose area covers the buyer and who is not an admin of the
provider — the same rules as the screens (budget cap, one approval, records unchanged). The last line of
output is a JSON summary (settlement, status, total, lines, billed, excluded).
"""

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from portal.models import User
from portal.phone import clean_phone
from services.purchasing import rules as purchasing_rules
from services.purchasing import selectors as purchasing_reads
from services.purchasing import settlements
from services.purchasing.models import PurchaseContract, Settlement, SettlementStatus


class Command(BaseCommand):
    help = "Build (and with --submit/--approve, move on) a contract's settlement for one month."

    def add_arguments(self, parser):
        parser.add_argument("--contract", required=True, type=int, help="contract id")
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--by", default="", help="mobile number of the person acting (admin or officer)")
        parser.add_argument("--submit", action="store_true", help="submit the draft (provider's admin)")
        parser.add_argument("--approve", action="store_true", help="approve the submitted settlement (county officer)")

    def handle(self, *args, contract: int, month: str, by: str, submit: bool, approve: bool, **options):
        try:
            first_day = purchasing_rules.parse_month(month)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        found = PurchaseContract.objects.select_related("organisation", "region").filter(pk=contract).first()
        if found is None:
            raise CommandError(f"No contract with id {contract}.")
        actor = None
        if by:
            try:
                actor = User.objects.get(phone=clean_phone(by))
            except (User.DoesNotExist, ValidationError):
                raise CommandError(f"No account with mobile number {by!r}.") from None
        if (submit or approve) and actor is None:
            raise CommandError("--submit and --approve need --by PHONE (the person who answers for it).")
        try:
            settlement = Settlement.objects.filter(contract=found, month=first_day).first()
            if settlement is None or settlement.status == SettlementStatus.DRAFT:
                settlement = settlements.settlement_build(
                    actor=actor, contract=found, month=first_day, system=actor is None
                )
            if submit:
                settlement = settlements.settlement_submit(actor=actor, settlement=settlement)
            if approve:
                settlement = settlements.settlement_approve(actor=actor, settlement=settlement)
        except ValidationError as exc:
            raise CommandError(" ".join(str(m) for m in exc.messages)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        except Http404:
            raise CommandError(f"Contract {contract} is not in the scope of {by}.") from None
        settlement.refresh_from_db()
        lines = list(purchasing_reads.settlement_lines(settlement))
        self.stdout.write(
            f"{found.organisation.name} · {found.region.name} · {first_day:%Y-%m}: {settlement.get_status_display()}"
        )
        for line in lines:
            self.stdout.write(
                f"  {line.get_kind_display()} {line.service_item.name}: {line.quantity} × {line.unit_price} = {line.amount}"
            )
        self.stdout.write(
            f"  total {settlement.total} yuan; {settlement.billed_count} records billed, "
            f"{settlement.excluded_count} not billable"
        )
        summary = {
            "settlement": settlement.pk,
            "contract": found.pk,
            "month": f"{first_day:%Y-%m}",
            "status": settlement.status,
            "total": str(settlement.total),
            "lines": len(lines),
            "billed": settlement.billed_count,
            "excluded": settlement.excluded_count,
        }
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
