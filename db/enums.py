"""Enumerations stored as their member names (text columns; docs/rules.md, Conventions, and R98, R99)."""

from enum import StrEnum


class SubscriptionPlan(StrEnum):
    Basis = "Basis"
    Standard = "Standard"
    Premium = "Premium"

    @property
    def tier(self) -> int:
        return list(SubscriptionPlan).index(self)


class TenantState(StrEnum):
    Active = "Active"
    Suspended = "Suspended"


class SuspensionReason(StrEnum):
    PaymentFailed = "PaymentFailed"
    CustomerDeleted = "CustomerDeleted"


class CancellationReason(StrEnum):
    FoundAlternative = "FoundAlternative"
    TooExpensive = "TooExpensive"
    NoLongerNeeded = "NoLongerNeeded"
    Other = "Other"
    CancelledByAdmin = "CancelledByAdmin"


class PaymentTransactionStatus(StrEnum):
    Succeeded = "Succeeded"
    Failed = "Failed"
    Pending = "Pending"
    Refunded = "Refunded"
    Cancelled = "Cancelled"


class StripeEventStatus(StrEnum):
    Pending = "Pending"
    Processed = "Processed"
    Ignored = "Ignored"
    Failed = "Failed"


class BillingEventType(StrEnum):
    SubscriptionCreated = "SubscriptionCreated"
    SubscriptionRenewed = "SubscriptionRenewed"
    SubscriptionUpgraded = "SubscriptionUpgraded"
    SubscriptionDowngradeScheduled = "SubscriptionDowngradeScheduled"
    SubscriptionDowngradeCancelled = "SubscriptionDowngradeCancelled"
    SubscriptionDowngraded = "SubscriptionDowngraded"
    SubscriptionCancelled = "SubscriptionCancelled"
    SubscriptionReactivated = "SubscriptionReactivated"
    SubscriptionExpired = "SubscriptionExpired"
    SubscriptionImmediatelyCancelled = "SubscriptionImmediatelyCancelled"
    SubscriptionSuspended = "SubscriptionSuspended"
    SubscriptionPastDue = "SubscriptionPastDue"
    PaymentFailed = "PaymentFailed"
    PaymentRecovered = "PaymentRecovered"
    PaymentRefunded = "PaymentRefunded"
    BillingInfoAdded = "BillingInfoAdded"
    BillingInfoUpdated = "BillingInfoUpdated"
    PaymentMethodUpdated = "PaymentMethodUpdated"
    NoOp = "NoOp"
    Unclassified = "Unclassified"


class DriftDiscrepancyKind(StrEnum):
    MissingEvent = "MissingEvent"
    ExtraEvent = "ExtraEvent"
    FieldDisagree = "FieldDisagree"
    SubscriptionStateMismatch = "SubscriptionStateMismatch"
    UnclassifiedStripeEvent = "UnclassifiedStripeEvent"
    UnsupportedStripeApiVersion = "UnsupportedStripeApiVersion"
    StripeEventPayloadDivergence = "StripeEventPayloadDivergence"
    BillingEventDenormalizationStale = "BillingEventDenormalizationStale"
    AmountExcludingTaxClamped = "AmountExcludingTaxClamped"
    ScheduledPriceMissing = "ScheduledPriceMissing"
    CustomerMissingInStripe = "CustomerMissingInStripe"


class DriftSeverity(StrEnum):
    Warning = "Warning"
    Critical = "Critical"


class UserRole(StrEnum):
    Member = "Member"
    Admin = "Admin"
    Owner = "Owner"


class LoginMethod(StrEnum):
    OneTimePassword = "OneTimePassword"
    Google = "Google"
    Microsoft = "Microsoft"


class DeviceType(StrEnum):
    Unknown = "Unknown"
    Desktop = "Desktop"
    Mobile = "Mobile"
    Tablet = "Tablet"


class SessionRevokedReason(StrEnum):
    LoggedOut = "LoggedOut"
    Revoked = "Revoked"
    ReplayAttackDetected = "ReplayAttackDetected"
    SwitchTenant = "SwitchTenant"


class LoginType(StrEnum):
    Login = "Login"
    Signup = "Signup"


class ExternalProviderType(StrEnum):
    Google = "Google"
    Microsoft = "Microsoft"


class ExternalLoginResult(StrEnum):
    Success = "Success"
    IdentityProviderError = "IdentityProviderError"
    InvalidState = "InvalidState"
    LoginReplayDetected = "LoginReplayDetected"
    SessionNotFound = "SessionNotFound"
    FlowIdMismatch = "FlowIdMismatch"
    SessionHijackingDetected = "SessionHijackingDetected"
    LoginExpired = "LoginExpired"
    LoginAlreadyCompleted = "LoginAlreadyCompleted"
    CodeExchangeFailed = "CodeExchangeFailed"
    NonceMismatch = "NonceMismatch"
    IdentityMismatch = "IdentityMismatch"
    UserNotFound = "UserNotFound"
    AccountAlreadyExists = "AccountAlreadyExists"
