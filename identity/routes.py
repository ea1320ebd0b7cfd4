"""Identity endpoints: /auth/*, /oauth/token, /me/*."""
from __future__ import annotations

from urllib.parse import unquote_plus

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.errors import ValidationFailed
from app.i18n import N_
from app.openapi import problems
from app.security.auth import auth_required, client_ip, current_principal
from identity import schemas as s
from identity import service

auth_blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="登录与令牌 (login and tokens)")
me_blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="我的账号与实名认证 (profile, real name)")


@auth_blp.route("/auth/sms-codes", methods=["POST"])
@auth_blp.arguments(s.PhoneSchema())
@auth_blp.response(202, s.SmsCodeSentSchema())
@problems(auth_blp, {422: "validation_failed, phone_invalid", 429: "sms_resend_too_soon, sms_limit_reached, rate_limited",
                     503: "sms_unavailable"})
def send_sms_code(body):
    """Send a 6-digit login code by SMS (same answer for new and known phones)."""
    return service.send_login_code(phone=body["phone"], ip=client_ip())


@auth_blp.route("/auth/login", methods=["POST"])
@auth_blp.arguments(s.SmsLoginSchema())
@auth_blp.response(200, s.CitizenTokensSchema())
@problems(auth_blp, {400: "sms_code_invalid, sms_code_expired, sms_code_attempts_exceeded", 422: "validation_failed",
                     429: "rate_limited"})
def login(body):
    """Log in with phone + SMS code; the first login creates the account (L1)."""
    channel = "miniprogram" if request.headers.get("X-Client") == "miniprogram" else "app"
    return service.login_with_sms(phone=body["phone"], code=body["code"], ip=client_ip(), channel=channel)


@auth_blp.route("/auth/refresh", methods=["POST"])
@auth_blp.arguments(s.RefreshSchema())
@auth_blp.response(200, s.RefreshedTokensSchema())
@problems(auth_blp, {401: "refresh_token_invalid, refresh_token_reused"})
def refresh(body):
    """Rotate a refresh token: the old one is spent, a new pair is returned."""
    answer, principal = service.refresh(body["refresh_token"])
    if principal.kind == "citizen":
        answer["user"] = service.user_view(service.get_user(principal.id))
    elif principal.kind == "staff":
        answer["staff"] = service.staff_view(service.get_staff(principal.id))
    return answer


@auth_blp.route("/auth/logout", methods=["POST"])
@auth_blp.response(204)
@auth_required(kinds=("citizen", "staff"))
def logout():
    """End this session: its refresh tokens and access tokens stop working."""
    service.logout(current_principal())


@auth_blp.route("/auth/wechat", methods=["POST"])
@auth_blp.arguments(s.WeChatLoginSchema())
@auth_blp.response(200, s.CitizenTokensSchema())
@problems(auth_blp, {400: "wechat_code_invalid", 503: "wechat_unavailable"})
def wechat_login(body):
    """WeChat mini-program login with the `wx.login` code (jscode2session)."""
    return service.login_with_wechat(code=body["code"], ip=client_ip())


@auth_blp.route("/auth/staff-login", methods=["POST"])
@auth_blp.arguments(s.StaffLoginSchema())
@auth_blp.response(200, s.StaffTokensSchema())
@problems(auth_blp, {401: "credentials_invalid", 429: "login_rate_limited, login_throttled", 503: "login_busy"})
def staff_login(body):
    """Password login for counter clerks and administrators."""
    return service.staff_login(username=body["username"], password=body["password"], ip=client_ip())


@auth_blp.route("/oauth/token", methods=["POST"])
@auth_blp.doc(requestBody={"required": True, "content": {
    "application/x-www-form-urlencoded": {"schema": s.ClientTokenRequestSchema},
    "application/json": {"schema": s.ClientTokenRequestSchema},
}})
@auth_blp.response(200, s.ClientTokenSchema())
@problems(auth_blp, {400: "unsupported_grant_type, invalid_scope", 401: "invalid_client", 422: "validation_failed"})
def oauth_token():
    """OAuth 2.0 client-credentials token for department systems and third parties."""
    if request.mimetype == "application/x-www-form-urlencoded":
        raw = request.form.to_dict()
    else:
        raw = request.get_json(silent=True)
        if not isinstance(raw, dict):
            raise ValidationFailed(N_("请求体应为表单或 JSON 对象。"))
    auth = request.authorization  # client_secret_basic: form-urlencoded, then Basic (RFC 6749 §2.3.1)
    basic = bool(auth and auth.type == "basic")
    if basic:
        raw.setdefault("client_id", unquote_plus(auth.username or ""))
        raw.setdefault("client_secret", unquote_plus(auth.password or ""))
    body = s.ClientTokenRequestSchema().load(raw)
    return service.client_token(grant_type=body["grant_type"], client_id=body["client_id"],
                              client_secret=body["client_secret"], scope=body.get("scope"), basic_auth=basic)


@me_blp.route("")
class Me(MethodView):
    @me_blp.response(200, s.UserSchema())
    @auth_required()
    def get(self):
        """My profile (masked), assurance level and verification state."""
        return service.user_view(service.get_user(current_principal().id))


@me_blp.route("/real-name", methods=["POST"])
@me_blp.arguments(s.RealNameSchema())
@me_blp.response(200, s.UserSchema())
@problems(me_blp, {403: "phone_required", 409: "already_verified, id_number_bound",
                   422: "id_number_invalid, name_invalid, real_name_mismatch", 429: "real_name_attempts_exceeded",
                   503: "registry_unavailable"})
@auth_required()
def verify_real_name(body):
    """Real-name verification against the population registry (raises the account to L2)."""
    return service.verify_real_name(user_id=current_principal().id, name=body["name"], id_number=body["id_number"])


@me_blp.route("/phone", methods=["POST"])
@me_blp.arguments(s.BindPhoneSchema())
@me_blp.response(200, s.CitizenTokensSchema())
@problems(me_blp, {400: "sms_code_invalid, sms_code_expired, sms_code_attempts_exceeded, wechat_code_invalid",
                   409: "phone_already_bound, phone_held_by_other_account", 422: "validation_failed, phone_invalid",
                   503: "wechat_unavailable"})
@auth_required()
def bind_phone(body):
    """Bind a phone to a WeChat account (getPhoneNumber code, or phone + SMS code)."""
    return service.bind_phone(user_id=current_principal().id, phone=body.get("phone"), sms_code=body.get("code"),
                              wechat_code=body.get("wechat_code"))


@me_blp.route("/liveness", methods=["POST"])
@me_blp.response(201, s.LivenessStartSchema())
@problems(me_blp, {403: "assurance_level_insufficient", 409: "liveness_needs_identity", 503: "liveness_unavailable"})
@auth_required()
def start_liveness():
    """Start a face-liveness check (L3); the client runs the provider SDK with `biz_token`."""
    return service.start_liveness(user_id=current_principal().id)


@me_blp.route("/liveness/<session_id>/confirm", methods=["POST"])
@me_blp.response(200, s.UserSchema())
@problems(me_blp, {404: "liveness_session_not_found", 409: "liveness_pending", 422: "liveness_failed",
                   503: "liveness_unavailable"})
@auth_required()
def confirm_liveness(session_id):
    """Confirm a liveness check: the server fetches the result from the provider itself."""
    return service.confirm_liveness(user_id=current_principal().id, session_id=session_id)


@me_blp.route("/step-up/sms-codes", methods=["POST"])
@me_blp.arguments(s.StepUpRequestSchema())
@me_blp.response(202, s.StepUpSentSchema())
@problems(me_blp, {403: "phone_required, proxy_not_allowed", 422: "validation_failed",
                   429: "sms_resend_too_soon, sms_limit_reached", 503: "sms_unavailable"})
@auth_required()
def send_step_up_code(body):
    """Send a step-up SMS code to my bound phone (revoking or enrolling signing, granting a proxy)."""
    return service.send_sms_step_up(user_id=current_principal().id, purpose=body["purpose"]), 202
