// simq's dashboard: the state from the server's WebSocket (doc/api.md, "The dashboard's WebSocket"),
// drawn as it changes.  The token lives in this page's memory only and goes in a message.
"use strict";

const state = { server: null, seq: 0, logSeq: 0, sections: {}, log: [], token: null, ws: null, ref: 0, chart: null, asked: new Map(), skew: 0, live: false, lostAt: 0, asOf: 0,
  selected: new Map(), drawn: {}, callWho: new Map(),
  // Selecting by the server's ids: what the selection was made of, the queued row ticked last, sweeps' queued counts, asks.
  selectedFrom: new Set(), lastTicked: null, sweepCount: new Map(), sweepAsked: new Map(), selecting: new Map(),
  sweep: { list: [], chart: null, completed: -1, asked: 0, timer: null, chosen: {} } };
const PALETTE = ["#2c6fbb", "#d35400", "#1e8e3e", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#b7950b"];
const PRIORITIES = ["critical", "high", "normal", "low"];
const POINTS = ["circle", "rect", "triangle", "rectRot", "crossRot"];
const MAX_IDS = 10000; // the most ids one action takes
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c === undefined || c === null ? "" : String(c)));
  return e;
}

function table(head, rows, empty) {
  if (!rows.length && empty) return el("div", { class: "empty" }, empty);
  return el("table", {}, el("tr", {}, ...head.map((h) => el("th", {}, h))), ...rows);
}

// Times are the browser's local time, its zone named once in the header and in every time's tooltip.
const two = (n) => String(n).padStart(2, "0");
const ZONE_NAME = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" });
// The zone at ms: "UTC+09:00 (Asia/Tokyo)", "UTC-05:00 (EST)" — the browser's short name when it has one, else the zone's.
function zone(ms) {
  const d = new Date(ms), off = -d.getTimezoneOffset(), a = Math.abs(off);
  const short = (ZONE_NAME.formatToParts(d).find((p) => p.type === "timeZoneName") || {}).value || "";
  const name = /^[A-Z]{2,5}$/.test(short) ? short : Intl.DateTimeFormat().resolvedOptions().timeZone || short;
  return "UTC" + (off < 0 ? "-" : "+") + two(Math.floor(a / 60)) + ":" + two(a % 60) + (name ? " (" + name + ")" : "");
}
function hms(d) { return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()); }
// 15:09:46 today, "Nov 29 15:09:46" before (with the year when it is another).
function clock(ms) {
  if (!ms) return "";
  const d = new Date(ms), today = new Date(now());
  if (d.toDateString() === today.toDateString()) return hms(d);
  return d.toLocaleDateString("en-US", { month: "short", day: "numeric", year: d.getFullYear() === today.getFullYear() ? undefined : "numeric" }) + " " + hms(d);
}
// In full, for tooltips: "2026-11-30 00:09:46 UTC+09:00 (Asia/Tokyo)".
function stamp(ms) {
  const d = new Date(ms);
  return ms ? d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + hms(d) + " " + zone(ms) : "";
}
// A time as the page shows it, in full in its tooltip.
function when(ms) { return el("time", { datetime: ms ? new Date(ms).toISOString() : "", title: stamp(ms) }, clock(ms)); }
// The server's clock as this page reckons it (times in messages are the server's).
function now() { return Date.now() + state.skew; }
function ago(ms) {
  const s = Math.max(0, Math.round((now() - ms) / 1000));
  return s < 60 ? s + "s" : s < 3600 ? Math.floor(s / 60) + "m" : Math.floor(s / 3600) + "h" + Math.floor((s % 3600) / 60) + "m";
}
// Seconds as the console writes them: 8s, 3m05s, 1h02m, 2d03h.
function dur(sec, fine) {
  const s = Math.max(0, Math.round(sec));
  if (fine && sec < 1) return Math.max(0, Math.round(sec * 1000)) + "ms";
  return s < 60 ? s + "s" : s < 3600 ? Math.floor(s / 60) + "m" + two(s % 60) + "s"
    : s < 86400 ? Math.floor(s / 3600) + "h" + two(Math.floor(s / 60) % 60) + "m" : Math.floor(s / 86400) + "d" + two(Math.floor(s / 3600) % 24) + "h";
}
function vars(v) { return Object.entries(v || {}).map(([k, x]) => k + "=" + JSON.stringify(x)).join(" "); }
// To a tenth, as the console and simq stats write it: 100.0 % only when all, 0.0 % only when none.
function pct(x) {
  if (x === null || x === undefined) return "–";
  const tenths = Math.round(1000 * x);
  return ((x > 0 && x < 1 ? Math.min(999, Math.max(1, tenths)) : tenths) / 10).toFixed(1) + " %";
}

// Sends an action; what was asked is kept by its ref, so that the answer can be said per id.
function act(action, extra) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return say(action + ": not sent, the page is not connected", true);
  const m = Object.assign({ action, ref: ++state.ref }, extra || {});
  state.asked.set(m.ref, m);
  state.ws.send(JSON.stringify(m));
}

// "11-14, 20, 31-33": ids sorted, runs joined, at most `most` pieces.
function ranges(ids, most = 8) {
  const s = [...new Set(ids)].sort((a, b) => a - b), parts = [];
  for (let i = 0; i < s.length; i++) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    parts.push(j > i ? s[i] + "-" + s[j] : String(s[i]));
    i = j;
  }
  return parts.length > most ? parts.slice(0, most).join(", ") + ", … (" + s.length + " in all)" : parts.join(", ");
}

// What the server did with one id, as [what was asked of it, the outcome, the outcome without the id's own words].
const OUTCOME = {
  cancel: (r) => ["cancel " + r.id, r.changed ? "cancelled" : r.done ? "already " + r.state : "not cancelled: " + r.reason,
    r.changed ? "cancelled" : r.done ? "already " + r.state : "not cancelled, " + r.state],
  reprioritize: (r, asked) => ["priority of " + r.id, r.changed ? "now " + asked.priority : r.done ? "already " + asked.priority : "unchanged: " + r.reason,
    r.changed ? "now " + asked.priority : r.done ? "already " + asked.priority : "unchanged, " + r.state],
  retry: (r) => ["retry " + r.id,
    r.new ? "retried as " + r.new_id
      : r.done ? "already retried as " + r.new_id
      : r.new_id ? "already retried as " + r.new_id + ", which " + (r.new_state === "failed" ? "failed" : "was " + r.new_state) + " — retry " + r.new_id
      : "not retried: " + r.reason,
    r.new ? "retried" : r.done ? "already retried" : "not retried"],
};

// The server's answer to one action, said per id (grouped by outcome when there are many); whether any was refused.
function answerText(m, asked) {
  if (!m.ok) return [(m.error.startsWith(m.action + " ") ? "" : m.action + ": ") + m.error, true];
  if (m.action === "pause" || m.action === "resume")
    return [(m.results.backend ? "backend " + m.results.backend : "dispatch") + (m.results.paused ? " paused" : " running"), false];
  const said = m.results.map((r) => OUTCOME[m.action](r, asked)), bad = m.results.some((r) => !r.done);
  if (said.length <= 3) return [said.map(([what, outcome]) => what + ": " + outcome).join(" · "), bad];
  const groups = new Map();
  m.results.forEach((r, i) => {
    const key = said[i][2];
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r.id);
  });
  const parts = [...groups.entries()].map(([outcome, ids]) => ids.length + " " + outcome + " (" + ranges(ids) + ")");
  const reasons = [...new Set(m.results.filter((r) => !r.done && r.reason).map((r) => r.reason))].slice(0, 2);
  return [m.action + " of " + m.results.length + " tasks: " + parts.join(" · ") + (reasons.length ? " — " + reasons.join("; ") : ""), bad];
}

// ---- asking first: every action names the ids it will touch, taken when it was clicked ----

// A task as the page last drew it: "overnight · D=0.1 L=0.001", for the confirmation.
function describe(id) {
  const d = Object.values(state.drawn).map((m) => m.get(id)).find((x) => x);
  return d ? "task " + id + " (" + d + ")" : "task " + id;
}

// The tasks an action will touch, and (about) what they were selected as: "300 tasks: 12-311 (all 300 queued of sweep big)".
function whichTasks(ids, about) {
  const also = about ? " (" + about + ")" : "";
  if (ids.length === 1) return describe(ids[0]) + also;
  if (ids.length <= 4) return ids.length + " tasks: " + ids.map(describe).join(", ") + also;
  return ids.length + " tasks: " + ranges(ids, 12) + also;
}

const ASK = {
  cancel: (x, about) => ["Cancel " + whichTasks(x.ids, about) + "?", x.ids.length > 1 ? "Cancel them" : "Cancel it"],
  reprioritize: (x, about) => ["Give " + whichTasks(x.ids, about) + " priority " + x.priority + "?", "Set " + x.priority],
  retry: (x, about) => ["Retry " + whichTasks(x.ids, about) + "?", x.ids.length > 1 ? "Retry them" : "Retry it"],
  pause: (x) => x.backend ? ["Pause backend " + x.backend + "? Its calls running now finish; nothing new starts on it until it is resumed.", "Pause " + x.backend]
    : ["Pause dispatch? Calls running now finish; nothing new starts until Resume.", "Pause"],
  resume: (x) => x.backend ? ["Resume backend " + x.backend + "?", "Resume " + x.backend] : ["Resume dispatch?", "Resume"],
};

// Asks "Cancel task 146 (…)? Cancel it / Keep" with the ids fixed now; acts only on the answer.  about: what the ids were selected as.
function confirmAct(action, extra, about) {
  const x = Object.assign({}, extra || {});
  if (x.ids) x.ids = [...x.ids];
  if (x.ids && x.ids.length > MAX_IDS)
    return say(action + ": " + x.ids.length + " tasks selected; one action takes at most " + MAX_IDS + " (clear the selection and select fewer)", true);
  const [question, yes] = ASK[action](x, about), dlg = $("confirm");
  $("confirm-text").textContent = question;
  $("confirm-yes").textContent = yes;
  dlg.dataset.action = action;
  dlg.returnValue = "";
  dlg.onclose = () => {
    if (dlg.returnValue !== "yes") return;
    act(action, x);
    if (x.ids) {
      for (const id of x.ids) state.selected.delete(id);
      if (!state.selected.size) clearSelection(); else drawSelection();
    }
  };
  if (dlg.open) dlg.close();
  dlg.showModal();
  $("confirm-no").focus();
}

function prioSelect(ids, about) {
  const prio = el("select", { class: "row-act", "aria-label": "priority" }, el("option", { value: "" }, "prio…"),
    ...PRIORITIES.map((p) => el("option", { value: p }, p)));
  prio.addEventListener("change", () => {
    const p = prio.value, taken = typeof ids === "function" ? ids() : ids;
    prio.value = "";
    if (p && taken.length) confirmAct("reprioritize", { ids: taken, priority: p }, about && about());
  });
  return prio;
}

function button(label, onclick, title) {
  return el("button", { class: "row-act", type: "button", onclick, title: title || "" }, label);
}

// A row's tick box: the row's ids join or leave the selection.  about: a queued row's {priority, name}, for the dock's offers.
function selectBox(ids, about) {
  const box = el("input", { type: "checkbox", class: "row-act sel", "aria-label": "select " + ids.join(", ") });
  box.checked = ids.every((id) => state.selected.has(id));
  box.addEventListener("change", () => {
    for (const id of ids) if (box.checked) state.selected.set(id, true); else state.selected.delete(id);
    if (!box.checked) state.selectedFrom.clear(); // no longer "all of" anything
    if (box.checked && about) {
      state.lastTicked = about;
      // How many the sweep has queued, for its offer: the server reads the queue's records for it, so at most every 10 s.
      if (about.name && !(Date.now() - (state.sweepAsked.get(about.name) || 0) < 10000)) {
        state.sweepAsked.set(about.name, Date.now());
        askSelect({ sweep: { name: about.name } });
      }
    }
    drawSelection();
  });
  return box;
}

// The dock: what is selected, and offers to take all of the ticked row's priority or sweep (the server's count, not the rows shown).
function drawSelection() {
  const ids = [...state.selected.keys()].sort((a, b) => a - b), t = state.lastTicked, q = state.sections.queue, offers = [];
  $("selection").hidden = ids.length === 0;
  $("selection-text").textContent = ids.length + (ids.length === 1 ? " task selected: " : " tasks selected: ") + ranges(ids, 6);
  $("selection-text").title = [...state.selectedFrom].join("; ");
  if (t && q && q.counts[t.priority] > 1)
    offers.push(selectAll({ priority: t.priority }, q.counts[t.priority], "queued " + t.priority));
  if (t && t.name && state.sweepCount.get(t.name) > 1)
    offers.push(selectAll({ sweep: { name: t.name } }, state.sweepCount.get(t.name), "queued of sweep " + t.name, "of sweep " + t.name));
  const key = offers.map((o) => o.textContent).join("\n"); // kept while the words stand, so that a click lands
  if ($("sel-offers").dataset.key !== key) {
    $("sel-offers").dataset.key = key;
    $("sel-offers").replaceChildren(...offers);
  }
  for (const box of document.querySelectorAll("input.sel[data-ids]"))
    box.checked = box.dataset.ids.split(" ").every((id) => state.selected.has(Number(id)));
}

function clearSelection() {
  state.selected.clear();
  state.selectedFrom.clear();
  state.lastTicked = null;
  drawSelection();
}

// "select all 300 of sweep big": asks the server for those queued tasks' ids and adds them to the selection.
function selectAll(query, n, what, label) {
  return el("button", { type: "button", class: "row-act offer", "data-select": query.sweep ? "sweep" : "priority", onclick: () => askSelect(query, what), title: "ask the server for the ids of every queued task " + what },
    "select all " + n + " " + (label || what));
}

// Asks the server for the ids of queued tasks of a priority or a sweep (the first 10,000, with how many there are);
// what: the words for the selection, or none to count only.
function askSelect(query, what) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return what ? say("select: not sent, the page is not connected", true) : undefined;
  const ref = "select-" + ++state.ref;
  state.selecting.set(ref, { query, what });
  state.ws.send(JSON.stringify(Object.assign({ action: "select", ref }, query)));
}

function onSelected(m, asked) {
  if (!m.ok) return asked.what ? say(m.error, true) : undefined;
  const { ids, total } = m.results;
  if (asked.query.sweep) state.sweepCount.set(asked.query.sweep.name, total);
  if (asked.what) {
    for (const id of ids) state.selected.set(id, true);
    state.selectedFrom.add("all " + total + " " + asked.what);
    if (total > ids.length) say("selected the first " + ids.length + " of the " + total + " queued " + asked.what + ": one action takes at most " + MAX_IDS + "; act on these, then select again", true);
  }
  drawSelection();
}

function selected() { return [...state.selected.keys()].sort((a, b) => a - b); }
function selectedAs() { return [...state.selectedFrom].join("; "); }

// The ids of a row go in its tick box's data-ids, so that a redraw keeps what was ticked.
function tick(ids, about) {
  const box = selectBox(ids, about);
  box.dataset.ids = ids.join(" ");
  return el("td", { class: "tick" }, box);
}

function rowActions(id) {
  return el("span", { class: "acts" }, button("cancel", () => confirmAct("cancel", { ids: [id] })), prioSelect([id]));
}

// A call whose every task was cancelled: PLECS has no cancel call, so it holds its slot until it answers.
function allCancelled(c) { return c.cancelled > 0 && c.cancelled >= c.ids.length; }

// A call's time against its estimate and timeout: over the estimate, past half its timeout, and whether it
// holds its slot for nothing soon — cancelled, past half its timeout, or over by its estimate and 30 s more.
function timing(started, estimate, timeout, cancelled) {
  const took = (now() - started) / 1000, over = estimate > 0 && took > estimate, late = timeout > 0 && took > timeout / 2;
  return { took, over, late, stuck: cancelled || late || (estimate > 0 && took > 2 * estimate && took - estimate >= 30) };
}

// A call in Running: its ids, who it is (as last seen when all its tasks were cancelled: the server no longer has them), progress, cancel.
function callRow(c) {
  const gone = allCancelled(c), drawn = state.drawn.running, head = c.ids[0];
  if (c.name || c.priority) state.callWho.set(head, { name: c.name, priority: c.priority });
  const who = gone && state.callWho.get(head) || c;
  for (const id of c.ids) drawn.set(id, (who.name || c.model) + (c.ids.length > 1 ? " · in a call of " + c.ids.length : ""));
  const part = c.cancelled && !gone ? el("div", { class: "muted small" }, c.cancelled + " of " + c.ids.length + " cancelled") : "";
  return el("tr", { "data-id": c.ids.join(" "), class: gone ? "held" : "" }, gone ? el("td", { class: "tick" }) : tick(c.ids),
    el("td", { class: "num", title: c.ids.join(", ") }, c.ids.length > 1 ? head + " +" + (c.ids.length - 1) : head),
    el("td", { class: "name", title: c.path }, who.name || c.model,
      el("div", { class: "small" }, el("span", { class: gone ? "muted" : who.priority }, gone ? "cancelled" : who.priority), el("span", { class: "muted" }, " · on " + c.backend)), part),
    el("td", { class: "progress" + (gone ? " cancelled" : ""), "data-started": c.started, "data-estimate": c.estimate, "data-timeout": c.timeout, "data-cancelled": gone ? "1" : "" },
      el("span", { class: "bar" }, el("span", {})), el("span", { class: "elapsed" })),
    el("td", {}, gone ? "" : button("cancel", () => confirmAct("cancel", { ids: c.ids }), "cancel the " + (c.ids.length > 1 ? c.ids.length + " tasks of this call" : "task"))));
}

const draw = {
  queue(q) {
    $("queue-total").textContent = q.total + " queued · " + PRIORITIES.map((p) => q.counts[p] + " " + p).join(", ");
    const rows = [], drawn = state.drawn.queue = new Map();
    for (const p of PRIORITIES) for (const t of q.rows[p]) {
      drawn.set(t.id, [t.name || t.model, vars(t.vars)].filter(Boolean).join(" · "));
      rows.push(el("tr", { "data-id": t.id }, tick([t.id], { priority: p, name: t.name }), el("td", { class: "num" }, t.position + 1), el("td", { class: "num" }, t.id), el("td", { class: p }, p),
        el("td", { class: "name", title: t.path }, t.name || t.model), el("td", { class: "vars", title: vars(t.vars) }, vars(t.vars)), el("td", { class: "num", title: "submitted " + stamp(t.submitted) }, ago(t.submitted)), el("td", {}, rowActions(t.id))));
      if (q.counts[p] > q.rows[p].length && t === q.rows[p][q.rows[p].length - 1])
        rows.push(el("tr", { class: "more" }, el("td", { colspan: "8" }, "… " + (q.counts[p] - q.rows[p].length) + " more " + p + " ",
          selectAll({ priority: p }, q.counts[p], "queued " + p))));
    }
    $("queue").replaceChildren(table(["", "#", "id", "priority", "name / model", "vars", "age", ""], rows, "the queue is empty"));
    drawSelection();
    summary();
  },
  running(r) {
    const busy = r.in_calls + r.writing;
    state.runningPaused = pausedAll(); // a due retry waits for Resume, not a slot
    $("running-count").textContent = busy + " running" + (r.waiting ? " · " + r.waiting + " waiting to retry" : "");
    const drawn = state.drawn.running = new Map();
    const rows = r.calls.map(callRow);
    const heads = new Set(r.calls.map((c) => c.ids[0]));
    for (const id of state.callWho.keys()) if (!heads.has(id)) state.callWho.delete(id);
    for (const t of r.retries) {
      drawn.set(t.id, (t.name || t.model) + " · waiting to retry");
      const due = t.waiting === "backoff" ? ["retry " + t.retry + "/" + t.max_retries + " at ", when(t.due)]
        : ["retry " + t.retry + "/" + t.max_retries, ...(t.due ? [" due since ", when(t.due)] : []), state.runningPaused ? ", waiting for Resume" : ", waiting for a slot"];
      rows.push(el("tr", { "data-id": t.id, class: "retry" }, tick([t.id]), el("td", { class: "num" }, t.id),
        el("td", { class: "name" }, t.name || t.model, el("div", { class: "small " + t.priority }, t.priority)),
        el("td", { class: "error" }, el("span", { class: "sev-warning" }, ...due), " ", t.error),
        el("td", {}, button("cancel", () => confirmAct("cancel", { ids: [t.id] })))));
    }
    if (r.waiting > r.retries.length)
      rows.push(el("tr", { class: "more" }, el("td", { colspan: "5" }, "… " + (r.waiting - r.retries.length) + " more waiting to retry (simq ls --state running)")));
    if (r.writing)
      rows.push(el("tr", { class: "more" }, el("td", { colspan: "5" }, r.writing + (r.writing === 1 ? " result" : " results") + " being written")));
    $("running").replaceChildren(table(["", "id", "name / model", "progress", ""], rows, "nothing runs"));
    summary();
    moveBars();
  },
  backends(list) {
    if (state.sections.running && pausedAll() !== state.runningPaused) draw.running(state.sections.running);
    $("backends-line").replaceChildren(...list.map((b) => el("span", { class: b.up ? "up" : "down" }, (b.up ? "● " : "○ ") + b.name + " ")));
    $("backends-line").title = $("backends-line").textContent + "— " + list.map((b) => b.name + (b.up ? " UP" : " DOWN") + (b.paused ? " (paused)" : "")).join(", ");
    $("backends").replaceChildren(...list.map((b) => el("div", { class: "backend" },
      el("h3", { class: b.up ? "up" : "down" }, b.name + (b.up ? " UP" : " DOWN") + " · " + b.busy + "/" + b.slots + " busy" + (b.paused ? " · paused" : ""),
        el("button", { type: "button", class: "act backend-act", "data-backend": b.name, title: (b.paused ? "resume dispatch to " : "pause dispatch to ") + b.name + " alone",
          onclick: () => confirmAct(b.paused ? "resume" : "pause", { backend: b.name }) }, b.paused ? "Resume" : "Pause")),
      el("div", { class: "url" }, b.url, b.up || !b.probe_at ? "" : el("span", { class: "when" }, " · next probe ", when(b.probe_at))),
      b.history.length ? el("table", { class: "history" }, ...b.history.slice().reverse().map((h) => el("tr", {}, el("td", {}, when(h.time)),
        el("td", { class: h.up ? "up" : "down" }, h.up ? "UP" : "DOWN"), el("td", { class: "error-text" }, h.detail))))
        : el("div", { class: "muted" }, "no change since the server started"))));
    banner();
    eta();
  },
  stats(s) {
    sweepsMayHaveChanged(s.windows.since_start.completed_first + s.windows.since_start.completed_retry);
    const w = s.windows[$("window").value];
    const rows = [["completed", (w.completed_first + w.completed_retry) + (w.completed_retry ? " (" + w.completed_retry + " after retry)" : "")], ["failed", w.failed],
      ["cancelled", w.cancelled], ["cached", w.cached], ["success", pct(w.success_rate)], ["retry effectiveness", pct(w.retry_effectiveness)],
      ["retries per failed", w.avg_retries_per_failed === null ? "–" : w.avg_retries_per_failed.toFixed(2)],
      ["mean batch", s.mean_batch.toFixed(1)], ["dispatch", s.paused ? "paused " + s.pause_reason : "running"]];
    $("stats").replaceChildren(el("table", { class: "stats" }, ...rows.map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v)))));
    if (state.sections.running && pausedAll() !== state.runningPaused) draw.running(state.sections.running);
    $("dispatch").textContent = s.paused ? "Resume dispatch" : "Pause dispatch";
    $("dispatch").title = s.paused ? "dispatch is paused" : "dispatch is running";
    summary();
    banner();
    eta();
  },
  throughput(t) {
    eta();
    if (typeof Chart === "undefined") return;
    const labels = t.per_hour.map((_, i) => new Date(t.minute - (23 - i) * 3600000).getHours() + "h");
    if (!state.chart) {
      state.chart = new Chart($("throughput"), { type: "bar",
        data: { labels, datasets: [{ label: "ran on PLECS", data: t.per_hour, backgroundColor: "#2c6fbb" },
          { label: "from the cache", data: t.cached_per_hour, backgroundColor: "#9fc3e8" }] },
        options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: true, position: "bottom" } },
          scales: { y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true } } } } });
    } else {
      state.chart.data.labels = labels;
      state.chart.data.datasets[0].data = t.per_hour;
      state.chart.data.datasets[1].data = t.cached_per_hour;
      state.chart.update();
    }
  },
  failures(list) {
    const drawn = state.drawn.failures = new Map();
    for (const f of list) drawn.set(f.id, (f.name || f.model) + " · failed " + clock(f.finished) + (f.retried_as ? " · retried as " + f.retried_as : ""));
    $("failures").replaceChildren(table(["", "finished", "id", "priority", "name / model", "att.", "error", ""], list.map((f) =>
      el("tr", { "data-id": f.id }, tick([f.id]), el("td", { class: "finished" }, when(f.finished)), el("td", { class: "num" }, f.id), el("td", { class: f.priority }, f.priority),
        el("td", { class: "name", title: f.path }, f.name || f.model), el("td", { class: "num" }, f.attempts), el("td", { class: "error" }, f.error),
        el("td", {}, f.retried_as ? el("span", { class: "muted retried" }, "retried as " + f.retried_as)
          : button("retry", () => confirmAct("retry", { ids: [f.id] }))))), "no failures"));
  },
};

// ---- the sweep chart: a result summary against a swept variable, asked of the server ----

function askSweeps() {
  state.sweep.asked = Date.now();
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify({ sweep: {}, ref: "sweeps" }));
}

function askChart() {
  const choice = $("sweep-name").value;
  if (!choice || !state.ws || state.ws.readyState !== WebSocket.OPEN) return;
  const [kind, ...rest] = choice.split(":"), q = { [kind]: rest.join(":"), summary: $("sweep-summary").value };
  // Only what the user picked: else the server's default, which follows the sweep as it grows.
  if (state.sweep.chosen.by) q.by = $("sweep-by").value;
  if (state.sweep.chosen.signal) q.signal = $("sweep-signal").value;
  state.ws.send(JSON.stringify({ sweep: q, ref: "chart" }));
}

// Tasks finished: the list and the chart are asked again, at most every 3 s.
function sweepsMayHaveChanged(completed) {
  if (completed === state.sweep.completed) return;
  state.sweep.completed = completed;
  if (state.sweep.timer) return;
  const wait = Math.max(0, state.sweep.asked + 3000 - Date.now());
  state.sweep.timer = setTimeout(() => { state.sweep.timer = null; askSweeps(); }, wait);
}

function options(select, values, labels, keep) {
  const old = keep ? select.value : "";
  select.replaceChildren(...values.map((v, i) => el("option", { value: v }, labels ? labels[i] : v)));
  if (values.includes(old)) select.value = old;
}

function onSweeps(m) {
  if (!m.ok) return say(m.error, true);
  const list = m.sweeps, had = $("sweep-name").value;
  state.sweep.list = list;
  if (!list.length) {
    $("sweep-name").replaceChildren(el("option", { value: "" }, "no sweep finished in the last 24 h"));
    return;
  }
  options($("sweep-name"), list.map((x) => (x.name !== undefined ? "name:" + x.name : "tag:" + x.tag)),
    list.map((x) => (x.name !== undefined ? x.name : "tag " + x.tag) + " · " + x.tasks + " tasks · " + x.vars.join(", ")), true);
  for (const o of $("sweep-name").options) o.title = o.textContent;
  $("sweep-name").title = $("sweep-name").selectedOptions[0] ? $("sweep-name").selectedOptions[0].textContent : "";
  if (!had || $("sweep-name").value !== had) state.sweep.chosen = {};
  askChart();
}

function onChart(m) {
  if (!m.ok) { $("sweep-note").textContent = m.error; return; }
  const entry = state.sweep.list.find((x) => (m.name !== undefined ? x.name === m.name : x.tag === m.tag));
  if (entry && entry.tasks !== m.tasks) { // tasks finished since the list came
    entry.tasks = m.tasks;
    const o = $("sweep-name").selectedOptions[0];
    o.textContent = o.title = $("sweep-name").title = (entry.name !== undefined ? entry.name : "tag " + entry.tag) + " · " + entry.tasks + " tasks · " + entry.vars.join(", ");
  }
  options($("sweep-by"), m.vars, null, false);
  $("sweep-by").value = m.by;
  options($("sweep-signal"), m.signals, null, false);
  $("sweep-signal").value = m.signal;
  const series = new Map();
  for (const p of m.points) {
    if (!series.has(p.series)) series.set(p.series, []);
    series.get(p.series).push({ x: p.x, y: p.y, id: p.id });
  }
  const datasets = [...series.entries()].sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true })).map(([label, pts], i) => ({ label: label || m.by, data: pts.sort((a, b) => a.x - b.x),
    showLine: true, borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length], pointRadius: 3, borderWidth: 1.5,
    pointStyle: POINTS[Math.floor(i / PALETTE.length) % POINTS.length] }));
  const what = $("sweep-summary").selectedOptions[0].textContent + " of " + m.signal;
  $("sweep-note").textContent = m.points.length + " of " + m.tasks + " tasks" + (m.missing ? " (" + m.missing + " without that summary)" : "");
  if (typeof Chart === "undefined") return;
  if (state.sweep.chart) state.sweep.chart.destroy();
  state.sweep.chart = new Chart($("sweep"), { type: "scatter", data: { datasets },
    options: { animation: false, maintainAspectRatio: false,
      plugins: { legend: { display: false },
        tooltip: { callbacks: { label: (c) => "#" + c.raw.id + " " + m.by + "=" + short(c.raw.x) + ": " + short(c.raw.y) } } },
      scales: { x: { title: { display: true, text: m.by }, ticks: { callback: short, maxRotation: 0 } },
        y: { title: { display: true, text: what }, ticks: { callback: short } } } } });
  legend(datasets);
}

// The series as a list of their own, which scrolls when long (Chart.js's legend would overflow the chart).
function legend(datasets) {
  const box = $("sweep-legend");
  box.hidden = datasets.length < 2;
  box.replaceChildren(...datasets.map((d, i) => {
    const item = el("button", { type: "button", class: "series", title: "show or hide " + d.label },
      el("span", { class: "swatch " + d.pointStyle }), d.label);
    item.style.setProperty("--colour", d.borderColor);
    item.addEventListener("click", () => {
      const c = state.sweep.chart, shown = c.isDatasetVisible(i);
      c.setDatasetVisibility(i, !shown);
      item.classList.toggle("off", shown);
      c.update();
    });
    return item;
  }));
}

// A number in its shortest form: 1e-6, 0.25, 1500 (never 1.0000000E-6).
function short(v) {
  const x = Number(Number(v).toPrecision(6)), a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? x.toExponential().replace("e+", "e") : String(x);
}

// The header's line: queued, running, failed and the success rate of the chosen window.
function summary() {
  const q = state.sections.queue, r = state.sections.running, s = state.sections.stats;
  if (!q || !r || !s) return;
  const w = s.windows.day; // what a morning reader wants: the last 24 h, whatever restarts came between
  $("summary").replaceChildren(el("b", {}, q.total), " queued · ", el("b", {}, r.in_calls + r.writing), " running · ",
    ...(r.waiting ? [el("b", {}, r.waiting), " waiting to retry · "] : []),
    ...(r.calls.some(allCancelled) ? [el("b", {}, r.calls.filter(allCancelled).length), " cancelled in PLECS · "] : []),
    "last 24 h: ", el("b", { class: w.failed ? "n-failed" : "" }, w.failed), " failed, ", el("b", {}, pct(w.success_rate)), " success" + (s.paused ? " · paused" : ""));
  $("summary").title = $("summary").textContent;
  title();
}

// Each call's bar and words: elapsed of the estimate, "overdue by …" past it, a warning colour past half its timeout.
function moveBars() {
  for (const td of document.querySelectorAll("td.progress")) {
    const est = Number(td.dataset.estimate), limit = Number(td.dataset.timeout), started = Number(td.dataset.started);
    const { took, over, late } = timing(started, est, limit, false);
    td.querySelector(".bar > span").style.width = (est > 0 ? 100 * Math.min(0.99, took / est) : 0).toFixed(1) + "%";
    td.querySelector(".elapsed").textContent = td.dataset.cancelled
      ? "cancelled — PLECS finishes the run; the slot is held until it answers (call_timeout at " + clock(started + limit * 1000) + ") · " + dur(took) + " so far"
      : est <= 0 ? dur(took) + ", no estimate yet"
      : over ? "overdue by " + dur(took - est) + " (~" + dur(est, true) + ")" : dur(took) + " of ~" + dur(est, true);
    const gone = !!td.dataset.cancelled;
    td.classList.toggle("overdue", over && !gone);
    td.classList.toggle("late", late && !gone);
    td.title = gone ? "its tasks are cancelled; PLECS has no cancel call, so the call keeps its slot until PLECS answers or the call times out after " + dur(limit) + " (" + stamp(started + limit * 1000) + "), and its result is discarded"
      : late ? "running for " + dur(took) + "; the call times out after " + dur(limit) + " (then it is retried)" : "";
  }
}

// A burst larger than an update carries: the server sent the latest lines only.
function addSkipped(n) {
  $("log").append(el("div", { class: "muted" }, "… " + n + " lines not shown here (simq log has them all)"));
}

function addLog(lines) {
  const box = $("log");
  const follow = box.scrollTop + box.clientHeight >= box.scrollHeight - 20; // the reader is at the end
  for (const l of lines) {
    if (l.seq <= state.logSeq) continue;
    state.logSeq = l.seq;
    box.append(el("div", { class: "sev-" + l.severity, "data-task": l.task }, el("span", { class: "t", title: stamp(l.time) }, clock(l.time) + " "), l.text));
  }
  while (box.childElementCount > 500) box.firstElementChild.remove();
  if (follow) box.scrollTop = box.scrollHeight;
}

function apply(m) {
  state.skew = m.time - Date.now();
  state.asOf = m.time;
  for (const name of Object.keys(draw)) {
    if (m[name] !== undefined && m[name] !== null) {
      state.sections[name] = m[name];
      draw[name](m[name]);
    }
  }
  if (m.log_skipped) addSkipped(m.log_skipped);
  addLog(m.log || []);
  state.seq = m.seq;
  lockActions();
}

// Connected and welcomed, or not: while not, the data is dimmed, says how old it is, and nothing can be acted on.
// The header's word on actions, whole in its title with where the token is (the header cuts it when long).
const TOKEN_HELP = $("auth-state").title;
function authState(text) {
  $("auth-state").textContent = text;
  $("auth-state").title = text + " — " + TOKEN_HELP;
}

function setLive(on) {
  state.live = on;
  if (!on && document.body.classList.contains("unlocked")) authState("actions paused — disconnected");
  document.body.classList.toggle("disconnected", !on);
  $("status").className = "status " + (on ? "live" : "lost");
  $("status").textContent = on ? "live" : "disconnected since " + clock(state.lostAt);
  $("status").title = $("status").textContent + (on ? ": connected to the server" : " (" + stamp(state.lostAt) + ")");
  if (!on && $("confirm").open) $("confirm").close("no");
  lockActions();
  title();
  banner();
}

function lockActions() {
  for (const e of document.querySelectorAll("button.act, .row-act, #sel-prio, #confirm-yes")) e.disabled = !state.live;
}

// The tab's title: what a background tab should say.
function title() {
  const q = state.sections.queue, s = state.sections.stats;
  document.title = !state.live && state.lostAt ? "simq · disconnected" : q && s ? "simq · " + q.total + " queued · " + s.windows.day.failed + " failed" : "simq";
}

// Whether nothing new starts because of a pause: dispatch's, or every UP backend's.
function pausedAll() {
  const s = state.sections.stats, up = (state.sections.backends || []).filter((b) => b.up || b.checking);
  return !!(s && s.paused) || (up.length > 0 && up.every((b) => b.paused));
}

// The queue's ETA at the last 10 minutes' rate, or why there is none: it never counts down while nothing can start.
function eta() {
  const t = state.sections.throughput, list = state.sections.backends || [];
  if (!t) return;
  const why = !t.eta ? "" : pausedAll() ? "paused" : list.length && !list.some((b) => b.up || b.checking) ? "no backend UP" : heldSlots() ? "every slot held" : "";
  $("queue-eta").textContent = !t.eta ? "" : why ? "ETA — " + why : t.eta > 0 ? "ETA " + dur(t.eta) + " at " + t.rate + "/h" : "ETA – (nothing finished in the last 10 min)";
  $("queue-eta").title = why ? "nothing can start (" + why + "): no time to finish can be given" : t.eta > 0 ? "what is queued and running, at the rate of the last 10 minutes (less any time paused or idle)" : "";
}

// The calls that hold every slot of the backends that could start one (UP, not paused), when they all do; else null.
function heldSlots() {
  const r = state.sections.running, open = (state.sections.backends || []).filter((b) => b.up && !b.paused && b.slots > 0);
  if (!r || !open.length) return null;
  const held = r.calls.filter((c) => timing(c.started, c.estimate, c.timeout, allCancelled(c)).stuck);
  return open.every((b) => held.filter((c) => c.backend === b.name).length >= b.slots) ? held : null;
}

// A banner for what stops the night: dispatch paused, no backend answering, or every slot held by a stuck call.
function banner() {
  const s = state.sections.stats, list = state.sections.backends || [], lines = [];
  if (!state.live && state.lostAt)
    lines.push(["Disconnected since ", when(state.lostAt), "; showing data as of ", state.asOf ? when(state.asOf) : "–",
      " (dimmed; no action can be sent). Reconnecting…", ...(state.refused ? [" The server said: " + state.refused] : [])]);
  if (s && s.paused)
    lines.push(["Dispatch is paused" + (s.pause_reason ? " (" + s.pause_reason + ")" : "") + ": nothing new starts until it is resumed (Resume dispatch, or simq resume)."]);
  const up = list.filter((b) => b.up || b.checking);
  if (list.length && !up.length)
    lines.push(["Every backend is DOWN: ", ...list.flatMap((b, i) => [i ? ", " : "", b.name, ...(b.probe_at ? [" (next probe ", when(b.probe_at), ")"] : [])]),
      ". Nothing runs until one answers."]);
  else if (up.length && up.every((b) => b.paused))
    lines.push(["Every UP backend is paused (" + up.map((b) => b.name).join(", ") + "): nothing new starts until one is resumed (Resume in Backends, or simq resume NAME)."]);
  const held = heldSlots();
  if (held) {
    const first = Math.min(...held.map((c) => c.started + c.timeout * 1000));
    lines.push(["Nothing can start: every slot is held by a call that is overdue or cancelled — " + held.map((c) => {
      const t = timing(c.started, c.estimate, c.timeout, false);
      return (c.ids.length > 1 ? c.ids[0] + " +" + (c.ids.length - 1) : c.ids[0]) + " on " + c.backend + " " +
        (allCancelled(c) ? "cancelled" : t.over ? "overdue by " + dur(t.took - c.estimate) : "running " + dur(t.took));
    }).join(", ") + ". A slot frees when PLECS answers or at the call's timeout (the first at ", when(first), "); restarting PLECS frees them now."]);
  }
  // Redrawn only when its words change, so that a tooltip stays while it is read.
  const said = lines.map((l) => l.map((x) => (x instanceof Node ? x.textContent : x)).join("")).join("\n");
  if (said === state.bannerSaid) return;
  state.bannerSaid = said;
  $("banner").replaceChildren(...lines.map((l, i) => el("div", { class: i === 0 && !state.live ? "lost" : "" }, ...l)));
  $("banner").hidden = !lines.length;
}

function onMessage(ev) {
  const m = JSON.parse(ev.data);
  if (m.type === "welcome") {
    state.refused = "";
    setLive(true);
    if (state.server !== m.server) { state.logSeq = 0; $("log").replaceChildren(); }
    state.server = m.server;
    document.body.classList.toggle("unlocked", !m.read_only);
    authState(m.read_only ? "read-only" : "actions allowed");
    hideMessage(); // an answer from before the connection was lost is not news
  } else if (m.type === "snapshot") {
    apply(m);
  } else if (m.type === "update") {
    if (m.seq === state.seq + 1) apply(m);
    else if (m.seq > state.seq + 1 && state.ws) state.ws.close(); // a gap: reconnect and catch up
  } else if (m.type === "auth") {
    document.body.classList.toggle("unlocked", m.ok);
    authState(m.ok ? "actions allowed" : m.error);
  } else if (m.type === "reply" && state.selecting.has(m.ref)) {
    const asked = state.selecting.get(m.ref);
    state.selecting.delete(m.ref);
    onSelected(m, asked);
  } else if (m.type === "reply") {
    const asked = state.asked.get(m.ref) || {};
    state.asked.delete(m.ref);
    const [text, bad] = answerText(m, asked);
    say(text, bad);
  } else if (m.type === "sweep") {
    if (m.busy) setTimeout(m.ref === "sweeps" ? askSweeps : askChart, 1000); // the server's budget: ask again
    else if (m.ref === "sweeps") onSweeps(m); else if (m.ref === "chart") onChart(m);
  } else if (m.type === "error") {
    say(m.error, true);
  } else if (m.type === "refused") {
    // Turned away (every place taken): the server's reason stays in the banner while the page tries again.
    state.refused = m.error;
    banner();
  }
}

// The answer strip: a fixed place at the window's foot, over the page, so nothing moves when it speaks.
// It stays 30 s (or until dismissed, or the page reconnects), so that an old answer is not taken for a new one.
const SAY_FOR = 30000;
function say(text, bad) {
  $("message-text").textContent = text;
  $("message").classList.toggle("bad", !!bad);
  $("message").hidden = false;
  state.saidAt = Date.now();
}

function hideMessage() {
  $("message").hidden = true;
  $("message-text").textContent = "";
}

function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  state.ws = ws;
  ws.onopen = () => {
    const first = {};
    if (state.token) first.auth = state.token;
    if (state.server) first.resume = { server: state.server, seq: state.seq };
    ws.send(JSON.stringify(first));
    askSweeps();
  };
  ws.onmessage = onMessage;
  ws.onclose = () => {
    state.ws = null;
    if (state.live || !state.lostAt) state.lostAt = Date.now();
    setLive(false);
    setTimeout(connect, 1000);
  };
}

$("auth-form").addEventListener("submit", (e) => {
  e.preventDefault();
  state.token = $("token").value;
  $("token").value = "";
  if (state.ws) state.ws.send(JSON.stringify({ auth: state.token }));
});
$("window").addEventListener("change", () => { if (state.sections.stats) draw.stats(state.sections.stats); });
$("sweep-name").addEventListener("change", () => {
  state.sweep.chosen = {};
  $("sweep-name").title = $("sweep-name").selectedOptions[0].textContent;
  askChart();
});
$("sweep-by").addEventListener("change", () => { state.sweep.chosen.by = true; askChart(); });
$("sweep-signal").addEventListener("change", () => { state.sweep.chosen.signal = true; askChart(); });
$("sweep-summary").addEventListener("change", askChart);
$("message-close").addEventListener("click", hideMessage);
// One button, its words the state's: the action is decided when it is clicked.
$("dispatch").addEventListener("click", () => { const s = state.sections.stats; if (s) confirmAct(s.paused ? "resume" : "pause"); });
$("confirm-yes").addEventListener("click", () => $("confirm").close("yes"));
$("confirm-no").addEventListener("click", () => $("confirm").close("no"));
$("sel-cancel").addEventListener("click", () => confirmAct("cancel", { ids: selected() }, selectedAs()));
$("sel-retry").addEventListener("click", () => confirmAct("retry", { ids: selected() }, selectedAs()));
$("sel-prio").replaceWith(Object.assign(prioSelect(selected, selectedAs), { id: "sel-prio" }));
$("sel-clear").addEventListener("click", clearSelection);
// The zone every time is in, named once (again each minute: daylight saving time moves the offset).
function zoneLine() {
  $("zone").textContent = "times in " + zone(Date.now());
  $("zone").title = $("zone").textContent + ": every time on this page is this browser's local time, in this zone (simq ls and simq show give each time with its offset from UTC)";
}
setInterval(() => {
  moveBars();
  banner();
  eta();
  if (new Date().getSeconds() === 0) zoneLine();
  if (!$("message").hidden && Date.now() - state.saidAt >= SAY_FOR) hideMessage();
}, 1000);
zoneLine();
connect();
