"""api.py -- simq's API over the state directory's Unix socket, for the shell tests' Python.

    from api import proxy, fault, refused
    simq = proxy("/path/to/simq.sock").simq
"""
import http.client
import socket
import xmlrpc.client


def proxy(path):
    """An xmlrpc.client.ServerProxy that speaks over the Unix socket at path."""
    class Connection(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.connect(path)

    class Transport(xmlrpc.client.Transport):
        def make_connection(self, host):
            return Connection("localhost")

    return xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=Transport())


def fault(call, *args):
    """The Fault call(*args) answers; it is an error for it to succeed."""
    try:
        call(*args)
    except xmlrpc.client.Fault as f:
        return f
    raise SystemExit("accepted: %r" % (args,))


def refused(words, call, *args):
    """The message of a bad-input fault (code 1) that holds words, and never "(null)"."""
    f = fault(call, *args)
    assert f.faultCode == 1 and words in f.faultString and "(null)" not in f.faultString, (words, f.faultString)
    return f.faultString
