"""Models of the services app, one module per topic; import them here so Django finds them."""

from .care import Alert, AlertDeadline, AlertStep, FollowUp, Visit, VisitDigest, VisitPlan
from .catalogue import DEFAULT_CATEGORIES, ServiceCategory, ServiceItem
from .ledger import (
    CareAgreement,
    DutyReminder,
    Elder,
    ElderChange,
    ElderStatus,
    FamilyContact,
    ImportJob,
    PriorityLevel,
)
from .pairing import MatchRun, Need, Pairing
from .purchasing import (
    ContractLine,
    PurchaseContract,
    Settlement,
    SettlementLine,
    SettlementRecord,
    SettlementStatus,
)
from .records import Certificate, RecordKind, RecordStatus, ServiceRecord

__all__ = [
    "DEFAULT_CATEGORIES",
    "Alert",
    "AlertDeadline",
    "AlertStep",
    "CareAgreement",
    "Certificate",
    "DutyReminder",
    "Elder",
    "ElderChange",
    "ElderStatus",
    "FamilyContact",
    "FollowUp",
    "ImportJob",
    "MatchRun",
    "Need",
    "Pairing",
    "PriorityLevel",
    "RecordKind",
    "RecordStatus",
    "ServiceCategory",
    "ServiceItem",
    "ServiceRecord",
    "ContractLine",
    "PurchaseContract",
    "Settlement",
    "SettlementLine",
    "SettlementRecord",
    "SettlementStatus",
    "Visit",
    "VisitDigest",
    "VisitPlan",
]
