# whreceiver.py PORTFILE LOG [--port N] [--secret S] [--tls CERT KEY]
#               [--mode MODEFILE]: a webhook receiver for tests/42-notify.t.
#
# Binds 127.0.0.1:N (0: any free port), writes the port to PORTFILE once
# it listens, then for each POST appends one JSON line to LOG:
#   {"path": ..., "sig": "ok"|"bad"|"none", "ua": ..., "ctype": ...,
#    "body": <the body parsed as JSON, or its text>}
# and answers what MODEFILE says (read per request; default 200):
#   NNN    that status
#   hang   never answers (the connection stays open)
# One request at a time, in the order the connections came (accept order):
# a hanging request holds the others, as a stuck receiver does.
import hashlib, hmac, json, os, socket, ssl, sys, threading

args = sys.argv[1:]
portfile, log = args[0], args[1]
port, secret, tls, modefile = 0, None, None, None
i = 2
while i < len(args):
    if args[i] == "--port":
        port = int(args[i + 1]); i += 2
    elif args[i] == "--secret":
        secret = args[i + 1].encode(); i += 2
    elif args[i] == "--tls":
        tls = (args[i + 1], args[i + 2]); i += 3
    elif args[i] == "--mode":
        modefile = args[i + 1]; i += 2
    else:
        sys.exit("bad argument " + args[i])

def mode():
    if not modefile:
        return "200"
    try:
        with open(modefile) as f:
            return f.read().strip() or "200"
    except OSError:
        return "200"

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(1024)
ctx = None
if tls:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls[0], tls[1])
tmp = portfile + ".tmp"
with open(tmp, "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(tmp, portfile)

def read_request(c):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(65536)
        if not d:
            return None
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", "0"))
    while len(body) < n:
        d = c.recv(65536)
        if not d:
            return None
        body += d
    return lines[0], hdrs, body[:n]

while True:
    c, _ = srv.accept()
    try:
        if ctx:
            c = ctx.wrap_socket(c, server_side=True)
        c.settimeout(10)
        r = read_request(c)
        if r is None:
            c.close()
            continue
        line, hdrs, body = r
        sig = "none"
        if "x-mls-signature" in hdrs:
            want = "sha256=" + hmac.new(secret or b"", body, hashlib.sha256).hexdigest()
            sig = "ok" if hmac.compare_digest(want, hdrs["x-mls-signature"]) else "bad"
        try:
            b = json.loads(body)
        except ValueError:
            b = body.decode("utf-8", "replace")
        m = mode()
        rec = {"path": line.split(" ")[1], "sig": sig, "ua": hdrs.get("user-agent"),
               "ctype": hdrs.get("content-type"), "x_test": hdrs.get("x-test"), "status": m, "body": b}
        with open(log, "a") as f:
            f.write(json.dumps(rec) + "\n")
        if m == "hang":
            threading.Event().wait(3600)
        code = int(m)
        c.sendall(("HTTP/1.1 %d x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % code).encode())
        c.close()
    except (OSError, ssl.SSLError, ValueError):
        try:
            c.close()
        except OSError:
            pass
