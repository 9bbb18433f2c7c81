"""Models of the services app, one module per topic; import them here so Django finds them."""

from services.care.models import (
    Alert,
    AlertDeadline,
    AlertLookupCode,
    AlertStep,
    FollowUp,
    Visit,
    VisitDigest,
    VisitPlan,
)
from services.catalogue.models import DEFAULT_CATEGORIES, ServiceCategory, ServiceItem
from services.family.models import (
    ChangeStatus,
    FamilyContactKind,
    FamilyContactLog,
    FamilyMessage,
    WhereaboutsChange,
)
from services.ledger.models import (
    CareAgreement,
    DutyReminder,
    Elder,
    ElderChange,
    ElderStatus,
    FamilyContact,
    ImportJob,
    PriorityLevel,
)
from services.pairing.models import MatchRun, Need, Pairing
from services.purchasing.models import (
    ContractLine,
    PurchaseContract,
    Settlement,
    SettlementLine,
    SettlementRecord,
    SettlementStatus,
)
from services.records.models import Certificate, RecordKind, RecordStatus, ServiceRecord
from services.referrals.models import Referral, ReferralKind, ReferralStatus
from services.safecheck.models import CheckinDay, CheckinEnrolment, CheckinReply
from services.spotchecks.models import SpotCheck, SpotCheckDraw, SpotCheckKind, SpotCheckOutcome
from services.timebank.models import TimeAccount, TimeEntry, TimeRequest, TimeTransaction

__all__ = [
    "ChangeStatus",
    "FamilyContactKind",
    "FamilyContactLog",
    "FamilyMessage",
    "WhereaboutsChange",
    "DEFAULT_CATEGORIES",
    "Alert",
    "AlertDeadline",
    "AlertLookupCode",
    "AlertStep",
    "CareAgreement",
    "CheckinDay",
    "CheckinEnrolment",
    "CheckinReply",
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
    "Referral",
    "ReferralKind",
    "ReferralStatus",
    "SpotCheck",
    "SpotCheckDraw",
    "SpotCheckKind",
    "SpotCheckOutcome",
    "ContractLine",
    "PurchaseContract",
    "Settlement",
    "SettlementLine",
    "SettlementRecord",
    "SettlementStatus",
    "TimeAccount",
    "TimeEntry",
    "TimeRequest",
    "TimeTransaction",
    "Visit",
    "VisitDigest",
    "VisitPlan",
]
