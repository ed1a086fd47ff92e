#!/usr/bin/env python3
"""layers.py DIR...: which source file of each applet folder calls a
function defined in which other file of the same folder, and whether any
file calls into a file that calls it back (directly or through others).
Prints the graph; exits 1 on a cycle. A regex reading of C, good enough for
mls's style (functions defined at column 0, '{' on its own line)."""
import glob, os, re, sys

def graph(d):
    files = sorted(glob.glob(os.path.join(d, '*.c')))
    defs = {}
    for f in files:
        src = open(f).read()
        for m in re.finditer(r'^(?!static\b)[a-z][\w \*]*?\b(\w+)\([^;{]*\)\s*\n\{', src, re.M):
            defs[m.group(1)] = f
    edges = {f: set() for f in files}
    for f in files:
        src = re.sub(r'/\*.*?\*/', '', open(f).read(), flags=re.S)
        for name, df in defs.items():
            if df != f and re.search(r'\b' + name + r'\s*\(', src):
                edges[f].add(df)
    return files, edges

def main():
    bad = 0
    for d in sys.argv[1:]:
        files, edges = graph(d)
        def reach(a, b, seen):
            for n in edges[a]:
                if n == b or (n not in seen and reach(n, b, seen | {n})):
                    return True
            return False
        for f in files:
            print('%s -> %s' % (os.path.basename(f), ' '.join(sorted(os.path.basename(x) for x in edges[f]))))
        for a in files:
            for b in sorted(edges[a]):
                if reach(b, a, {b}):
                    print('cycle: %s calls %s, which leads back to it' % (a, b))
                    bad = 1
    sys.exit(bad)

main()
