/* 预约签到: the counter page's second tab. A booking's QR carries its 8-character check-in code (the
 * scan box reads it) or the clerk types the code; the card says who is checked in for which slot at
 * which hall, or why not. The page's shared pieces (the API client, the card's rows and refusals, the
 * scan box's focus, one request at a time) come from counter.js. All data goes into the page through
 * textContent (never as markup). */
import { $, clear, el } from "/static/web/dom.js";

const CHECKIN_HEADINGS = {
  already_checked_in: ["该预约已签到", "Already checked in"],
  check_in_wrong_day: ["不是今天的预约", "Not today's appointment"],
  check_in_too_early: ["来早了，还没到签到时间", "Too early to check in"],
  check_in_too_late: ["已过预约时段，不能再签到", "Too late: the appointment time is over"],
  check_in_other_hall: ["不是本大厅的预约", "Booked at another hall"],
  appointment_not_active: ["预约已取消或已爽约", "Appointment cancelled or missed"],
  check_in_code_invalid: ["签到码无效", "Unknown check-in code"],
  forbidden: ["不在您的签到权限内", "Not within your counter permissions"],
  rate_limited: ["操作过于频繁", "Too many attempts"],
  validation_failed: ["签到码格式不对", "Not a check-in code"],
};
const TEXT = {
  checkinTyped: ["请输入 8 位预约签到码。", "Type the 8-character check-in code."],
  checkedIn: ["✔ 签到成功", "✔ Checked in"],
  checkinRefused: ["✘ 签到未成功", "✘ Not checked in"],
  checking: ["正在签到…", "Checking in…"],
  item: ["办理事项", "Matter"], slot: ["预约时段", "Time"], hall: ["大厅", "Hall"], who: ["预约人", "Booked by"],
  arrived: ["签到时间", "Checked in at"],
};
const CHECKIN_CODE = /^[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{8}$/;

/* The check-in tab over the page's pieces: {api, session, work: {busy}, t, row, showRefused, focusScan}.
 * Gives checkIn(text) for the scan box and onTyped(event) for the typed code's form. */
export function checkinTab(page) {
  const { api, session, work, t, row, showRefused, focusScan } = page;

  /* "2026-09-30 09:00" as the server wrote it (the hall's time, +08:00), whatever the browser's zone. */
  function hallTime(value) { return value ? String(value).slice(0, 10) + " " + String(value).slice(11, 16) : ""; }

  function showCheckedIn(data) {
    const card = $("card");
    clear(card);
    card.className = "card ok";
    card.appendChild(el("p", "verdict", t(TEXT.checkedIn)));
    card.appendChild(el("p", "type", (data.item && (data.item.name || data.item.code)) || ""));
    const dl = el("dl");
    row(dl, t(TEXT.slot), hallTime(data.start) + "–" + String(data.end || "").slice(11, 16));
    row(dl, t(TEXT.hall), data.hall && data.hall.name);
    row(dl, t(TEXT.who), data.holder && data.holder.name_masked);
    row(dl, t(TEXT.arrived), hallTime(data.arrived_at));
    card.appendChild(dl);
    card.hidden = false;
  }

  function checkIn(text) {
    const code = text.replace(/\s+/g, "").toUpperCase();
    if (!CHECKIN_CODE.test(code)) {
      showRefused({ status: 0, data: { code: "validation_failed", detail: t(TEXT.checkinTyped) } },
        t(TEXT.checkinRefused), CHECKIN_HEADINGS);
      return;
    }
    if (work.busy) { return; }
    work.busy = true;
    $("status").textContent = t(TEXT.checking);
    $("checkin-button").disabled = true;
    api.call("POST", "/counter/check-ins", { code }).then((r) => {
      if (!session.data) { return; }
      if (r.ok) { showCheckedIn(r.data); } else { showRefused(r, t(TEXT.checkinRefused), CHECKIN_HEADINGS); }
    }, () => {
      showRefused({ status: 0, data: { detail: "网络异常，请稍后重试。" } }, t(TEXT.checkinRefused), CHECKIN_HEADINGS);
    }).then(() => {
      work.busy = false;
      $("status").textContent = "";
      $("checkin-button").disabled = false;
      focusScan();
    });
  }

  function onTyped(event) {
    event.preventDefault();
    const code = $("checkin-code").value;
    $("checkin-code").value = "";
    $("checkin-code").blur();
    checkIn(code);
  }

  return { checkIn, onTyped };
}
