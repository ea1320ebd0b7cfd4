/* The appointments' shared pieces: days and times in words, and the booking rules in force (the
 * settings, from a slot list's `rules`) with their box beside the booking and an appointment. */
import { t } from "../../i18n.js";
import { el } from "../../ui.js";

const WEEKDAYS = [["周日", "Sun"], ["周一", "Mon"], ["周二", "Tue"], ["周三", "Wed"], ["周四", "Thu"], ["周五", "Fri"], ["周六", "Sat"]];
let rules = null;       // the booking rules in force, from a slot list

/* --- Words -------------------------------------------------------------------------------------- */

function duration(minutes) {
  return minutes % 60 === 0 ? t(minutes / 60 + " 小时", minutes / 60 + (minutes === 60 ? " hour" : " hours"))
                            : t(minutes + " 分钟", minutes + " minutes");
}

/* "2026-12-08 周二" */
export function dayLabel(date) {
  const w = WEEKDAYS[new Date(date + "T00:00:00Z").getUTCDay()];
  return date.slice(5) + " " + t(w[0], w[1]);
}

/* Beijing time as the API gives it (+08:00): "09:00". */
export function hhmm(value) { return String(value || "").slice(11, 16); }

/* The rules box: the booking rules and the no-show rule, in the settings' numbers. */
export function rulesBox(withBooking) {
  const box = el("div", "card rules");
  box.id = "apt-rules";
  box.appendChild(el("h3", null, t("预约规则", "Booking rules")));
  if (!rules) {
    box.appendChild(el("p", "noshow", t("预约后请按时到厅签到；多次爽约（既未取消也未签到）将被暂停预约。",
      "Please check in on time: repeatedly missing appointments (neither cancelled nor checked in) suspends booking.")));
    return box;
  }
  if (withBooking) {
    box.appendChild(el("p", null, t("可预约明天起 " + rules.window_working_days + " 个工作日内的时段；每人每天在同一网点只能预约一次。",
      "You can book slots from tomorrow within the next " + rules.window_working_days + " working days, once a day per hall.")));
  }
  box.appendChild(el("p", null, t("预约时段开始前 " + duration(rules.cancel_before_minutes) + "以上可以取消。",
    "You can cancel up to " + duration(rules.cancel_before_minutes) + " before the slot starts.")));
  box.appendChild(el("p", "noshow", t(rules.no_show_window_days + " 天内爽约（既未取消也未签到）累计 " + rules.no_show_limit + " 次，将暂停预约 " + rules.ban_days + " 天。",
    rules.no_show_limit + " missed appointments (neither cancelled nor checked in) within " + rules.no_show_window_days +
    " days suspend booking for " + rules.ban_days + " days.")));
  const banned = el("p", "banned");
  banned.id = "apt-banned";
  banned.hidden = true;
  box.appendChild(banned);
  return box;
}

export function slotsOf(ctx, hallId, date) {
  return ctx.api.call("GET", "/map/halls/" + encodeURIComponent(hallId) + "/slots?date=" + date).then((r) => {
    if (r.ok && r.data.rules) { rules = r.data.rules; }
    return r;
  });
}

/* Whether a slot list has told the rules yet. */
export function haveRules() { return !!rules; }
