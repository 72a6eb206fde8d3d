#!/usr/bin/env python3
"""Submit a parameter sweep to simq with Python's standard library only.

Over the Unix socket of a state directory (the default, $SIMQ_HOME or
~/.local/state/simq), or over TCP with the token:

    submit_sweep.py share/models/buck.plecs
    submit_sweep.py --socket /path/to/state/simq.sock share/models/buck.plecs
    submit_sweep.py --tcp 127.0.0.1:7360 --token "$(cat state/token)" share/models/buck.plecs

It submits a duty-cycle sweep in one call (all tasks or none), waits up to
--wait seconds for them, and prints each task's state and result summary.
"""
import argparse
import http.client
import os
import socket
import sys
import uuid
import xmlrpc.client


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.socket_path)


class UnixTransport(xmlrpc.client.Transport):
    """xmlrpc.client over a Unix socket: simq's default way in."""

    def __init__(self, path):
        super().__init__()
        self.socket_path = path

    def make_connection(self, host):
        return UnixConnection(self.socket_path)


def default_socket():
    home = os.environ.get("SIMQ_HOME")
    if not home:
        state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
        home = os.path.join(state, "simq")
    return os.path.join(home, "simq.sock")


def connect(args):
    if args.tcp:
        return xmlrpc.client.ServerProxy("http://simq:%s@%s/RPC2" % (args.token, args.tcp))
    return xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=UnixTransport(args.socket or default_socket()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="the .plecs model file")
    parser.add_argument("--socket", help="the server's Unix socket")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="reach the server over TCP instead")
    parser.add_argument("--token", help="the token for --tcp")
    parser.add_argument("--wait", type=float, default=0, help="seconds to wait for the tasks (default 0)")
    parser.add_argument("--priority", default="normal")
    args = parser.parse_args()
    if args.tcp and not args.token:
        parser.error("--tcp needs --token")

    simq = connect(args).simq
    model = os.path.abspath(args.model)
    tasks = [{"model": model, "vars": {"D": d / 10, "Vin": 400}, "priority": args.priority,
              "name": "py-sweep", "tags": ["example"]} for d in range(1, 10)]
    # A request key: if the answer is lost (the server died, the connection dropped), the
    # same call with the same key stores nothing twice and answers the first ids.
    key = "py-" + uuid.uuid4().hex
    for attempt in (1, 2):
        try:
            ids = simq.submit_many(tasks, key)
            break
        except xmlrpc.client.Fault as fault:
            print("refused:", fault.faultString, file=sys.stderr)
            return 65
        except (OSError, http.client.HTTPException) as lost:
            if attempt == 2:
                print("no answer twice (%s); whether the tasks were stored is not known: run "
                      "simq.submit_many again with request key %s" % (lost, key), file=sys.stderr)
                return 69
            print("no answer (%s); asking again with the same request key" % lost, file=sys.stderr)
    print("submitted %d tasks: %d-%d" % (len(ids), ids[0], ids[-1]))
    for item in simq.wait(ids, args.wait):
        task = simq.get(item["id"])
        line = "%d  D=%-4g %s" % (task["id"], task["vars"]["D"], task["state"])
        if task["state"] == "completed":
            result = simq.result(task["id"])
            line += "  %s (%d points)" % (result["path"], result["points"])
        elif task["error"]:
            line += "  " + task["error"]
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
