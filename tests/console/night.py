# night.py STATE_DIR — a stand-in for a simq server on STATE_DIR/simq.sock that
# answers simq.view with one fixed night, as of 2026-11-28T03:04:12Z (run the
# console with SIMQ_TEST_NOW at that time): 1,842 queued, six rows running
# (a batch of 16, a retry waiting, a call being cancelled, one without an
# estimate yet), two backends, ws2 DOWN, and a log.  Nothing in it moves, so
# the console draws the same screen every time: golden captures compare it.
import socketserver
import sys
import time
from xmlrpc.server import SimpleXMLRPCDispatcher, SimpleXMLRPCRequestHandler


class Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ('/RPC2',)
    disable_nagle_algorithm = False  # a Unix socket


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer, SimpleXMLRPCDispatcher):
    daemon_threads = True
    logRequests = False

    def __init__(self, path):
        SimpleXMLRPCDispatcher.__init__(self, False, None)
        socketserver.UnixStreamServer.__init__(self, path, Handler)


def at(hms):
    return '2026-11-28T%s.000Z' % hms


TOTAL = 1842


def row(pos):
    """The task at queue position pos: one CRITICAL, 41 NORMAL, then LOW."""
    if pos == 0:
        return {'id': 9051, 'name': 'design-verify', 'model': '/lab/models/buck.plecs', 'priority': 'critical',
                'state': 'queued', 'submitted': at('03:04:09'), 'vars': {'Vin': 400, 'D': 0.42}}
    if pos <= 41:
        return {'id': 9001 + pos, 'name': 'sweep-7', 'model': '/lab/models/buck.plecs', 'priority': 'normal',
                'state': 'queued', 'submitted': at('02:50:02'), 'vars': {'Vin': 340 + 10 * pos, 'L': 0.0012}}
    return {'id': 7200 + pos, 'name': 'overnight-llc-resonance-check', 'model': '/lab/models/llc_resonant_tank.plecs',
            'priority': 'low', 'state': 'queued', 'submitted': at('01:30:00'),
            'vars': {'fsw': 90000, 'Lr': 1.2e-05, 'Cr': 4.7e-08}}


def call(ids, priority, name, model, backend, elapsed, estimate, cancelled=0, attempt=1, batch=1):
    progress = min(0.99, elapsed / estimate) if estimate > 0 else -1
    return {'kind': 'call', 'ids': ids, 'batch': batch, 'backend': backend, 'attempt': attempt,
            'elapsed': elapsed, 'estimate': estimate, 'progress': progress, 'cancelled': cancelled,
            'model': model, 'priority': priority, 'name': name}


RUNNING = [
    call(list(range(7190, 7206)), 'low', 'overnight', '/lab/models/llc.plecs', 'ws1', 64.0, 100.0, batch=41),
    {'kind': 'retry', 'id': 9050, 'retry': 2, 'max_retries': 3, 'retry_in': 8.0,
     'error': 'ConnectionError: connection refused by 10.0.0.2:1080', 'model': '/lab/models/rc.plecs',
     'priority': 'high', 'name': 'check'},
    call([7188], 'normal', 'race', '/lab/models/llc.plecs', 'ws1', 30.0, 100.0, cancelled=1, batch=40),
    call([9049], 'normal', 'check', '/lab/models/rc.plecs', 'ws1', 3.0, 0.0, batch=42),
    call([9048], 'high', 'check', '/lab/models/rc.plecs', 'ws1', 12.0, 20.0, attempt=2, batch=43),
    call([9047], 'high', 'check', '/lab/models/rc.plecs', 'ws1', 2.0, 20.0, batch=44),
]

WINDOW = {'completed_first': 8547, 'completed_retry': 453, 'failed': 50, 'failed_transient': 12, 'cancelled': 3,
          'cached': 120, 'retries': 85, 'with_failed_attempt': 50, 'success_rate': 0.9944,
          'retry_effectiveness': 0.901, 'avg_retries_per_failed': 1.7}

STATS = dict(WINDOW, queued=TOTAL, running=21, paused=False, pause_reason='', uptime=14400.0,
             queued_by_priority={'critical': 1, 'high': 0, 'normal': 41, 'low': 1800},
             windows={'since_start': WINDOW, 'day': WINDOW, 'all': WINDOW})

LOG = [
    (1, '03:00:00', 9050, 'warning', '9050 attempt 1 failed: connection refused (transient); retry in 5s'),
    (2, '03:00:05', 9050, 'warning', '9050 attempt 2 failed: connection refused (transient); retry in 10s'),
    (3, '03:00:21', 0, 'warning', 'ws2 DOWN after 3 connection failures; probing every 20s'),
    (4, '03:01:40', 7187, 'error', '7187 FAILED high after 1 attempt: Simulation error: the solver failed to '
                                   'converge at t=0.0123 s (step size 1e-12 below the minimum); check the '
                                   'switching frequency against the maximum step size'),
    (5, '03:02:02', 7188, 'info', '7188 cancelled'),
    (6, '03:03:30', 7180, 'info', '7180 completed'),
    (7, '03:04:09', 9051, 'info', '9051 submitted critical design-verify (buck.plecs)'),
]


def view(req):
    if req.get('version') == 1:  # a long poll: nothing changes
        time.sleep(min(req.get('wait_ms', 0), 5000) / 1000)
    offset, limit = req.get('queue_offset', 0), req.get('queue_limit', 50)
    since = req.get('log_since', -1)
    answer = {
        'version': 1, 'server_id': 'night-1', 'state_dir': sys.argv[1],
        'queue': [dict(row(p), position=p) for p in range(offset, min(TOTAL, offset + limit))],
        'queue_total': TOTAL, 'running': RUNNING,
        'log': [{'seq': s, 'server': 'night-1', 'time': at(t), 'task': task, 'severity': sev, 'text': text}
                for (s, t, task, sev, text) in LOG if since >= 0 and s > since],
        'log_seq': len(LOG), 'stats': STATS,
        'backends': [{'name': 'ws1', 'url': 'http://ws1:1080/RPC2', 'up': True, 'checking': False, 'paused': False,
                      'busy': 2, 'slots': 2, 'failures': 0, 'probe_in': 0.0},
                     {'name': 'ws2', 'url': 'http://ws2:1080/RPC2', 'up': False, 'checking': False,
                      'paused': False, 'busy': 0, 'slots': 2, 'failures': 3, 'probe_in': 20.0}],
        'paused': False, 'pause_reason': '',
        'throughput': {'per_minute': [180, 190, 200, 210, 220, 230, 240, 230, 220, 210, 200, 190, 200, 210, 220,
                                      230, 200, 180, 170, 190, 210, 230, 250, 240, 220, 200, 190, 210, 220, 212],
                       'per_hour': 212.0, 'eta': 31200.0},
        'alerts': 0,
        'calls': {'calls': 812, 'mean_batch': 11.8,
                  'models': [{'model': '/lab/models/buck.plecs', 'calls': 500, 'mean': 42.1, 'p95': 61.0},
                             {'model': '/lab/models/llc.plecs', 'calls': 312, 'mean': 95.2, 'p95': 130.4}]},
    }
    focus = req.get('focus', 0)
    if focus:
        answer['focus'] = {'id': focus, 'position': -1}
    return answer


server = Server(sys.argv[1] + '/simq.sock')
server.register_function(view, 'simq.view')
server.serve_forever()
