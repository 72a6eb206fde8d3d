#include "autoconf.h"

#include "config/options.h"

#include <string.h>

#include "util/buf.h"
#include "util/xalloc.h"

#define DAY (24.0 * 3600)

const struct section_def option_sections[] = {
    {.name = "server", .help = "The simq server: where it keeps its state and how clients reach it."},
    {.name = "backend",
     .named = true,
     .example = "local",
     .help = "One PLECS RPC endpoint per [backend NAME] section. With no backend section simq uses "
             "one backend named \"local\" with the values shown, unless a [pool NAME] brings the backends "
             "(then there is no \"local\"); simq server --plecs URL sets one from the command line."},
    {.name = "pool",
     .named = true,
     .example = "cluster",
     .help = "An elastic pool of PLECS instances that Slurm runs (doc/cluster.md): while tasks wait, simq "
             "submits jobs (sbatch) up to max, each of which starts PLECS and registers it as the backend "
             "NAME-JOBID; an instance without work for idle_after while nothing waits is cancelled (scancel), "
             "down to min. A job that vanishes is a DOWN backend: its tasks go back to the queue with no retry "
             "spent, and a replacement is submitted. A restarted server adopts the jobs it finds (squeue)."},
    {.name = "scheduler", .help = "Retries, backoff, the circuit breaker and batching."},
    {.name = "store", .help = "The SQLite database and stored results."},
    {.name = "notify",
     .help = "Hooks: a command run with /bin/sh -c on an event. Task data reaches it only "
             "in SIMQ_* environment variables and as JSON on stdin, never in the command text."},
    {.name = "webhook",
     .named = true,
     .example = "slack",
     .help = "One HTTP receiver of events per [webhook NAME] section, e.g. a Slack incoming webhook. "
             "A POST that meets a connection error or an HTTP 5xx is tried again after 1, 2, 4 and 8 s, "
             "then given up and logged."},
    {.name = "metrics", .help = "Prometheus metrics at GET /metrics; always on the Unix socket."},
    {.name = "dashboard",
     .help = "The web dashboard: one page and a WebSocket, served by the server (off unless listen is set); "
             "simq server prints its URL, e.g. http://127.0.0.1:7361/. "
             "Read-only until the token is typed into the page: [server] token, else the file token in the "
             "state directory (cat ~/.local/state/simq/token, or $SIMQ_HOME/token); with it, cancel, "
             "reprioritize, retry, pause and resume, each asked first. From another machine, forward the "
             "port over SSH (ssh -L 7361:127.0.0.1:7361 HOST, then open http://127.0.0.1:7361/) rather than "
             "listen on 0.0.0.0, which sends the token unencrypted; a TLS reverse proxy in front needs its "
             "https:// origin in allowed_origins."},
    {.name = "proxy",
     .help = "simq answers PLECS's own RPC (plecs.load, plecs.simulate, plecs.close) at "
             "http://ADDRESS:PORT/RPC2 (off unless listen is set), so a script written for PLECS points at simq "
             "instead and each case of its plecs.simulate calls becomes a task: queued, batched with other "
             "clients' cases, retried, shown in the console, answered in PLECS's own shapes. "
             "/RPC2/critical, /RPC2/high, /RPC2/normal and /RPC2/low give that priority. On a loopback "
             "address no token; on any other clients send the token as for [server] listen "
             "(http://simq:TOKEN@HOST:PORT/RPC2)."},
    {.name = "ui", .help = "The console."},
    {.name = "keys",
     .help = "Console key bindings: action = key, key, ... A key is a character, C-x for "
             "Control-x, or one of Up Down Left Right PgUp PgDn Home End Enter Tab BTab Space Esc "
             "Backspace Delete Insert Comma F1..F12."},
};
const size_t option_section_count = sizeof option_sections / sizeof option_sections[0];

#define EVENT_NAMES                                                                                                    \
	"all|submitted|started|completed|attempt_failed|failed|cancelled|reprioritized|backend_down|"                  \
	"backend_up|queue_drained|paused"

#define KEY(action, keys, text)                                                                                        \
	{                                                                                                              \
		.section = "keys", .key = action, .type = OPT_KEYS, .def = keys, .flags = OPT_NONEMPTY, .help = text   \
	}
#define HOOK(event, text)                                                                                              \
	{                                                                                                              \
		.section = "notify", .key = "on_" event, .type = OPT_COMMAND, .def = "",                                 \
		.help = "Run /bin/sh -c COMMAND when " text "; the task's data is in SIMQ_* variables and as JSON on "  \
			"stdin. Quote a command that holds ; or #. Every quote in it must be closed (checked when the " \
			"file is read)."                                                                                \
	}

const struct option_def option_table[] = {
    {"server", "state_dir", OPT_PATH, "",
     .help = "Directory for the database, the socket, results and "
             "simulation.log. Empty: $SIMQ_HOME, else $XDG_STATE_HOME/simq (~/.local/state/simq). "
             "simq server --state DIR, and --home DIR of the other commands, override it."},
    {"server", "socket", OPT_PATH, "simq.sock", .flags = OPT_NONEMPTY,
     .help = "The API's Unix socket, relative to the state dir unless absolute. Its whole path must fit a "
             "Unix socket (107 bytes); simq config --check measures it."},
    {"server", "listen", OPT_ADDRESS, "",
     .help = "Also serve the API over TCP on this address "
             "(e.g. 127.0.0.1). Empty: Unix socket only. TCP clients must send the token."},
    {"server", "port", OPT_INT, "7360", 1, 65535, .help = "TCP port used with listen."},
    {"server", "token", OPT_STRING, "", 16, 256, .flags = OPT_SECRET,
     .help = "Token TCP clients send as the password of "
             "HTTP Basic auth (user simq). Empty: a random token is written to the file token in the state "
             "dir (mode 0600). No message shows it, not even simq config --check's."},
    {"server", "refusal_log_interval", OPT_DURATION, "1m", 1, DAY,
     .help = "TCP requests refused for want of the token (and dashboard pages refused): the first is logged "
             "at once, the rest one line per this interval with their count, so a flood cannot fill the log."},
    {"server", "client_timeout", OPT_DURATION, "30s", 0, DAY,
     .help = "How long simq's commands wait for the server's answer before saying it is stopped or stuck "
             "(exit 69). simq wait and simq log -f wait as long as they must. 0: wait forever."},

    {"backend", "url", OPT_URL, "http://127.0.0.1:1080/RPC2", .flags = OPT_NONEMPTY,
     .help = "PLECS's RPC address (Preferences > General > RPC interface)."},
    {"backend", "slots", OPT_INT, "1", 1, 64,
     .help = "Calls in flight at once. PLECS Standalone serves "
             "one call at a time; raise it only for a server that truly runs calls concurrently. A call whose "
             "answer is all in frees its slot while simq decodes it, so PLECS runs the next one meanwhile; "
             "new calls wait while more than this many answers are decoding."},
    {"backend", "max_batch", OPT_INT, "16", 1, 1000,
     .help = "Most cases in one parallel "
             "plecs.simulate call; 1 turns batching off."},
    {"backend", "max_response", OPT_SIZE, "64M", 1024 * 1024, 1024.0 * 1024 * 1024,
     .help = "The largest answer read from this PLECS. "
             "A batch whose answer is larger is split, and later batches of that model are sized to fit; "
             "one case whose answer is larger fails at once, saying so. MatFile output (output_format = "
             "matfile) is far smaller."},
    {"backend", "output_format", OPT_ENUM, "plain", .choices = "plain|matfile",
     .help = "What this PLECS is asked "
             "to answer in: plain (PLECS's default: numbers in XML) or matfile (a MAT file, far smaller for "
             "long results). Either is stored as [store] results_format says."},
    {"backend", "call_timeout", OPT_DURATION, "1h", 1, 7 * DAY,
     .help = "Longest any call may take; "
             "past it the call counts as a transient failure."},

    {"pool", "launcher", OPT_ENUM, "slurm", .choices = "slurm",
     .help = "Who runs the instances: slurm (sbatch, squeue and scancel on the server's PATH)."},
    {"pool", "min", OPT_INT, "0", 0, 1000, .help = "Instances kept even while nothing waits."},
    {"pool", "max", OPT_INT, "2", 1, 1000,
     .help = "Most jobs submitted at once, pending ones included; Slurm's licence count may run fewer. Not "
             "less than min."},
    {"pool", "idle_after", OPT_DURATION, "10m", 1, 7 * DAY,
     .help = "An instance without a call this long while nothing waits is cancelled (down to min)."},
    {"pool", "poll", OPT_DURATION, "10s", 1, 3600,
     .help = "How often squeue is asked what became of the jobs: a lost job is noticed within this."},
    {"pool", "command_timeout", OPT_DURATION, "30s", 1, 600,
     .help = "How long an sbatch, squeue or scancel may take before it is killed (and counts as failed)."},
    {"pool", "backoff", OPT_DURATION, "10s", 1, 3600,
     .help = "The wait after a failed sbatch, or a job that ended before its instance registered, before "
             "the next submit; it doubles with each such failure in a row, up to 10m. After 3 in a row the "
             "pool shows as FAILING (simq status, simq backend ls, the console) until a job registers."},
    {"pool", "answer_within", OPT_DURATION, "30s", 1, 3600,
     .help = "A registered instance that has not answered simq's probe this long after it registered (or "
             "went DOWN) is given up: its backend is removed and its job cancelled, and a replacement is "
             "submitted while work waits."},
    {"pool", "partition", OPT_STRING, "", 0, 128, .help = "sbatch --partition; empty: the cluster's default."},
    {"pool", "licenses", OPT_STRING, "plecs:1", 0, 256,
     .help = "sbatch --licenses for each job, NAME:COUNT[,NAME:COUNT...]: Slurm starts no more jobs than its "
             "licence count allows. Empty: none."},
    {"pool", "job_name", OPT_STRING, "", 0, 128,
     .help = "sbatch --job-name, by which a restarted server finds its jobs. Empty: simq-NAME."},
    {"pool", "script", OPT_PATH, "",
     .help = "The job script. Empty: share/slurm/plecs-backend.sh of simq's install, which starts PLECS "
             "($PLECS_CMD) on a free port and registers it with simq (simq backend add)."},
    {"pool", "sbatch_args", OPT_STRING, "", 0, 1024,
     .help = "More sbatch options, separated by blanks (e.g. --time=12:00:00 --mem=4G); they come after "
             "simq's own, so --output here wins."},
    {"pool", "slurm_conf", OPT_PATH, "",
     .help = "SLURM_CONF for sbatch, squeue, scancel and the jobs. Empty: as the server's environment has it."},
    {"pool", "slots", OPT_INT, "1", 1, 64, .help = "Each instance's slots (as [backend] slots)."},
    {"pool", "max_batch", OPT_INT, "16", 1, 1000, .help = "Each instance's max_batch (as [backend] max_batch)."},

    {"scheduler", "start_paused", OPT_BOOL, "false",
     .help = "Start the server with dispatch paused (simq resume starts it): to look at a queue before "
             "anything runs."},
    {"scheduler", "max_retries", OPT_INT, "3", 0, 100,
     .help = "Retries after a transient failure "
             "before a task fails."},
    {"scheduler", "backoff_base", OPT_DURATION, "5s", 0, DAY,
     .help = "Wait before the first retry; "
             "each further retry waits twice as long (5s, 10s, 20s)."},
    {"scheduler", "backoff_max", OPT_DURATION, "5m", 0, 7 * DAY,
     .help = "Longest wait between "
             "retries; not less than backoff_base."},
    {"scheduler", "jitter", OPT_NUMBER, "0", 0, 1,
     .help = "Random extra wait as a fraction of each "
             "backoff (0.1 adds up to 10%), so many retries do not arrive at once."},
    {"scheduler", "retry_faults", OPT_LIST, "license",
     .help = "Comma-separated pieces of PLECS fault "
             "messages that mark a fault transient (matched without regard to case), e.g. a licence checkout "
             "failure. Any other PLECS fault fails the task at once."},
    {"scheduler", "down_after", OPT_INT, "3", 1, 1000,
     .help = "Consecutive connection failures after "
             "which a backend is DOWN: nothing is sent to it and it is probed until it answers."},
    {"scheduler", "probe_max", OPT_DURATION, "30s", 1, DAY,
     .help = "Longest wait between two probes of a DOWN "
             "backend (they start at backoff_base and double), so a PLECS that is back gets work within "
             "this time."},
    {"scheduler", "batch_linger_ms", OPT_INT, "0", 0, 60000,
     .help = "Milliseconds to wait for more "
             "tasks of the same model before dispatching a batch that is not full; 0 sends at once."},
    {"scheduler", "max_batch_seconds", OPT_DURATION, "0", 0, 7 * DAY,
     .help = "Cap a batch by the "
             "model's estimated run time so long low-priority batches cannot hold a slot for hours; 0: "
             "no cap."},

    {"store", "durability", OPT_ENUM, "normal", .choices = "normal|full",
     .help = "normal: a commit "
             "survives a crash of simq; full: it also survives a power loss, at a cost in speed "
             "(SQLite synchronous=NORMAL or FULL)."},
    {"store", "results_format", OPT_ENUM, "mat", .choices = "mat|csv",
     .help = "How each result is stored "
             "under results/: mat, a compressed MAT v5 file holding Time (1 x points) and Values (signals x "
             "points), as PLECS's MatFile output has them (MATLAB, Octave, scipy.io.loadmat read it; under a "
             "third of the CSV's size); csv, a text file with a header Time,sig1,... and one line per "
             "point. simq result --csv prints either as that CSV. Files are written by a thread of their "
             "own: a task completes when its file is written, and while more than 32 MB of answers wait "
             "to be written no new call starts."},

    {"store", "archive_after", OPT_DURATION, "7d", 0, 3650 * DAY,
     .help = "Move a finished task (completed, failed or cancelled) out of the hot tables into the "
             "archive this long after it finished; 0: never. Archived tasks stay readable (simq show, simq ls "
             "--archived, simq result, the console's history, the API) and in the statistics; the move runs in "
             "small steps in the background and at start, and is no task event for hooks or webhooks."},
    {"store", "purge_after", OPT_DURATION, "0", 0, 36500 * DAY,
     .help = "Delete an archived task, its attempts and its result file (when no other task's "
             "result names the file) this long after it finished; 0: never. Each step logs what it deleted. "
             "The statistics (all time and the last 24 h, also after a restart) keep counting deleted tasks. "
             "A result cache entry lives as long as a "
             "task naming its file does: when the task that ran goes (purged, or by simq clean) while tasks "
             "that reused its file stay, the entry moves to the newest of them, and each reuse is a task of "
             "its own, so an entry is purged this long after its last use (the last task that made or "
             "reused it finished), not after the run that made it."},
    {"store", "results_max_size", OPT_SIZE, "0", 0, 1e15,
     .help = "Keep the result files under results/ below this size (512M, 10G), deleting the files "
             "used least recently first (made, served by simq result, or reused from the cache); 0: no "
             "bound. The task keeps its row and summary, and simq result says when its file was evicted. "
             "A file made or used in the last 10 seconds is never evicted."},

    HOOK("submitted", "a task is submitted"),
    HOOK("started", "an attempt starts"),
    HOOK("completed", "a task completes (also from the result cache: SIMQ_CACHED=1, \"cached\": true in the JSON)"),
    HOOK("failed", "a task fails for good"),
    HOOK("attempt_failed", "an attempt fails and the task will be retried"),
    HOOK("cancelled", "a task is cancelled"),
    HOOK("backend_down", "a backend goes DOWN"),
    HOOK("backend_up", "a backend is UP again"),
    HOOK("queue_drained", "the queue becomes empty and nothing runs"),
    HOOK("paused", "simq pauses dispatch by itself because it cannot keep results or save changes (a full disk; SIMQ_DETAIL says why)"),
    {"notify", "hook_timeout", OPT_DURATION, "60s", 1, DAY,
     .help = "A hook still running after this "
             "is killed and the kill is logged."},
    {"notify", "hook_max_running", OPT_INT, "4", 1, 64,
     .help = "Hooks running at once; the rest wait "
             "in order."},

    {"webhook", "url", OPT_URL, "", .flags = OPT_REQUIRED | OPT_NONEMPTY,
     .help = "Where to POST the "
             "events. Required."},
    {"webhook", "events", OPT_LIST, "failed,backend_down,backend_up,queue_drained", .choices = EVENT_NAMES,
     .flags = OPT_NONEMPTY, .help = "Comma-separated events to send."},
    {"webhook", "min_priority", OPT_ENUM, "low", .choices = "critical|high|normal|low",
     .help = "Send task events only for tasks of this priority or more urgent."},
    {"webhook", "format", OPT_ENUM, "slack", .choices = "slack|json",
     .help = "slack: a readable text "
             "line plus fields; json: the event as it is."},
    {"webhook", "timeout", OPT_DURATION, "10s", 0.1, 300, .help = "Time allowed for one POST."},
    {"webhook", "max_per_minute", OPT_INT, "10", 1, 600,
     .help = "Posts per minute at most; a burst "
             "beyond it is summarised in one message."},
    {"webhook", "digest", OPT_CLOCK, "",
     .help = "Also post the night's summary at this local time "
             "(HH:MM). Empty: no timed digest."},
    {"webhook", "digest_on_drain", OPT_BOOL, "true", .help = "Post the summary when the queue drains."},

    {"metrics", "listen", OPT_ADDRESS, "",
     .help = "Also serve /metrics over TCP on this address. "
             "Empty: Unix socket only."},
    {"metrics", "port", OPT_INT, "9360", 1, 65535, .help = "TCP port used with listen."},

    {"dashboard", "listen", OPT_ADDRESS, "",
     .help = "Serve the web dashboard on this address (e.g. 127.0.0.1; open http://ADDRESS:PORT/). "
             "Empty: no dashboard."},
    {"dashboard", "port", OPT_INT, "7361", 1, 65535, .help = "TCP port used with listen."},
    {"dashboard", "allowed_hosts", OPT_LIST, "",
     .help = "Other names by which browsers reach the dashboard (this machine's DNS name, a proxy's), "
             "besides the listen address and localhost (and any IP address when listen is 0.0.0.0 or ::). "
             "A request naming another Host is refused, so that a web page elsewhere cannot reach the "
             "dashboard by pointing a name of its own at this machine (DNS rebinding)."},
    {"dashboard", "allowed_origins", OPT_LIST, "",
     .help = "Origins, besides the page's own http://HOST, whose WebSocket the dashboard takes: the "
             "https://NAME[:PORT] of a TLS reverse proxy in front of it, exactly as the browser sends it "
             "(its NAME in allowed_hosts too, when the proxy passes the Host on)."},
    {"dashboard", "max_viewers", OPT_INT, "200", 1, 10000,
     .help = "Pages connected at once, counting those that sent their first message.  Past it a read-only "
             "page is refused, told why (try again later), and a page that brings the token takes the "
             "place of the oldest read-only one, so read-only pages never keep an operator out."},
    {"dashboard", "max_buffer", OPT_SIZE, "1M", 64 * 1024, 64.0 * 1024 * 1024,
     .help = "Updates queued for a page that does not read them; past this they are dropped and the "
             "page gets a fresh snapshot once it reads again, so a slow page never holds up the others."},

    {"proxy", "listen", OPT_ADDRESS, "",
     .help = "Answer PLECS's RPC on this address (127.0.0.1: this machine's scripts, no token). "
             "Empty: no proxy."},
    {"proxy", "port", OPT_INT, "1080", 1, 65535,
     .help = "TCP port used with listen; 1080 is PLECS's own, so a script needs no change when PLECS is "
             "elsewhere."},
    {"proxy", "priority", OPT_ENUM, "normal", .choices = "critical|high|normal|low",
     .help = "The priority of the tasks of a call at /RPC2 (a call at /RPC2/critical ... /RPC2/low has that "
             "one)."},

    {"ui", "colours", OPT_ENUM, "auto", .choices = "auto|always|never",
     .help = "auto: colours when the "
             "terminal has them and NO_COLOR is not set."},
    {"ui", "refresh", OPT_DURATION, "1s", 0.1, 60,
     .help = "How often the clock, ages and countdowns "
             "are redrawn; changes on the server show at once regardless."},
    {"ui", "line_drawing", OPT_ENUM, "auto", .choices = "auto|utf8|ascii",
     .help = "Box-drawing "
             "characters: auto uses UTF-8 lines in a UTF-8 locale, else ASCII."},
    {"ui", "mouse", OPT_BOOL, "true",
     .help = "A click selects a row (and its pane), the wheel scrolls; false leaves the mouse "
             "to the terminal (to select text, say)."},
    {"ui", "bell", OPT_BOOL, "true",
     .help = "Ring the terminal bell when a CRITICAL or HIGH task fails "
             "or a backend goes DOWN, so tmux flags the window."},
    {"ui", "tmux_layout", OPT_ENUM, "stacked", .choices = "stacked|side|windows",
     .help = "How simq tmux lays out the console, the log (simq log -f) and a shell: stacked puts "
             "the console on top and the log and the shell side by side below it; side puts the console "
             "on the left and the log over the shell on the right; windows gives each a window."},

    KEY("up", "k,Up", "Move up."),
    KEY("down", "j,Down", "Move down."),
    KEY("top", "g,Home", "Go to the first row."),
    KEY("bottom", "G,End", "Go to the last row."),
    KEY("page_up", "PgUp,C-b", "Page up."),
    KEY("page_down", "PgDn,C-f", "Page down."),
    KEY("next_pane", "Tab", "Switch to the next pane."),
    KEY("details", "Enter", "Show the task's details."),
    KEY("submit", "s", "Open the submit form."),
    KEY("priority_up", "+", "Raise the priority."),
    KEY("priority_down", "-", "Lower the priority."),
    KEY("priority_critical", "0", "Set priority CRITICAL."),
    KEY("priority_high", "1", "Set priority HIGH."),
    KEY("priority_normal", "2", "Set priority NORMAL."),
    KEY("priority_low", "3", "Set priority LOW."),
    KEY("cancel", "c", "Cancel (asks first)."),
    KEY("retry", "r", "Retry a failed or cancelled task."),
    KEY("mark", "Space", "Mark a row for a bulk action."),
    KEY("mark_all", "A", "Mark every task the pane lists (up to 10,000)."),
    KEY("copy", "y", "Copy the task id (or the marked ones): tmux's buffer, else OSC 52."),
    KEY("filter", "/", "Filter by model, name, state or tag."),
    KEY("pause", "p", "Pause or resume dispatching."),
    KEY("stats_window", "t", "Statistics: since start, last 24 h, all time."),
    KEY("history", "h", "Show the finished tasks in the queue's place, or the queue."),
    KEY("sort", "o", "Sort the history: newest, priority, model, name."),
    KEY("backends", "b", "Show the backends in the statistics' place, or those."),
    KEY("help", "?", "Show the keys."),
    KEY("quit", "q", "Quit the console (the server keeps running)."),
};
const size_t option_count = sizeof option_table / sizeof option_table[0];

const char *const option_key_names[] = {
    "Up",   "Down",  "Left", "Right",     "PgUp",   "PgDn",   "Home",  "End", "Enter", "Tab",
    "BTab", "Space", "Esc",  "Backspace", "Delete", "Insert", "Comma", "F1",  "F2",    "F3",
    "F4",   "F5",    "F6",   "F7",        "F8",     "F9",     "F10",   "F11", "F12",   NULL,
};

static const char *const type_names[] = {
#define X(id, name) name,
    OPTION_TYPES(X)
#undef X
};

const char *option_type_name(enum option_type type)
{
	return type_names[type];
}

const struct section_def *option_section_find(const char *name)
{
	for (size_t i = 0; i < option_section_count; i++)
		if (strcmp(option_sections[i].name, name) == 0)
			return &option_sections[i];
	return NULL;
}

const struct option_def *option_find(const char *section, const char *key)
{
	for (size_t i = 0; i < option_count; i++)
		if (strcmp(option_table[i].section, section) == 0 && strcmp(option_table[i].key, key) == 0)
			return &option_table[i];
	return NULL;
}

static void add_choices(struct buf *b, const char *choices)
{
	for (const char *p = choices; *p; p++)
		if (*p == '|')
			buf_adds(b, ", ");
		else
			buf_addc(b, *p);
}

static void add_seconds(struct buf *b, double s)
{
	if (s >= DAY && s == (long)(s / DAY) * DAY)
		buf_addf(b, "%gd", s / DAY);
	else if (s >= 3600 && s == (long)(s / 3600) * 3600)
		buf_addf(b, "%gh", s / 3600);
	else if (s >= 60 && s == (long)(s / 60) * 60)
		buf_addf(b, "%gm", s / 60);
	else if (s > 0 && s < 1)
		buf_addf(b, "%gms", s * 1000);
	else
		buf_addf(b, "%gs", s);
}

char *option_allowed_text(const struct option_def *opt)
{
	struct buf b = BUF_INIT;

	switch (opt->type) {
	case OPT_BOOL:
		buf_adds(&b, "true or false (also yes/no, on/off, 1/0)");
		break;
	case OPT_INT:
		buf_addf(&b, "a whole number from %.0f to %.0f", opt->min, opt->max);
		break;
	case OPT_NUMBER:
		buf_addf(&b, "a decimal number from %g to %g", opt->min, opt->max);
		break;
	case OPT_SIZE:
		buf_addf(&b, "a size from %.0fM to %.0fM: bytes, or a number with k, M or G (512k, 64M, 1G)",
			 opt->min / (1024 * 1024), opt->max / (1024 * 1024));
		break;
	case OPT_DURATION:
		buf_adds(&b, "a duration from ");
		add_seconds(&b, opt->min);
		buf_adds(&b, " to ");
		add_seconds(&b, opt->max);
		buf_adds(&b, ": seconds, or a number with ms, s, m, h or d (250ms, 5s, 2m, 1h)");
		break;
	case OPT_STRING:
		if (opt->max > 0)
			buf_addf(&b, "text of %.0f to %.0f characters", opt->min, opt->max);
		else
			buf_adds(&b, "text");
		break;
	case OPT_PATH:
		buf_adds(&b, "a file or directory path");
		break;
	case OPT_COMMAND:
		buf_adds(&b, "a shell command");
		break;
	case OPT_ENUM:
		buf_adds(&b, "one of: ");
		add_choices(&b, opt->choices);
		break;
	case OPT_LIST:
		buf_adds(&b, "a comma-separated list");
		if (opt->choices) {
			buf_adds(&b, " of: ");
			add_choices(&b, opt->choices);
		}
		break;
	case OPT_ADDRESS:
		buf_adds(&b, "an IPv4 or IPv6 address or a host name");
		break;
	case OPT_URL:
		buf_adds(&b, "an http:// or https:// URL");
		break;
	case OPT_CLOCK:
		buf_adds(&b, "a time of day HH:MM, 00:00 to 23:59");
		break;
	case OPT_KEYS:
		buf_adds(&b, "a comma-separated list of keys: a character, C-x, or a key name such as Up, "
		             "PgDn, Enter, Tab, Space, Esc, F1");
		break;
	}
	if (!(opt->flags & OPT_NONEMPTY) && opt->type != OPT_PATH && opt->type != OPT_COMMAND &&
	    opt->type != OPT_LIST && opt->type != OPT_STRING && opt->def[0] == '\0')
		buf_adds(&b, "; empty: off");
	return buf_detach(&b);
}
