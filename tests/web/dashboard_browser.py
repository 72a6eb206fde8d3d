# The dashboard in a headless Chromium against a real server and plecs-emu: python3
# dashboard_browser.py OUT_DIR.  Prints TAP, one line per check; screenshots go to OUT_DIR.
# Environment: DASH_PORT, SIMQ_HOME, SIMQ (the program), MODELS (share/models), EMU_URL, EMU_PORT.
import datetime, json, os, re, sqlite3, subprocess, sys, time, traceback
import xmlrpc.client

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from api import proxy  # noqa: E402
from cdp import Browser  # noqa: E402

OUT = sys.argv[1]
PORT = int(os.environ["DASH_PORT"])
HOME = os.environ["SIMQ_HOME"]
SIMQ = os.environ["SIMQ"]
RC = os.path.join(os.environ["MODELS"], "rc.plecs")
BUCK = os.path.join(os.environ["MODELS"], "buck.plecs")
EMU = xmlrpc.client.ServerProxy(os.environ["EMU_URL"])
PAGE = "http://127.0.0.1:%d/" % PORT
# The browser is a team lead's in Tokyo (the server's clock is UTC): the page gives every time in the browser's zone.
ZONE, JST = "Asia/Tokyo", datetime.timezone(datetime.timedelta(hours=9))
api = proxy(os.path.join(HOME, "simq.sock")).simq


def simq(*args):
    return subprocess.run([SIMQ] + list(args), check=True, capture_output=True, text=True).stdout


def token():
    with open(os.path.join(HOME, "token")) as f:
        return f.read().strip()


def q(s):
    return json.dumps(s)


def jst(iso):
    """An API time (ISO 8601) as the page in Tokyo must show it: 00:28:53 today there, else "Nov 28 00:28:53"; and in full."""
    d = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(JST)
    today = datetime.datetime.now(JST).date() == d.date()
    return (d.strftime("%H:%M:%S") if today else "%s %d %s" % (d.strftime("%b"), d.day, d.strftime("%H:%M:%S")),
            d.strftime("%Y-%m-%d %H:%M:%S") + " UTC+09:00 (%s)" % ZONE)


def visible(selector):
    """JavaScript: whether the first element selector matches is shown (rendered with a size)."""
    return "(() => { const e = document.querySelector(%s); return !!e && e.getClientRects().length > 0; })()" % q(selector)


def text_of(selector):
    return "((document.querySelector(%s) || {}).textContent || '')" % q(selector)


b = None
ids = {}

# JavaScript: what is wrong with the header — another height than the one line it had (height), a part outside it,
# a part cut ("…") without its whole text in its title.
HEADER = ("((height) => { const h = document.querySelector('header'), box = h.getBoundingClientRect(), bad = [];"
          " if (height && Math.abs(box.height - height) > 0.5) bad.push('height ' + box.height + ', was ' + height);"
          " for (const e of h.querySelectorAll('*')) { const r = e.getBoundingClientRect();"
          "  if (!r.width) continue;"
          "  if (r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5 || r.right > box.right + 0.5 || r.left < box.left - 0.5)"
          "   bad.push((e.id || e.tagName) + ' outside the header');"
          "  if (e.scrollWidth > e.clientWidth + 1 && !(e.title || '').includes(e.textContent))"
          "   bad.push((e.id || e.tagName) + ' cut without its words in a title: ' + e.textContent); }"
          " return bad; })(%s)")


def header_ok(state):
    """The header is one line of the height it had at first, nothing outside it or cut without a title."""
    bad = b.js(HEADER % ids.get("header", 0))
    assert not bad, "the header %s: %s" % (state, bad)


def confirm(expect=None):
    """Answers the page's question with its first button; the question's text.  expect: words it must hold."""
    b.wait("document.getElementById('confirm').open", 5, "the page asking first")
    question = b.js(text_of("#confirm-text"))
    for words in expect or []:
        assert words in question, "the question %r does not say %r" % (question, words)
    b.click("#confirm-yes")
    b.wait("!document.getElementById('confirm').open", 5, "the question answered")
    return question


def case_loads():
    """the page loads, connects and draws the snapshot"""
    b.goto(PAGE)
    b.wait("document.getElementById('status').textContent === 'live'", 10, "the page going live")
    b.wait(text_of("#backends") + ".includes('emu UP')", 5, "the backend drawn")
    b.wait(text_of("#queue") + ".includes('the queue is empty')", 5, "the empty queue drawn")
    assert b.js("typeof Chart") == "function", "Chart.js did not load"
    assert b.js("!!Chart.getChart(document.getElementById('throughput'))"), "no throughput chart"
    assert b.js(text_of("#auth-state")) == "read-only"
    assert b.js(text_of("#zone")) == "times in UTC+09:00 (%s)" % ZONE, b.js(text_of("#zone"))
    header_ok("read-only")
    ids["header"] = b.js("document.querySelector('header').getBoundingClientRect().height")
    assert ids["header"] < 40, "the header is %s px high: more than a line" % ids["header"]
    assert not b.js(visible("#dispatch")), "Pause is shown without the token"


def case_submit():
    """a task submitted by the CLI appears in the queue within 1 s"""
    t0 = time.monotonic()
    out = simq("submit", RC, "-p", "critical", "--name", "seen-in-browser", "-v", "R=47")
    tid = int(re.search(r"\d+", out).group())
    b.wait(visible('#queue tr[data-id="%d"]' % tid), 5, "the task in the page's queue")
    took = time.monotonic() - t0
    row = b.js(text_of('#queue tr[data-id="%d"]' % tid))
    assert "seen-in-browser" in row and "critical" in row and "R=47" in row, row
    assert took < 1.0, "the task reached the page %.2f s after the CLI started" % took
    ids["seen"] = tid
    return "%.3f s" % took


def case_refused():
    """without the token an action is refused: no buttons, a wrong token is told so, the page's socket is refused"""
    tid = ids["seen"]
    assert not b.js(visible('#queue tr[data-id="%d"] button.row-act' % tid)), "a cancel button without the token"
    b.type_into("#token", "not-the-token")
    b.click("#auth-form button")
    b.wait(text_of("#auth-state") + ".includes('wrong token')", 5, "the page saying the token is wrong")
    assert not b.js("document.body.classList.contains('unlocked')")
    assert b.js("document.getElementById('token').value") == "", "the token stays in the input box"
    # What a page that showed the button anyway would send, through the page's own WebSocket.
    b.js("act('cancel', { ids: [%d] })" % tid)
    b.wait(text_of("#message-text") + ".includes('read-only')", 5, "the refusal shown")
    assert api.get(tid)["state"] == "queued", "a refused cancel changed the task"
    return b.js(text_of("#message-text"))


def case_cancel():
    """with the token, the row's cancel button cancels the task"""
    tid = ids["seen"]
    b.type_into("#token", token())
    b.click("#auth-form button")
    b.wait("document.body.classList.contains('unlocked')", 5, "the page unlocking")
    assert b.js(text_of("#auth-state")) == "actions allowed"
    assert b.js("document.cookie") == "" and "token" not in b.js("location.href"), "the token left page memory"
    b.click('#queue tr[data-id="%d"] button.row-act' % tid)
    b.wait("document.getElementById('confirm').open", 5, "the page asking first")
    assert api.get(tid)["state"] == "queued", "cancelled before the question was answered"
    b.click("#confirm-no")
    b.wait("!document.getElementById('confirm').open", 5, "Keep closing the question")
    assert api.get(tid)["state"] == "queued", "Keep cancelled the task"
    b.click('#queue tr[data-id="%d"] button.row-act' % tid)
    question = confirm(["Cancel task %d (seen-in-browser · R=47)?" % tid])
    assert b.js(text_of("#confirm-yes")) == "Cancel it"
    b.wait(text_of("#message-text") + " === 'cancel %d: cancelled'" % tid, 5, "the page saying the task was cancelled")
    b.wait("!document.querySelector('#queue tr[data-id=\"%d\"]')" % tid, 5, "the row leaving the queue")
    assert api.get(tid)["state"] == "cancelled", api.get(tid)
    return question


def case_bulk():
    """two queued tasks ticked and cancelled at once: the question names both ids, both are cancelled"""
    out = simq("sweep", RC, "R=10,20", "-p", "low", "--name", "bulk-pair")
    two = [t["id"] for t in api.list({"name": "bulk-pair"}, 0, 10)["tasks"]]
    assert len(two) == 2, out
    for tid in two:
        b.wait(visible('#queue tr[data-id="%d"] input.sel' % tid), 5, "task %d in the queue" % tid)
        b.click('#queue tr[data-id="%d"] input.sel' % tid)
    b.wait(visible("#selection") + " && " + text_of("#selection-text") + ".startsWith('2 tasks selected')", 5,
           "the selection bar")
    b.click("#sel-cancel")
    question = confirm(["Cancel 2 tasks: ", "task %d (bulk-pair" % two[0], "task %d (bulk-pair" % two[1]])
    b.wait(text_of("#message-text") + " === 'cancel %d: cancelled · cancel %d: cancelled'" % tuple(two), 5,
           "the page saying both were cancelled")
    assert [api.get(t)["state"] for t in two] == ["cancelled"] * 2
    assert not b.js(visible("#selection")), "the selection stayed after the action"
    return question


def case_failure():
    """a task PLECS fails shows among the failures with its full error"""
    EMU.emu.inject("fault", 1)
    tid = int(re.search(r"\d+", simq("submit", RC, "-p", "critical", "--name", "doomed")).group())
    b.click("#dispatch")
    confirm(["Resume dispatch?"])
    b.wait(text_of("#message-text") + " === 'dispatch running'", 5, "the page resuming dispatch")
    row = '#failures tr[data-id="%d"]' % tid
    b.wait(visible(row), 30, "the failure in the page")
    error = api.get(tid)["error"]
    shown = b.js(text_of(row + " td.error"))
    assert error and shown == error, "the page shows %r, the task's error is %r" % (shown, error)
    assert "doomed" in b.js(text_of(row)) and "critical" in b.js(text_of(row))
    # Its time in the browser's zone, in full (date, time, zone) in the tooltip.
    shown_at, title = b.js(text_of(row + " td.finished")), b.js("document.querySelector(%s).title" % q(row + " td.finished time"))
    assert (shown_at, title) == jst(api.get(tid)["finished"]), ((shown_at, title), api.get(tid)["finished"])
    b.wait(visible('#log .sev-error[data-task="%d"]' % tid), 5,
           "the failure's line in the log, as an error")
    ids["doomed"] = tid
    return shown


def case_retry():
    """retrying a failure says the new id and marks the row; retrying it again says it was retried already (the server's answer, per id)"""
    tid = ids["doomed"]
    row = '#failures tr[data-id="%d"]' % tid
    layout = b.js("document.querySelector('main').offsetTop")
    b.click(row + " button.row-act")
    confirm(["Retry task %d (doomed · failed " % tid])
    b.wait(text_of("#message-text") + ".startsWith('retry %d: retried as ')" % tid, 5, "the page naming the copy")
    first = b.js(text_of("#message-text"))
    copy = int(first.rsplit(" ", 1)[1])
    assert api.get(copy)["origin"] == tid, api.get(copy)
    assert b.js("document.querySelector('main').offsetTop") == layout, "the answer moved the page"
    b.js("document.getElementById('message-text').textContent = ''")
    # The failure now says so, with no live retry button; retried again (ticked), the server says "already".
    b.wait(text_of(row) + ".includes('retried as %d')" % copy, 5, "the failure marked as retried")
    assert not b.js(visible(row + " button.row-act")), "a retried failure keeps its retry button: " + b.js("document.querySelector(%s).innerHTML" % q(row))
    b.click(row + " input.sel")
    b.click("#sel-retry")
    confirm(["Retry task %d (doomed" % tid])
    b.wait(text_of("#message-text") + ".startsWith('retry %d: already retried as %d')" % (tid, copy), 5,
           "the page saying it was retried already")
    named = api.list({"name": "doomed"}, 0, 10)["total"]
    assert named == 2, "%d tasks named doomed: the second retry made another copy" % named
    return first + " / " + b.js(text_of("#message-text"))


def night():
    """A compressed night like ./quickstart demo's: a LOW sweep, a CRITICAL check, licences out,
    a corner check with one impossible duty cycle, PLECS away for a while and back."""
    simq("sweep", BUCK, "D=0.1:0.8:0.1", "L=1e-3,2e-3,3e-3,4e-3,5e-3", "-p", "low", "--name", "overnight")
    simq("submit", BUCK, "-p", "critical", "-v", "D=0.42", "--name", "design-verify")
    EMU.emu.inject("license", 2)
    simq("sweep", BUCK, "D=0.3,0.6,0.9,1.5", "-p", "high", "--name", "corner-check")
    simq("submit", BUCK, "-p", "low", "-v", "D=0.35", "-v", "L=0.005", "-v", "Vin=400", "-v", "fsw=20000",
         "--name", "corner-check-long-vars")


# JavaScript: every panel, its scrolling box, the header and the dock that is wider than it shows.
OVERFLOWING = ("[...document.querySelectorAll('header, main > section, main > section > div, #dock > div')]"
               ".filter((e) => e.getClientRects().length && e.scrollWidth > e.clientWidth + 1)"
               ".map((e) => (e.id || e.className || e.tagName) + ' ' + e.scrollWidth + '>' + e.clientWidth)")


# JavaScript: a row's buttons, progress words, vars or ids that reach past its panel's edge.
CUT = ("[...document.querySelectorAll('main .row-act, main td.progress .elapsed, main td.vars, main td.num')].filter((e) => {"
       " const r = e.getBoundingClientRect(), box = e.closest('section').getBoundingClientRect();"
       " return r.width && (r.right > box.right + 1 || r.left < box.left - 1); }).map((e) => e.outerHTML.slice(0, 80))")


def case_night():
    """a night like the demo's: the corner check's failure, completions in the throughput chart, a call running; a screenshot"""
    night()
    b.wait("[...document.querySelectorAll('#failures td')].some((e) => e.textContent === 'corner-check')", 60,
           "the corner check's failure")
    b.wait("(Chart.getChart(document.getElementById('throughput')).data.datasets[0].data.at(-1) || 0) >= 8", 60,
           "eight tasks finished in the throughput chart")
    b.wait(visible("#running tr[data-id]"), 30, "a running call")
    b.wait("[...document.querySelectorAll('#queue td.vars')].some((e) => e.textContent.includes('fsw=20000'))", 30,
           "the task with four vars in the queue")
    b.js("document.activeElement.blur(); window.scrollTo(0, 0)")
    # Nothing cut at 1280x800: no panel is wider inside than it shows, every row's buttons within it.
    assert b.js("innerWidth") == 1280 and b.js("innerHeight") == 800, (b.js("innerWidth"), b.js("innerHeight"))
    wide = b.js(OVERFLOWING)
    assert not wide, "panels wider than they show at 1280x800: %s" % wide
    cut = b.js(CUT)
    assert not cut, "cut at the panel's edge: %s" % cut
    path = os.path.join(OUT, "dashboard-night.png")
    b.screenshot(path)
    return "screenshot (1280x800, the night running): %s" % path


def case_sweep():
    """the sweep chart: the overnight sweep's mean against D, a line per L, as the store has them; screenshots kept"""
    b.wait("[...document.querySelectorAll('#sweep-name option')].some((o) => o.value === 'name:overnight')", 30,
           "the overnight sweep offered")
    b.select("#sweep-name", "name:overnight")
    b.wait("document.getElementById('sweep-by').value === 'D'", 10, "the chart against D")
    end = time.monotonic() + 60
    while api.list({"state": "completed", "name": "overnight"}, 0, 1)["total"] < 24 and time.monotonic() < end:
        time.sleep(0.1)
    # Dispatch paused from the page, so that the sweep holds still while the chart is compared.
    b.click("#dispatch")
    confirm(["Pause dispatch?"])
    b.wait(text_of("#message-text") + " === 'dispatch paused'", 5, "the page pausing dispatch")
    end = time.monotonic() + 60
    while api.stats()["running"] and time.monotonic() < end:
        time.sleep(0.05)
    done = [t for t in api.list({"state": "completed", "name": "overnight"}, 0, 1000)["tasks"]]
    assert done, "no overnight task completed"
    b.select("#sweep-summary", "mean")
    b.wait("(() => { const c = Chart.getChart(document.getElementById('sweep'));"
           " return c && c.options.scales.y.title.text === 'mean of sig1' &&"
           " c.data.datasets.reduce((n, d) => n + d.data.length, 0) === %d; })()" % len(done), 10,
           "the chart of the mean over the %d completed tasks" % len(done))
    chart = b.js("Chart.getChart(document.getElementById('sweep')).data.datasets.map((d) => ({label: d.label, data: d.data}))")
    points = {p["id"]: (d["label"], p["x"], p["y"]) for d in chart for p in d["data"]}
    for t in done:
        full = api.get(t["id"])
        want = (json.dumps(full["vars"]["L"]).join(["L=", ""]), full["vars"]["D"], full["result"]["summary"]["sig1"]["mean"])
        assert points.get(t["id"]) == want, (t["id"], points.get(t["id"]), want)
    assert len(points) == len(done), (len(points), len(done))
    assert all(d["label"].startswith("L=") for d in chart) and len(chart) >= 2, [d["label"] for d in chart]
    b.select("#sweep-by", "L")
    b.wait("Chart.getChart(document.getElementById('sweep')).options.scales.x.title.text === 'L'", 10, "the chart against L")
    # Axis numbers in their shortest form; the series' list scrolls rather than overflows; the sweep's whole name.
    b.wait("Chart.getChart(document.getElementById('sweep')).data.datasets.length >= 4", 10, "a series per D")
    ticks = b.js("(() => { const c = Chart.getChart(document.getElementById('sweep')); return c.scales.x.ticks.map((t) => t.label); })()")
    assert ticks and all(re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", t) and "0000" not in t for t in ticks), ticks
    n = b.js("Chart.getChart(document.getElementById('sweep')).data.datasets.length")
    assert b.js("document.querySelectorAll('#sweep-legend .series').length") == n
    assert not b.js(OVERFLOWING), b.js(OVERFLOWING)
    assert b.js("document.getElementById('sweep-name').title").startswith("overnight · "), b.js("document.getElementById('sweep-name').title")
    b.select("#sweep-by", "D")
    b.select("#sweep-summary", "final")
    b.wait("Chart.getChart(document.getElementById('sweep')).options.scales.y.title.text === 'final value of sig1'", 10,
           "the chart of the final value")
    b.js("document.activeElement.blur(); window.scrollTo(0, 0)")
    path = os.path.join(OUT, "dashboard-night-full.png")
    b.screenshot_full(path)
    return "%d points in %d series; screenshot (the whole page, paused): %s" % (len(points), len(chart), path)


def ranges(ids):
    """"11-14, 20" as the page writes a set of ids (at most 12 pieces here)."""
    s, parts, i = sorted(set(ids)), [], 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[j] + 1:
            j += 1
        parts.append("%d-%d" % (s[i], s[j]) if j > i else str(s[i]))
        i = j + 1
    assert len(parts) <= 12, parts
    return ", ".join(parts)


def case_select_all():
    """select all: every queued task of a priority (the server's ids, not the rows shown), and a sweep of 300 cancelled in one action whose question names the count and ranges; one backend paused and resumed from Backends"""
    for d in (0.2, 0.3):  # another model: never in a call with the hung task of case_hung
        simq("submit", BUCK, "-p", "high", "--name", "other-high", "-v", "D=%g" % d, "--no-cache")
    simq("sweep", RC, "R=1:300:1", "-p", "high", "--name", "big300", "--no-cache")
    big = sorted(t["id"] for t in api.list({"name": "big300"}, 0, 1000)["tasks"])
    high = sorted(t["id"] for t in api.list({"state": "queued"}, 0, 1000)["tasks"] if t["priority"] == "high")
    assert len(big) == 300 and len(high) == 302, (len(big), len(high))
    # The priority's "more" row offers all of them: the page asks the server for the ids.
    offer = "#queue tr.more .offer[data-select=priority]"
    b.wait(text_of(offer) + " === 'select all 302 queued high'", 10, "the offer to select every queued high task")
    b.click(offer)
    b.wait(text_of("#selection-text") + ".startsWith('302 tasks selected: ')", 5, "the 302 selected")
    assert b.js("[...state.selected.keys()].sort((a, b) => a - b)") == high
    b.click("#sel-clear")
    b.wait("!" + visible("#selection"), 5, "the selection cleared")
    # A row of the sweep ticked: the dock offers the whole sweep, counted by the server.
    b.click('#queue tr[data-id="%d"] input.sel' % big[0])
    offer = "#sel-offers .offer[data-select=sweep]"
    b.wait(text_of(offer) + " === 'select all 300 of sweep big300'", 5, "the offer to select the whole sweep")
    b.click(offer)
    b.wait(text_of("#selection-text") + ".startsWith('300 tasks selected: ')", 5, "the sweep's 300 selected")
    b.js("document.activeElement.blur(); window.scrollTo(0, 0)")
    shot = os.path.join(OUT, "dashboard-select.png")
    b.screenshot(shot)
    b.click("#sel-cancel")
    question = confirm(["Cancel 300 tasks: %s (all 300 queued of sweep big300)?" % ranges(big)])
    b.wait(text_of("#message-text") + " === 'cancel of 300 tasks: 300 cancelled (%s)'" % ranges(big), 10,
           "the page saying the 300 were cancelled in one answer")
    states = {t["state"] for t in api.list({"name": "big300"}, 0, 1000)["tasks"]}
    assert states == {"cancelled"}, states
    assert [api.get(i)["state"] for i in high if i not in big] == ["queued", "queued"]
    # What the server says to a select it cannot do, through the page's own socket.
    b.js("askSelect({ sweep: { tag: 'x' } }, 'of tag x')")
    b.wait(text_of("#message-text") + ".startsWith('\"sweep\": allowed with select: {\"name\": NAME}')", 5, "a bad select refused")
    # One backend taken out and back from its panel.
    pause = '#backends button.backend-act[data-backend="emu"]'
    b.click(pause)
    confirm(["Pause backend emu? "])
    b.wait(text_of("#message-text") + " === 'backend emu paused'", 5, "the page saying emu is paused")
    assert [x["paused"] for x in api.status()["backends"] if x["name"] == "emu"] == [True], api.status()["backends"]
    b.wait(text_of("#backends h3") + ".includes('· paused')" + " && " + text_of(pause) + " === 'Resume'", 5, "emu drawn paused")
    b.wait(text_of("#banner") + ".includes('Every UP backend is paused (emu)')", 5, "the banner saying every UP backend is paused")
    b.click(pause)
    confirm(["Resume backend emu?"])
    b.wait(text_of("#message-text") + " === 'backend emu running'", 5, "the page saying emu runs again")
    assert [x["paused"] for x in api.status()["backends"] if x["name"] == "emu"] == [False], api.status()["backends"]
    return "%s; screenshot: %s" % (question, shot)


def case_hung():
    """a hung call of four shows its elapsed time, "overdue by" past its estimate, a warning colour past half its timeout, nothing cut; cancelled from its row, it says PLECS still holds the slot until its call_timeout, with no cancel; a banner says nothing can start; then due retries while paused wait for Resume, and the answer strip clears after 30 s"""
    EMU.emu.inject("hang", 1)
    simq("sweep", RC, "R=5:8:1", "-p", "critical", "--name", "hung-call-of-four-with-a-long-name", "--no-cache")
    four = sorted(t["id"] for t in api.list({"name": "hung-call-of-four-with-a-long-name"}, 0, 10)["tasks"])
    tid = four[0]
    b.click("#dispatch")
    confirm(["Resume dispatch?"])
    row = '#running tr[data-id="%s"]' % " ".join(map(str, four))
    b.wait(visible(row), 10, "the hung call of four in Running")
    assert api.get(tid)["state"] == "running"
    b.wait(text_of(row + " .elapsed") + ".startsWith('overdue by ')", 15, "the call said overdue")
    b.wait(visible(row + " td.progress.late"), 15, "the call past half its timeout in a warning colour")
    said = b.js(text_of(row + " .elapsed"))
    # The one slot held by a call past half its timeout: nothing can start, and the banner says so.
    b.wait(text_of("#banner") + ".includes('Nothing can start: every slot is held by a call that is overdue or cancelled — %d +3 on emu overdue by ')" % tid,
           5, "the held-slots banner")
    b.wait(text_of("#queue-eta") + " === 'ETA — every slot held'", 5, "the queue's ETA saying every slot is held")
    # At 1280x800 the call's row is whole: its ids, its long name, "overdue by …", its cancel button.
    b.js("document.activeElement.blur(); window.scrollTo(0, 0)")
    wide, cut = b.js(OVERFLOWING), b.js(CUT)
    assert not wide and not cut, "Running at 1280x800: wider than it shows %s, cut %s" % (wide, cut)
    assert b.js(visible(row + " button.row-act")), "no cancel on the hung call"
    path = os.path.join(OUT, "dashboard-hung.png")
    b.screenshot(path)
    b.click(row + " button.row-act")
    confirm(["Cancel 4 tasks: task %d (hung-call-of-four-with-a-long-name · in a call of 4)" % tid])
    b.wait(text_of("#message-text") + " === 'cancel of 4 tasks: 4 cancelled (%d-%d)'" % (four[0], four[-1]), 5,
           "the page saying they were cancelled")
    answered = time.monotonic()
    assert {api.get(i)["state"] for i in four} == {"cancelled"}
    # Cancelled, the call stays in PLECS: its row says so with the time its call_timeout frees the slot, and no cancel.
    b.wait(text_of(row + " .elapsed") + ".startsWith('cancelled — PLECS finishes the run; the slot is held until it answers (call_timeout at ')",
           5, "the cancelled call's row")
    shown = b.js(text_of(row + " .elapsed"))
    start = api.get(tid)["started"]
    # The server gives a call's start to the second; the page's call_timeout time is that plus 20 s.
    times = b.js("[-1000, 0, 1000].map((d) => clock(Math.round(Date.parse(%s) / 1000) * 1000 + 20000 + d))" % q(start))
    assert any("(call_timeout at %s)" % t in shown for t in times), (shown, start, times)
    assert not b.js(visible(row + " button.row-act")), "a cancelled call keeps a cancel button"
    assert not b.js(visible(row + " input.sel")), "a cancelled call can be ticked"
    assert "hung-call-of-four" in b.js(text_of(row + " td.name")), "the cancelled call lost its name: " + b.js(text_of(row))
    b.wait(text_of("#banner") + ".includes('Nothing can start: every slot is held by a call that is overdue or cancelled — %d +3 on emu cancelled')" % tid,
           5, "the held-slots banner naming the cancelled call")
    assert "1 cancelled in PLECS" in b.js(text_of("#summary")), b.js(text_of("#summary"))
    cut = b.js(CUT)
    assert not cut, "cut at the panel's edge: %s" % cut
    # PLECS out of licences when the slot frees: the next calls fail and wait to retry.
    EMU.emu.inject("license", 50)
    b.js("document.activeElement.blur(); window.scrollTo(0, 0)")
    held = os.path.join(OUT, "dashboard-held.png")
    b.screenshot(held)
    # At its call_timeout the slot is free again: the row and the banner go.
    b.wait("!document.querySelector(%s)" % q(row), 30, "the cancelled call leaving at its call_timeout")
    b.wait("!" + text_of("#banner") + ".includes('Nothing can start')", 5, "the held-slots banner going")
    b.wait(visible("#running tr.retry"), 15, "a task waiting to retry")
    simq("pause")
    b.wait("[...document.querySelectorAll('#running tr.retry')].some((r) => r.textContent.includes(' due since ') &&"
           " r.textContent.includes(', waiting for Resume'))", 15, "a due retry waiting for Resume")
    waiting = b.js("[...document.querySelectorAll('#running tr.retry .sev-warning')].map((e) => e.textContent)")
    assert not any("waiting for a slot" in w for w in waiting), waiting
    # The answer strip goes by itself 30 s after the answer.
    b.wait("document.getElementById('message').hidden", 40, "the answer strip clearing itself", every=0.2)
    gone = time.monotonic() - answered
    assert 28 <= gone <= 34, "the answer strip cleared %.1f s after the answer" % gone
    return "%s; then %s; %s; the answer strip cleared after %.1f s; screenshots: %s, %s" % (said, shown, waiting[0], gone, path, held)


def case_disconnect():
    """paused: one button says Resume, a banner says so, the tab title has the counts; the server gone: data dimmed and dated, every action disabled; back (every backend DOWN): a banner, the failures still listed"""
    b.wait(text_of("#dispatch") + " === 'Resume dispatch'", 5, "the one dispatch button saying Resume")
    b.wait(visible("#banner") + " && " + text_of("#banner") + ".startsWith('Dispatch is paused')", 5, "the paused banner")
    b.wait("document.title.startsWith('simq · ') && document.title.endsWith(' failed')", 5, "the counts in the tab title")
    shown = b.js("document.title")
    queued = int(re.search(r"· (\d+) queued", shown).group(1))
    assert queued == api.list({"state": "queued"}, 0, 1)["total"], (shown, api.list({"state": "queued"}, 0, 1)["total"])
    assert b.js(text_of("#queue-eta")) == "ETA — paused", b.js(text_of("#queue-eta"))
    failures = b.js("[...document.querySelectorAll('#failures tr[data-id]')].map((r) => Number(r.dataset.id))")
    assert ids["doomed"] in failures, failures
    header_ok("paused, with the token")
    # An answer on the strip, then the server goes: the header says actions are paused, not allowed.
    b.js("act('cancel', { ids: [%d] })" % ids["seen"])
    b.wait(text_of("#message-text") + " === 'cancel %d: already cancelled'" % ids["seen"], 5, "an answer on the strip")
    before = len(b.entries)
    simq("--no-start", "shutdown")
    b.wait(text_of("#status") + ".startsWith('disconnected since ')", 10, "the page saying it is disconnected")
    assert b.js(text_of("#auth-state")) == "actions paused — disconnected", b.js(text_of("#auth-state"))
    header_ok("disconnected")
    said = b.js(text_of("#banner"))
    assert said.startswith("Disconnected since ") and "showing data as of " in said, said
    assert b.js("document.title") == "simq · disconnected", b.js("document.title")
    assert float(b.js("getComputedStyle(document.querySelector('main')).opacity")) < 1, "the data is not dimmed"
    acts = b.js("[...document.querySelectorAll('button.act, .row-act')].map((e) => e.disabled)")
    assert acts and all(acts), "an action stays enabled while disconnected (%d of %d)" % (acts.count(False), len(acts))
    b.js("document.activeElement.blur(); window.scrollTo(0, 0)")
    b.screenshot(os.path.join(OUT, "dashboard-disconnected.png"))
    # A failure of two days ago (moved back in the store while the server is away) shows its date.
    db = sqlite3.connect(os.path.join(HOME, "simq.db"))
    with db:
        db.execute("UPDATE tasks SET finished = finished - 2 * 86400000 WHERE id = ?", (ids["doomed"],))
    db.close()
    # Back, with a PLECS that never answers: every backend DOWN, the night's failures still there (the store's).
    subprocess.run([SIMQ, "server", "-c", os.environ["SIMQ_INI"], "--plecs", "http://127.0.0.1:1/RPC2"], check=True,
                   capture_output=True)
    b.wait(text_of("#status") + " === 'live'", 15, "the page live again")
    b.wait(text_of("#auth-state") + " === 'actions allowed'", 5, "the token sent again")
    assert b.js("document.getElementById('message').hidden"), "the answer from before stays: " + b.js(text_of("#message-text"))
    b.wait(visible("#banner") + " && " + text_of("#banner") + ".includes('Every backend is DOWN')", 30, "the DOWN banner")
    failures = b.js("[...document.querySelectorAll('#failures tr[data-id]')].map((r) => Number(r.dataset.id))")
    assert ids["doomed"] in failures, ("the failures after the restart", failures)
    row = '#failures tr[data-id="%d"] td.finished' % ids["doomed"]
    shown_at, title = b.js(text_of(row)), b.js("document.querySelector(%s).title" % q(row + " time"))
    assert (shown_at, title) == jst(api.get(ids["doomed"])["finished"]) and re.match(r"[A-Z][a-z]{2} \d", shown_at), (shown_at, title)
    acts = b.js("[...document.querySelectorAll('button.act, .row-act')].map((e) => e.disabled)")
    assert not any(acts), "actions stay disabled once live again"
    # Paused and every backend DOWN, the ETA says paused; resumed, that no backend is UP: never a countdown.
    assert b.js(text_of("#queue-eta")) == "ETA — paused", b.js(text_of("#queue-eta"))
    b.click("#dispatch")
    confirm(["Resume dispatch?"])
    b.wait(text_of("#queue-eta") + " === 'ETA — no backend UP'", 5, "the ETA saying no backend is UP")
    header_ok("live again, every backend DOWN")
    b.js("document.activeElement.blur(); window.scrollTo(0, 0)")
    path = os.path.join(OUT, "dashboard-down.png")
    b.screenshot(path)
    # The page's reconnect attempts while the server was away are logged by Chromium as failed
    # WebSocket connections to the server: expected here, and only those.
    away = [e for e in b.entries[before:] if "WebSocket connection to 'ws://127.0.0.1:%d/ws' failed" % PORT in e[2]]
    b.entries[before:] = [e for e in b.entries[before:] if e not in away]
    return "%s; %s; %d reconnect attempts while away; screenshot: %s" % (shown, said, len(away), path)


def case_clean():
    """no console error or warning and no request outside the server in the whole session"""
    problems = b.problems()
    assert not problems, "\n".join(problems)
    outside = [u for u in b.requests if not u.startswith(PAGE)]
    outside += [u for u in b.sockets if u != "ws://127.0.0.1:%d/ws" % PORT]
    assert not outside, "requests outside the server: %s" % outside
    assert len(b.requests) >= 4 and b.sockets, (b.requests, b.sockets)
    return "%d requests, %d WebSocket(s), all to the server" % (len(b.requests), len(b.sockets))


CASES = [case_loads, case_submit, case_refused, case_cancel, case_bulk, case_failure, case_retry, case_night, case_sweep, case_select_all, case_hung, case_disconnect, case_clean]


def main():
    global b
    print("1..%d" % len(CASES))
    failed = 0
    b = Browser(OUT)
    b.call("Emulation.setTimezoneOverride", timezoneId=ZONE)
    try:
        for n, case in enumerate(CASES, 1):
            try:
                note = case()
                print("ok %d - %s" % (n, case.__doc__.splitlines()[0]))
                if note:
                    print("# " + str(note).replace("\n", "\n# "))
            except Exception:
                failed += 1
                print("not ok %d - %s" % (n, case.__doc__.splitlines()[0]))
                print("# " + traceback.format_exc().rstrip().replace("\n", "\n# "))
                try:
                    b.screenshot(os.path.join(OUT, "failed-%d.png" % n))
                except Exception:
                    pass
                if case is case_loads:
                    print("# " + "\n# ".join(b.problems()))
                    print("Bail out! the page did not load")
                    break
            sys.stdout.flush()
    finally:
        b.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
