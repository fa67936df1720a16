"""Every timeout, retry and loop limit of the client, in one place.

The per-setting defaults (timeout, budget, rate limit, workers) live in belimo_cloud.config,
which sits below the client; they are repeated here by import so that this module is the one
list to read. Changing a limit means changing it here (or in config for the settings).
"""

from __future__ import annotations

from belimo_cloud.config import (
    DEFAULT_BUDGET,
    DEFAULT_MAX_WORKERS,
    DEFAULT_RATE_LIMIT,
    DEFAULT_TIMEOUT,
    MAX_WORKERS_LIMIT,
)

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "DEFAULT_BUDGET",
    "DEFAULT_EXPIRES_IN",
    "DEFAULT_MAX_WORKERS",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_TIMEOUT",
    "IDEMPOTENT_METHODS",
    "LONGEST_WAIT",
    "MAX_ATTEMPTS",
    "MAX_PAGES",
    "MAX_PAGE_PASSES",
    "MAX_RATE_LIMITED_ATTEMPTS",
    "MAX_STALE_PAGES",
    "MAX_WINDOWS",
    "MAX_WORKERS_LIMIT",
    "POOL_MIN_CONNECTIONS",
    "POOL_PER_WORKER",
    "REFRESH_MARGIN_CAP",
    "REFRESH_MARGIN_FRACTION",
    "RETRY_AFTER_JITTER",
    "RETRY_AFTER_MIN_JITTER",
    "RETRY_STATUSES",
    "UNKNOWN_TOKEN_LIFETIME",
]

# -- retry driver (retry.py) --
MAX_ATTEMPTS = 6  # tries of one request, the first included, for 5xx and dropped connections
# A 429 says "later", not "broken": many more tries are allowed, the budget still bounds them.
MAX_RATE_LIMITED_ATTEMPTS = 60
BACKOFF_BASE = 0.5  # [s] ceiling of the first computed wait; doubles per try (full jitter)
BACKOFF_CAP = 30.0  # [s] largest single computed wait
# Retry-After plus a random share of it, so that threads told the same wait spread out
# instead of colliding again: uniform in [0, max(MIN, FRACTION * Retry-After)].
RETRY_AFTER_JITTER = 0.5
RETRY_AFTER_MIN_JITTER = 1.0  # [s]
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

# -- rate limiter and connections (ratelimit.py, session.py) --
LONGEST_WAIT = 86_400.0  # [s] no single limiter wait is longer, whatever the rate (no overflow)
POOL_MIN_CONNECTIONS = 10  # connections kept per Session, at least...
POOL_PER_WORKER = 2  # ...or this many per worker thread

# -- tokens (auth.py) --
DEFAULT_EXPIRES_IN = 3600.0  # [s] token lifetime when the server does not say
UNKNOWN_TOKEN_LIFETIME = 600.0  # [s] assumed lifetime of a cached token without issued_at
REFRESH_MARGIN_CAP = 60.0  # [s] renew at most this long before expiry...
REFRESH_MARGIN_FRACTION = 0.1  # ...or this share of a shorter lifetime

# -- loops (pagination.py) --
MAX_PAGE_PASSES = 3  # walks of a changing collection before accepting what was seen
MAX_STALE_PAGES = 2  # pages in a row with nothing new before the walk is declared stuck
MAX_PAGES = 20_000  # pages of one walk (40 million items at 2000 a page): beyond, an error

# -- time windows (chunking.py) --
# Requests one range may be split into: 100,000 x 10,000 buckets is 1,900 years at 1 min.
MAX_WINDOWS = 100_000
