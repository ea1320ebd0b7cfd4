"""The identity feature's public API: the only module another feature (or the routes) imports.

What it offers lives in the feature's rooms and is re-exported here:
- `accounts.py`: the profile, the verified identity, lookups by phone / ID number;
- `assurance.py`: assurance levels L0–L4, their events and freshness, the operation policies;
- `login.py`: SMS and WeChat login, binding a phone;
- `realname.py`: real-name verification (L2) and face liveness (L3);
- `stepup.py`: step-up checks (an SMS code, a fresh liveness check) before sensitive operations;
- `sessions.py` / `session_control.py`: login sessions, rotating refresh tokens, a citizen's own sessions;
- `staff.py`: counter clerks, administrators and machine clients;
- `smscodes.py`: one-time SMS codes other features bind to their own subjects;
- `providers.py`: the outside systems (SMS, population registry, WeChat, liveness);
- `errors.py` and `signals.py`: the problems other features raise and the signals they receive.
"""
from __future__ import annotations

from typing import Iterable

from app.security.pii import field_cipher
from identity import models
from identity.accounts import (
    LEVEL_NAMES, VerifiedIdentity, client_name, get_user, holder_by_id_index, openid_belongs_to, phone_belongs_to,
    phone_index, user_by_phone, user_id_for_id_number, user_view, verified_identity,
)
from identity.assurance import (  # levels L0–L4, events and freshness (issue 19, CONTRACTS A)
    fresh_level, holder_index, level_of, policy, policy_requirement, policy_text, record_assurance, require_level,
    require_policy, verified_level,
)
from identity.adapters.sms import SmsDeliveryError
from identity.adapters.wechat import HttpWeChatClient, WeChatError  # notify's WeChat channel
from identity.devdata import add_registry_entry  # the development registry (bench/ set-up)
from identity.devdata import demo_people, demo_step_up_code  # the demo seed (other features' seeders)
from identity.errors import (  # other features raise or catch them
    AssuranceInsufficient, FreshLivenessRequired, IdNumberInvalid, PhoneInvalid, PhoneRequired, SmsCodeAttemptsExceeded,
    SmsCodeExpired, SmsCodeInvalid, StepUpFailed, StepUpRequired,
)
from identity.login import (
    _create_user, bind_phone, create_user, login_with_sms, login_with_wechat, phone_send_limits, send_login_code,
)
from identity.models import User  # the account row, for annotations
from identity.ncid_consent import (  # 网号 accounts: identity data only with consent, per purpose (WP4)
    PURPOSES as IDENTITY_PURPOSES, ConsentedIdentity, IdentityConsentRequired, require_identity,
)
from identity.ncid_login import ncid_linked
from identity.providers import providers, wechat_api_client
from identity.realname import confirm_liveness, has_fresh_liveness, start_liveness, take_liveness_pass, verify_real_name
from identity.session_control import SessionNotFound, list_sessions, revoke_own_session
from identity.sessions import (
    hold_open_session, logout, open_session, refresh, revoke_principal_sessions, revoke_session,
)
from identity.signals import real_name_verified, session_ended  # the public signals
from identity.smscodes import CodeCheck
from identity.smscodes import check as check_sms_code
from identity.smscodes import discard as discard_sms_code
from identity.smscodes import new_code as new_sms_code
from identity.staff import (
    client_serves_hall, client_token, create_client, create_staff, get_staff, set_client_halls, staff_login,
    staff_usernames, staff_view,
)
from identity.stepup import PURPOSES as STEP_UP_PURPOSES
from identity.stepup import require_fresh_liveness, send_sms_step_up, verify_sms_step_up

__all__ = [  # what other features may use
    "_create_user", "AssuranceInsufficient", "bind_phone", "check_sms_code", "client_name",
    "client_serves_hall", "client_token", "CodeCheck", "confirm_liveness", "create_client", "create_staff",
    "create_user", "discard_sms_code", "FreshLivenessRequired", "get_staff", "get_user", "has_fresh_liveness",
    "hold_open_session", "holder_by_id_index", "HttpWeChatClient", "IdNumberInvalid", "LEVEL_NAMES", "list_sessions",
    "login_with_sms", "login_with_wechat", "logout", "new_sms_code", "open_session", "openid_belongs_to",
    "phone_belongs_to", "phone_index", "phone_send_limits", "PhoneInvalid", "PhoneRequired", "providers",
    "real_name_verified", "refresh", "require_fresh_liveness", "require_level", "revoke_own_session",
    "revoke_principal_sessions", "revoke_session", "send_login_code", "send_sms", "send_sms_step_up",
    "session_ended", "SessionNotFound", "set_client_halls", "SmsCodeAttemptsExceeded", "SmsCodeExpired",
    "SmsCodeInvalid", "SmsDeliveryError", "staff_login", "staff_usernames", "staff_view", "start_liveness",
    "STEP_UP_PURPOSES", "StepUpFailed", "take_liveness_pass", "User", "user_by_phone", "user_id_for_id_number",
    "user_view", "verified_identity", "verified_level", "VerifiedIdentity", "verify_real_name",
    "verify_sms_step_up", "wechat_api_client", "WeChatError", "bound_phones", "add_registry_entry",
    "demo_people", "demo_step_up_code",
    "fresh_level", "holder_index", "policy", "policy_requirement", "policy_text", "record_assurance",
    "require_policy", "StepUpRequired",
    "ConsentedIdentity", "IDENTITY_PURPOSES", "IdentityConsentRequired", "ncid_linked", "require_identity",
]


def send_sms(phone: str, code: str) -> None:
    """Send `code` to `phone` through the configured SMS sender (raises SmsDeliveryError)."""
    providers().sms.send_code(phone, code)


def bound_phones(user_ids: Iterable[str]) -> dict[str, str]:
    """The bound phones of these accounts (decrypted), for notify's security notices by SMS to the
    account's own phone; accounts without one are left out."""
    cipher = field_cipher()
    users = (models.user_by_id(user_id) for user_id in set(user_ids))
    return {u.id: cipher.decrypt(u.phone_enc, "user.phone") for u in users if u is not None and u.phone_enc}


def home_profile(user_id: str) -> dict:
    """The masked profile (`user_view`) and the account's standing level (`verified_level`) from one
    read of the account: the BFF home screen's parts share it (issue 20)."""
    user = get_user(user_id)
    return {**user_view(user), "verified_level": level_of(user)}


__all__ += ["home_profile"]
