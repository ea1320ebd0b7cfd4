"""The cases journey (办件进度) on the demo data: the list with its statuses and dates, a case with its
timeline, clock and 补正 request, 好差评 through the page (a 差评 with catalogue tags), the department's
answer arriving on the case, and what a person reads when a rating is refused."""
from __future__ import annotations

import json
import re

import pytest

from app.db import db, utcnow
from app.security.tokens import Principal
from cases.demo import CASES as DEMO_CASES
from cases.demo import CLIENT_NAME, SUPPLEMENT_NOTE
from identity.devdata import DEMO_CITIZEN, DEMO_FAMILY
from identity.models import ApiClient
from tests.fixtures.cases import event
from tests.fixtures.h5 import sign_in_demo, snap, tab, text_of, visible, wait_text
from tests.helpers import bearer

pytestmark = pytest.mark.slow

STATUSES = {"submitted": "已提交", "accepted": "受理", "supplement_required": "补正", "in_review": "审查/办理中",
            "concluded": "办结"}


def supplement_due(demo_output: str) -> str:
    """The 补正 deadline the demo department gave (the seeder says it)."""
    return re.search(r"补正 due (\d{4}-\d\d-\d\d)", demo_output).group(1)


def open_cases(phone) -> None:
    tab(phone, "cases")
    phone.wait_for("document.querySelectorAll('#cases li[data-case]').length === 5")


def open_case(phone, status: str) -> str:
    """Tap the list's case in `status`; returns what its detail shows."""
    phone.js(f"document.querySelector('#cases li[data-status={status}]').click(); true")
    phone.wait_for(f"(d => !d.hidden && d.getAttribute('data-status') === '{status}' && "
                   "document.querySelectorAll('#timeline li').length > 0)(document.getElementById('case-detail'))")
    return visible(phone, "case-detail")


def back_to_list(phone) -> None:
    phone.js("document.getElementById('case-close').click(); true")
    phone.wait_for("!document.getElementById('case-list').hidden && document.getElementById('case-detail').hidden "
                   "&& document.querySelectorAll('#cases li[data-case]').length === 5")


def titles(phone) -> list[str]:
    return phone.js("[...document.querySelectorAll('#timeline li .title')].map(e => e.textContent)")


def page_token(phone) -> dict:
    return bearer(json.loads(phone.js("sessionStorage.getItem('yiwang.h5')"))["access"])


def demo_department(app) -> dict:
    """The demo department's case system (`cases:write`), the client whose events made the demo cases
    (its secret is not kept by the seeder: the test gives it a token as the token endpoint would)."""
    with app.app_context(), db.connection_context():
        client_id = ApiClient.get(ApiClient.name == CLIENT_NAME).client_id
        token, _ = app.extensions["tokens"].issue(Principal("client", client_id, scopes=frozenset({"cases:write"})))
    return bearer(token)


def rate_on_page(phone, rating: int, tags=(), comment: str = "") -> None:
    phone.js(f"document.querySelector('#rate-stars [data-rating=\"{rating}\"]').click(); true")
    for tag in tags:
        phone.wait_for(f"(i => i && (i.click(), true))(document.querySelector('#rate-tags [data-tag={tag}]'))")
    phone.js(f"document.getElementById('rate-comment').value = {json.dumps(comment)}; true")


def submit_rating(phone) -> None:
    phone.js("document.getElementById('rate-form').requestSubmit(); true")


# --- The list and a case -----------------------------------------------------------------------------

def test_the_list_and_each_case_with_its_dates_and_the_supplement_deadline_highlighted(demo, phone):
    due = supplement_due(demo)
    sign_in_demo(phone)
    open_cases(phone)
    # One line per case: its status label, case number, and what the citizen waits for.
    lines = {status: text_of(phone, f"#cases li[data-status={status}]") for status in STATUSES}
    for status, label in STATUSES.items():
        assert label in lines[status] and "DEMO-2026-000" in lines[status]
    assert f"请于 {due} 前补正材料" in lines["supplement_required"] and "（计时暂停中）" in lines["supplement_required"]
    assert re.search(r"承诺 \d{4}-\d\d-\d\d 前办结", lines["accepted"]) and "暂停" not in lines["accepted"]
    assert "承诺" not in lines["submitted"]  # the promised time runs from acceptance
    assert "已办结，请评价" in lines["concluded"] and "请评价" not in lines["in_review"]
    deadline = "#cases li[data-status=supplement_required] .when.supplement"
    assert phone.js(f"getComputedStyle(document.querySelector('{deadline}')).fontWeight") == "700"
    snap(phone, "cases-list")

    # The 补正 case: what is missing and by when, in a box a person cannot miss; the clock paused.
    detail = open_case(phone, "supplement_required")
    assert "DEMO-2026-0003" in detail and "不动产登记" in detail and "演示业务部门" in detail
    box = visible(phone, "case-supplement")
    assert "需要补正材料" in box and SUPPLEMENT_NOTE in box and f"请于 {due} 前补正材料" in box
    assert phone.js("getComputedStyle(document.getElementById('case-supplement')).borderTopColor") == "rgb(249, 115, 22)"
    assert re.fullmatch(r"承诺 \d{4}-\d\d-\d\d 前办结（计时暂停中）", visible(phone, "case-due"))
    clock = visible(phone, "case-clock")
    assert "承诺时限 10 个工作日" in clock and re.search(r"自 \d{4}-\d\d-\d\d 起暂停计时", clock)
    assert titles(phone) == ["已提交", "受理", "补正"]
    assert f"补正截止 {due}" in text_of(phone, "#timeline li.supplement-step")
    assert phone.js("document.getElementById('rate-form').hidden && document.getElementById('case-rating').hidden")
    snap(phone, "cases-supplement")

    # Accepted: the clock runs; submitted: it has not started; the deep link opens a case directly.
    back_to_list(phone)
    open_case(phone, "accepted")
    assert re.fullmatch(r"承诺 \d{4}-\d\d-\d\d 前办结", visible(phone, "case-due"))
    assert "暂停" not in visible(phone, "case-clock") and titles(phone) == ["已提交", "受理"]
    assert phone.js("document.getElementById('case-supplement').hidden")
    back_to_list(phone)
    case_id = phone.js("document.querySelector('#cases li[data-status=submitted]').getAttribute('data-case')")
    phone.js(f"location.hash = '#/' + 'yiwang://cases/{case_id}'.replace('yiwang://', ''); true")
    phone.wait_for(f"document.getElementById('case-detail').getAttribute('data-case') === '{case_id}' && "
                   "!document.getElementById('case-detail').hidden")
    assert "受理后开始计算承诺办结时限" in visible(phone, "case-clock")
    assert phone.js("document.getElementById('case-due').hidden") and titles(phone) == ["已提交"]
    assert phone.js("document.getElementById('case-list').hidden")
    snap(phone, "cases-submitted")
    # A link to a case that is not theirs (or no longer there): said in words, and the list instead.
    phone.js("location.hash = '#/cases/case_not_mine'; true")
    assert wait_text(phone, "#message", "办件不存在") == "办件不存在。"
    phone.wait_for("!document.getElementById('case-list').hidden && document.getElementById('case-detail').hidden")
    phone.wait_for("document.querySelectorAll('#cases li[data-case]').length === 5")


def test_the_cases_in_english_and_a_poor_rating_without_a_reason_is_explained(demo, phone):
    due = supplement_due(demo)
    phone.js("sessionStorage.setItem('yiwang.preferences', JSON.stringify({lang:'en'})); location.reload(); true")
    phone.wait_for("document.readyState === 'complete' && document.documentElement.lang === 'en' && "
                   "!document.getElementById('login-view').hidden")
    sign_in_demo(phone)
    open_cases(phone)
    listing = visible(phone, "case-list")
    assert "My cases" in listing and "Documents required" in listing and "Under review" in listing
    assert f"Please supply the missing documents by {due}" in listing and "(clock paused)" in listing
    assert "Concluded: please rate it" in listing
    for _, _, item_name, _ in DEMO_CASES:  # the items' names are the department's data, not translated
        listing = listing.replace(item_name, "")
    assert not re.search(r"[\u4e00-\u9fff]", listing), listing
    detail = open_case(phone, "supplement_required")
    assert "Documents to supply" in detail and f"Please supply the missing documents by {due}" in detail
    assert "Progress" in detail and "Back to the list" in detail
    assert re.search(r"Promised by \d{4}-\d\d-\d\d \(clock paused\)", visible(phone, "case-due"))
    assert "10 working days from acceptance" in visible(phone, "case-clock")
    snap(phone, "cases-supplement-en")

    back_to_list(phone)
    open_case(phone, "concluded")
    form = visible(phone, "rate-form")
    assert "Rate this service" in form and "Tap a star" in form and "Submit rating" in form
    rate_on_page(phone, 1)
    wait_text(phone, "#rate-tags", "Long wait")
    assert text_of(phone, "#rate-label") == "Very dissatisfied" and visible(phone, "rate-poor")
    submit_rating(phone)
    message = wait_text(phone, "#message", "please give a reason or choose a tag")
    assert message.startswith("For a “dissatisfied” or “very dissatisfied” rating") and "evaluation_" not in message
    assert not phone.js("document.getElementById('rate-form').hidden")  # nothing was sent: still to rate
    snap(phone, "cases-rate-refused-en")


def test_an_overdue_case_and_a_pause_that_moved_its_due_date(client, demo, phone, machine_token):
    """A department's case from March: accepted with 5 working days, 补正 from Tue 3 to Mon 9 March (four
    working days paused, the due date moved by them), then under review ever since: overdue."""
    dept = bearer(machine_token("cases:write"))
    steps = [("submitted", {}), ("accepted", {"promised_days": 5}),
             ("supplement_required", {"supplement_due": "2026-03-06", "message": "请补充营业场所证明"}),
             ("in_review", {"day": 9})]
    for seq, (status, extra) in enumerate(steps, start=1):
        body = event(seq, status, case_no="C-2026-0042", person=DEMO_CITIZEN[1], **extra)
        assert client.post("/api/v1/dept/case-events", headers=dept, json=body).status_code == 202
    sign_in_demo(phone)
    tab(phone, "cases")
    mine = "[...document.querySelectorAll('#cases li[data-case]')].find(li => li.innerText.includes('C-2026-0042'))"
    line = phone.wait_for(f"(li => li && li.innerText)({mine})")
    assert "审查/办理中" in line
    assert "承诺 2026-03-13 前办结（已超期）" in line and "补正" not in line  # no 补正 deadline any more
    assert phone.js(f"getComputedStyle({mine}.querySelector('.when.overdue')).color") == "rgb(185, 28, 28)"
    phone.js(f"{mine}.click(); true")
    phone.wait_for("!document.getElementById('case-detail').hidden")
    assert visible(phone, "case-due") == "承诺 2026-03-13 前办结（已超期）"
    clock = visible(phone, "case-clock")
    assert "承诺时限 5 个工作日，自 2026-03-02 受理起计算" in clock and "已暂停 4 个工作日，办结日期相应顺延" in clock
    assert "已超过承诺办结日期" in clock and "12345" in clock and "暂停计时" not in clock
    assert phone.js("document.getElementById('case-supplement').hidden")  # the 补正 is over
    assert titles(phone) == ["已提交", "受理", "补正", "审查/办理中"]
    assert "补正截止 2026-03-06" in text_of(phone, "#timeline li.supplement-step")
    snap(phone, "cases-overdue")


# --- 好差评 ------------------------------------------------------------------------------------------

def test_a_poor_rating_with_catalogue_tags_and_the_department_answers_on_the_case(app, client, demo, phone, make_worker):
    sign_in_demo(phone)
    open_cases(phone)
    open_case(phone, "concluded")
    assert "已在承诺日期前办结" in visible(phone, "case-clock")
    assert phone.js("document.getElementById('case-due').classList.contains('done')")  # nothing to wait for
    assert "请点星评分" in visible(phone, "rate-form") and phone.js("document.getElementById('rate-submit').disabled")
    snap(phone, "cases-rate")

    # Two stars (不满意): the complaint tags of the catalogue (GET /cases/evaluation-tags), nothing else.
    rate_on_page(phone, 2)
    catalogue = client.get("/api/v1/cases/evaluation-tags").get_json()["items"]
    complaints = next(level for level in catalogue if level["rating"] == 2)["tags"]
    phone.wait_for(f"document.querySelectorAll('#rate-tags [data-tag]').length === {len(complaints)}")
    shown = phone.js("[...document.querySelectorAll('#rate-tags .chip')].map(e => e.innerText.trim())")
    assert shown == [tag["label"] for tag in complaints]
    assert text_of(phone, "#rate-label") == "不满意" and "办理部门会给您答复" in visible(phone, "rate-poor")
    assert phone.js("document.querySelectorAll('#rate-stars .star.on').length") == 2
    # Five stars would offer the praise tags instead; back to two, the complaints again.
    rate_on_page(phone, 5)
    wait_text(phone, "#rate-tags", "一次办成")
    assert "等待时间长" not in text_of(phone, "#rate-tags")
    rate_on_page(phone, 2, tags=("long_wait", "repeated_visits"), comment="窗口只开了一个，等了一个多小时。")
    assert phone.js("document.querySelectorAll('#rate-tags .chip.on').length") == 2
    snap(phone, "cases-rate-poor")
    submit_rating(phone)

    # The rating shows on the case: stars, words, tags, comment; the department's answer is awaited.
    rating = phone.wait_for("(e => !e.hidden && e.innerText)(document.getElementById('case-rating'))")
    assert "我的评价" in rating and "★★☆☆☆" in rating and "不满意" in rating
    assert "等待时间长" in rating and "多次跑动" in rating and "窗口只开了一个，等了一个多小时。" in rating
    assert re.search(r"办理部门将于 \d{4}-\d\d-\d\d 前答复您的评价", visible(phone, "case-answer-wait"))
    assert phone.js("document.getElementById('rate-form').hidden")
    assert "评价已提交" in text_of(phone, "#message")
    assert titles(phone)[-1] == "服务评价" and "不满意" in text_of(phone, "#timeline li:last-child")
    snap(phone, "cases-rated")

    # The department reads the 差评 (its follow-ups) and answers it, through the API.
    dept = demo_department(app)
    follow_ups = client.get("/api/v1/dept/follow-ups?status=open", headers=dept).get_json()["items"]
    assert [(f["case_no"], f["rating"], f["tags"]) for f in follow_ups] == [
        ("DEMO-2026-0005", 2, ["long_wait", "repeated_visits"])]
    assert follow_ups[0]["comment"] == "窗口只开了一个，等了一个多小时。"
    phone.wait_for("document.body.getAttribute('data-stream') === 'open'")
    answer = "已在高峰时段增开两个窗口，并对材料要求做了一次性告知。感谢您的反馈。"
    response = client.post(f"/api/v1/dept/follow-ups/{follow_ups[0]['id']}/answer", json={"answer": answer}, headers=dept)
    assert response.status_code == 200, response.get_json()
    make_worker(clock=utcnow).drain()

    # Its notice arrives on the open case: the answer shows as 部门答复, in the rating and the timeline.
    shown = wait_text(phone, "#case-answer", answer)
    assert shown.startswith("部门答复")
    assert phone.js("document.getElementById('case-answer-wait').hidden")
    assert titles(phone)[-2:] == ["服务评价", "部门答复"] and answer in text_of(phone, "#timeline li:last-child")
    snap(phone, "cases-answered")


def test_rating_a_case_already_rated_says_so_and_shows_the_rating(client, demo, phone):
    sign_in_demo(phone)
    open_cases(phone)
    case_id = phone.js("document.querySelector('#cases li[data-status=concluded]').getAttribute('data-case')")
    open_case(phone, "concluded")
    rate_on_page(phone, 5, tags=("quick",))
    # Meanwhile the citizen rated it on another device.
    response = client.post(f"/api/v1/cases/{case_id}/evaluation", json={"rating": 4, "tags": ["friendly_staff"]},
                           headers=page_token(phone))
    assert response.status_code == 201, response.get_json()
    submit_rating(phone)
    assert wait_text(phone, "#message", "已评价") == "该办件已评价，每件只能评价一次。"
    rating = phone.wait_for("(e => !e.hidden && e.innerText)(document.getElementById('case-rating'))")
    assert "★★★★☆" in rating and "满意" in rating and "态度热情" in rating
    phone.wait_for("document.getElementById('rate-form').hidden")
    assert "该办件已评价" in text_of(phone, "#message")  # the message stays while the case is shown again
    snap(phone, "cases-rated-twice")
    back_to_list(phone)  # the list asked again: the case waits for no rating any more
    phone.wait_for("!document.querySelector('#cases li[data-status=concluded]').innerText.includes('请评价')")


def test_a_relative_acting_for_the_citizen_follows_the_cases_but_does_not_rate(demo, phone):
    """Following cases is delegable (cases:follow); 好差评 is the applicant's own."""
    sign_in_demo(phone, DEMO_FAMILY[0])
    tab(phone, "proxies")
    phone.wait_for("(li => li && (li.click(), true))(document.querySelector('#proxies-received li[data-status=active]'))")
    phone.wait_for("(b => b && b.offsetParent !== null && (b.click(), true))(document.getElementById('proxy-act'))")
    assert "正在代 王* 办理" in visible(phone, "acting")
    open_cases(phone)  # 王五's five cases, read with the delegated token
    assert "已办结，待申请人评价" in text_of(phone, "#cases li[data-status=concluded]")
    open_case(phone, "concluded")
    assert visible(phone, "rate-own") == "好差评需由申请人本人评价。"
    assert phone.js("document.getElementById('rate-form').hidden")
    snap(phone, "cases-acting")
