#!/usr/bin/env python3
"""layers.py — the shape of src/ that DESIGN 2 promises, checked from the build.

    layers.py cycles BUILDDIR SRCDIR   modules (X.c + X.h) that call or include each other in a loop
    layers.py engine SRCDIR            xmlrpc, curl or ncurses in src/engine/
    layers.py long SRCDIR LINES        functions longer than LINES lines in src/
    layers.py big SRCDIR DIR LINES     files in src/DIR longer than LINES lines

Each prints one line per offence and exits 1 when there is any.  Calls are
read from the object files (nm: who defines a symbol, who uses it); includes
from the sources.
"""
import collections
import os
import re
import subprocess
import sys


def module_of(obj, build_src):
    """src/server/libsimq_server_a-api.o -> server/api; automake's target prefix goes."""
    rel = os.path.relpath(obj, build_src)[:-2]
    folder, base = os.path.split(rel)
    base = re.sub(r'^[A-Za-z0-9_]+?-', '', base)
    return os.path.join(folder, base) if folder else base


def call_graph(build):
    build_src = os.path.join(build, 'src')
    defs, uses = {}, collections.defaultdict(set)
    for dirpath, _, files in os.walk(build_src):
        for name in files:
            if not name.endswith('.o'):
                continue
            obj = os.path.join(dirpath, name)
            mod = module_of(obj, build_src)
            out = subprocess.run(['nm', obj], capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[1] in 'TDBR':
                    defs[parts[2]] = mod
                elif len(parts) == 2 and parts[0] == 'U':
                    uses[mod].add(parts[1])
    graph, why = collections.defaultdict(set), {}
    for mod, symbols in uses.items():
        for sym in symbols:
            other = defs.get(sym)
            if other and other != mod:
                graph[mod].add(other)
                why.setdefault((mod, other), 'calls ' + sym)
    return graph, why


def include_graph(src, graph, why):
    src_dir = os.path.join(src, 'src')
    for dirpath, _, files in os.walk(src_dir):
        for name in files:
            if not name.endswith(('.c', '.h')):
                continue
            path = os.path.join(dirpath, name)
            mod = os.path.relpath(path, src_dir)[:-2]
            with open(path, errors='replace') as f:
                for line in f:
                    m = re.match(r'#include "(.*)\.h"', line)
                    if m and m.group(1) not in (mod, 'autoconf'):
                        graph[mod].add(m.group(1))
                        why.setdefault((mod, m.group(1)), '#include')


def cycles(build, src):
    graph, why = call_graph(build)
    include_graph(src, graph, why)
    index, low, stack, on, found = {}, {}, [], set(), []
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    for comp in found:
        edges = ['%s -> %s (%s)' % (a, b, why[(a, b)]) for a in comp for b in sorted(graph[a]) if b in comp]
        print('a loop between %s: %s' % (', '.join(comp), '; '.join(edges)))
    return not found


def engine(src):
    bad = re.compile(r'#include\s*[<"](xmlrpc|curl|ncurses|curses)|\bxmlrpc_|\bXMLRPC_')
    ok = True
    folder = os.path.join(src, 'src', 'engine')
    for name in sorted(os.listdir(folder)):
        if not name.endswith(('.c', '.h')):
            continue
        with open(os.path.join(folder, name), errors='replace') as f:
            for n, line in enumerate(f, 1):
                if bad.search(line):
                    print('src/engine/%s:%d: %s' % (name, n, line.strip()))
                    ok = False
    return ok


def long_functions(src, limit):
    ok = True
    for dirpath, _, files in os.walk(os.path.join(src, 'src')):
        for name in sorted(files):
            if not name.endswith('.c'):
                continue
            path = os.path.join(dirpath, name)
            with open(path, errors='replace') as f:
                lines = f.read().split('\n')
            start = None
            for i, line in enumerate(lines):
                if line == '{' and i > 0:
                    start = i
                elif line == '}' and start is not None:
                    if i - start - 1 > limit:
                        j = start - 1
                        while j > 0 and '(' not in lines[j]:
                            j -= 1
                        m = re.search(r'(\w+)\s*\(', lines[j])
                        print('%s:%d: %s is %d lines' % (os.path.relpath(path, src), start + 1,
                                                        m.group(1) if m else '?', i - start - 1))
                        ok = False
                    start = None
    return ok


def big_files(src, folder, limit):
    ok = True
    path = os.path.join(src, 'src', folder)
    for name in sorted(os.listdir(path)):
        if not name.endswith(('.c', '.h')):
            continue
        with open(os.path.join(path, name), errors='replace') as f:
            n = sum(1 for _ in f)
        if n > limit:
            print('src/%s/%s is %d lines' % (folder, name, n))
            ok = False
    return ok


def main(argv):
    what = argv[1]
    if what == 'cycles':
        return cycles(argv[2], argv[3])
    if what == 'engine':
        return engine(argv[2])
    if what == 'long':
        return long_functions(argv[2], int(argv[3]))
    if what == 'big':
        return big_files(argv[2], argv[3], int(argv[4]))
    raise SystemExit('layers.py: unknown check %s' % what)


if __name__ == '__main__':
    sys.exit(0 if main(sys.argv) else 1)
