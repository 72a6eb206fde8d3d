// simq's dashboard: the state from the server's WebSocket (doc/api.md, "The dashboard's WebSocket"),
// drawn as it changes.  The token lives in this page's memory only and goes in a message.
"use strict";

const state = { server: null, seq: 0, logSeq: 0, sections: {}, log: [], token: null, ws: null, ref: 0, chart: null };
const PRIORITIES = ["critical", "high", "normal", "low"];
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c === undefined || c === null ? "" : String(c)));
  return e;
}

function table(head, rows) {
  return el("table", {}, el("tr", {}, ...head.map((h) => el("th", {}, h))), ...rows);
}

function clock(ms) { return ms ? new Date(ms).toLocaleTimeString() : ""; }
function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 60 ? s + "s" : s < 3600 ? Math.floor(s / 60) + "m" : Math.floor(s / 3600) + "h" + Math.floor((s % 3600) / 60) + "m";
}
function vars(v) { return Object.entries(v || {}).map(([k, x]) => k + "=" + JSON.stringify(x)).join(" "); }
function pct(x) { return x === null || x === undefined ? "–" : (100 * x).toFixed(1) + " %"; }

function act(action, extra) {
  if (!state.ws) return;
  state.ws.send(JSON.stringify(Object.assign({ action, ref: ++state.ref }, extra || {})));
}

function rowActions(id) {
  const prio = el("select", { class: "row-act", "aria-label": "priority" }, el("option", { value: "" }, "prio…"),
    ...PRIORITIES.map((p) => el("option", { value: p }, p)));
  prio.addEventListener("change", () => { if (prio.value) act("reprioritize", { ids: [id], priority: prio.value }); });
  return el("span", {}, el("button", { class: "row-act", type: "button", onclick: () => act("cancel", { ids: [id] }) }, "cancel"), prio);
}

const draw = {
  queue(q) {
    $("queue-total").textContent = q.total + " · " + PRIORITIES.map((p) => p[0].toUpperCase() + ":" + q.counts[p]).join(" ");
    const rows = [];
    for (const p of PRIORITIES) for (const t of q.rows[p]) {
      rows.push(el("tr", { "data-id": t.id }, el("td", {}, t.position + 1), el("td", {}, t.id), el("td", { class: p }, p),
        el("td", {}, t.name || t.model), el("td", {}, vars(t.vars)), el("td", {}, ago(t.submitted)), el("td", {}, rowActions(t.id))));
      if (q.counts[p] > q.rows[p].length && t === q.rows[p][q.rows[p].length - 1])
        rows.push(el("tr", {}, el("td", { colspan: "7" }, "… " + (q.counts[p] - q.rows[p].length) + " more " + p)));
    }
    $("queue").replaceChildren(table(["pos", "id", "priority", "name / model", "vars", "age", ""], rows));
  },
  running(r) {
    $("running-count").textContent = r.count;
    const rows = r.calls.map((c) => {
      const frac = c.estimate > 0 ? Math.min(0.99, (Date.now() - c.started) / 1000 / c.estimate) : 0;
      return el("tr", {}, el("td", {}, c.ids.length > 1 ? c.ids[0] + "…(" + c.ids.length + ")" : c.ids[0]), el("td", { class: c.priority }, c.priority),
        el("td", {}, c.name || c.model), el("td", {}, c.backend), el("td", {}, el("span", { class: "bar" }, el("span", { "data-started": c.started, "data-estimate": c.estimate }))),
        el("td", {}, c.estimate > 0 ? "~" + Math.round(frac * 100) + "% est." : "no estimate yet"));
    });
    for (const t of r.retries)
      rows.push(el("tr", {}, el("td", {}, t.id), el("td", { class: t.priority }, t.priority), el("td", {}, t.name || t.model), el("td", {}, ""),
        el("td", {}, "retry " + t.retry + "/" + t.max_retries + " at " + clock(t.due)), el("td", { class: "error" }, t.error)));
    $("running").replaceChildren(table(["id", "priority", "name / model", "backend", "progress", ""], rows));
    moveBars();
  },
  backends(list) {
    $("backends-line").replaceChildren(...list.map((b) => el("span", { class: b.up ? "up" : "down" }, (b.up ? "● " : "○ ") + b.name + " ")));
    $("backends").replaceChildren(...list.map((b) => el("div", {},
      el("h3", { class: b.up ? "up" : "down" }, b.name + (b.up ? " UP" : " DOWN") + " " + b.busy + "/" + b.slots + (b.paused ? " paused" : "")),
      el("div", {}, b.url + (b.up ? "" : b.probe_at ? " · next probe " + clock(b.probe_at) : "")),
      table(["time", "", "why"], b.history.map((h) => el("tr", {}, el("td", {}, clock(h.time)),
        el("td", { class: h.up ? "up" : "down" }, h.up ? "UP" : "DOWN"), el("td", {}, h.detail)))))));
  },
  stats(s) {
    const w = s.windows[$("window").value];
    const rows = [["completed", w.completed_first + " first try, " + w.completed_retry + " after retry"], ["failed", w.failed],
      ["cancelled", w.cancelled], ["cached", w.cached], ["success", pct(w.success_rate)], ["retry effectiveness", pct(w.retry_effectiveness)],
      ["retries per failed", w.avg_retries_per_failed === null ? "–" : w.avg_retries_per_failed.toFixed(2)],
      ["mean batch", s.mean_batch.toFixed(1)], ["dispatch", s.paused ? "paused " + s.pause_reason : "running"]];
    $("stats").replaceChildren(table(["", ""], rows.map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v)))));
  },
  throughput(t) {
    if (typeof Chart === "undefined") return;
    const labels = t.per_hour.map((_, i) => new Date(t.minute - (23 - i) * 3600000).getHours() + "h");
    if (!state.chart) {
      state.chart = new Chart($("throughput"), { type: "bar", data: { labels, datasets: [{ label: "tasks finished per hour", data: t.per_hour }] },
        options: { animation: false, plugins: { legend: { display: false } } } });
    } else {
      state.chart.data.labels = labels;
      state.chart.data.datasets[0].data = t.per_hour;
      state.chart.update();
    }
  },
  failures(list) {
    $("failures").replaceChildren(table(["finished", "id", "priority", "name / model", "attempts", "error", ""], list.map((f) =>
      el("tr", { "data-id": f.id }, el("td", {}, clock(f.finished)), el("td", {}, f.id), el("td", { class: f.priority }, f.priority),
        el("td", {}, f.name || f.model), el("td", {}, f.attempts), el("td", { class: "error" }, f.error),
        el("td", {}, el("button", { class: "row-act", type: "button", onclick: () => act("retry", { ids: [f.id] }) }, "retry"))))));
  },
};

function moveBars() {
  for (const b of document.querySelectorAll("[data-started]")) {
    const est = Number(b.dataset.estimate), frac = est > 0 ? Math.min(0.99, (Date.now() - Number(b.dataset.started)) / 1000 / est) : 0;
    b.style.width = (100 * frac).toFixed(1) + "%";
  }
}

function addLog(lines) {
  const box = $("log");
  for (const l of lines) {
    if (l.seq <= state.logSeq) continue;
    state.logSeq = l.seq;
    box.append(el("div", { class: "sev-" + l.severity }, clock(l.time) + " " + (l.task ? l.task + " " : "") + l.text));
  }
  while (box.childElementCount > 500) box.firstElementChild.remove();
  box.scrollTop = box.scrollHeight;
}

function apply(m) {
  for (const name of Object.keys(draw)) {
    if (m[name] !== undefined && m[name] !== null) {
      state.sections[name] = m[name];
      draw[name](m[name]);
    }
  }
  addLog(m.log || []);
  state.seq = m.seq;
}

function onMessage(ev) {
  const m = JSON.parse(ev.data);
  if (m.type === "welcome") {
    if (state.server !== m.server) { state.logSeq = 0; $("log").replaceChildren(); }
    state.server = m.server;
    document.body.classList.toggle("unlocked", !m.read_only);
    $("auth-state").textContent = m.read_only ? "read-only" : "actions allowed";
  } else if (m.type === "snapshot") {
    apply(m);
  } else if (m.type === "update") {
    if (m.seq === state.seq + 1) apply(m);
    else if (m.seq > state.seq + 1 && state.ws) state.ws.close(); // a gap: reconnect and catch up
  } else if (m.type === "auth") {
    document.body.classList.toggle("unlocked", m.ok);
    $("auth-state").textContent = m.ok ? "actions allowed" : m.error;
  } else if (m.type === "reply") {
    const bad = m.ok ? (Array.isArray(m.results) ? m.results.filter((r) => r.done === false).map((r) => r.reason) : []) : [m.error];
    $("message").textContent = m.action + ": " + (bad.length ? bad.join("; ") : "done");
  } else if (m.type === "error") {
    $("message").textContent = m.error;
  }
}

function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  state.ws = ws;
  ws.onopen = () => {
    const first = {};
    if (state.token) first.auth = state.token;
    if (state.server) first.resume = { server: state.server, seq: state.seq };
    ws.send(JSON.stringify(first));
    $("status").textContent = "live";
    $("status").className = "status live";
  };
  ws.onmessage = onMessage;
  ws.onclose = () => {
    state.ws = null;
    $("status").textContent = "connection lost; reconnecting…";
    $("status").className = "status lost";
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
$("pause").addEventListener("click", () => act("pause"));
$("resume").addEventListener("click", () => act("resume"));
setInterval(moveBars, 1000);
connect();
