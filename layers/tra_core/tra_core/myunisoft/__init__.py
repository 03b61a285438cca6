"""The MyUnisoft adapter: an httpx client, typed answers, the error taxonomy and rate limiting.

See :class:`~tra_core.myunisoft.client.MyUnisoftClient` for the calls and the retry rules, and
``docs/myunisoft-assumptions.md`` for what MyUnisoft leaves undocumented.
"""

from tra_core.myunisoft.client import DEFAULT_BASE_URL, NO_RETRY, MyUnisoftClient, RetryPolicy
from tra_core.myunisoft.errors import (
    AccessForbidden,
    AlreadyImported,
    BusinessRejection,
    ConcurrencyLimited,
    CredentialError,
    FolderInactive,
    FolderNotFound,
    ForbiddenRoute,
    KeyInvalid,
    KeyRevoked,
    Maintenance,
    MyUnisoftError,
    RateLimited,
    ThirdPartyDisconnected,
    ThirdPartySecretRejected,
    Transient,
    UnexpectedResponse,
)
from tra_core.myunisoft.models import (
    REQUIRED_ROUTES,
    AccountRecord,
    Diary,
    DiaryAccount,
    FiscalYearRecord,
    KeyInfo,
    KeyTarget,
    Route,
    Society,
    UploadResult,
)
from tra_core.myunisoft.ratelimit import (
    InProcessRateLimiter,
    RateLimiter,
    RateLimitInfo,
    UnlimitedRateLimiter,
    parse_rate_limit_headers,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "NO_RETRY",
    "REQUIRED_ROUTES",
    "AccessForbidden",
    "AccountRecord",
    "AlreadyImported",
    "BusinessRejection",
    "ConcurrencyLimited",
    "CredentialError",
    "Diary",
    "DiaryAccount",
    "FiscalYearRecord",
    "FolderInactive",
    "FolderNotFound",
    "ForbiddenRoute",
    "InProcessRateLimiter",
    "KeyInfo",
    "KeyInvalid",
    "KeyRevoked",
    "KeyTarget",
    "Maintenance",
    "MyUnisoftClient",
    "MyUnisoftError",
    "RateLimitInfo",
    "RateLimited",
    "RateLimiter",
    "RetryPolicy",
    "Route",
    "Society",
    "ThirdPartyDisconnected",
    "ThirdPartySecretRejected",
    "Transient",
    "UnexpectedResponse",
    "UnlimitedRateLimiter",
    "UploadResult",
    "parse_rate_limit_headers",
]
