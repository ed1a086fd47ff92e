# httpc.py: raw HTTP clients for the mls httpd tests (tests/40-httpd.t),
# for what curl cannot do: exact bytes, half requests, many connections,
# a client that never reads. Every wait has a timeout.
#
#   raw HOST PORT [TIMEOUT]        send stdin's bytes, print every byte
#                                  read until EOF (or TIMEOUT s, default 10)
#   half HOST PORT                 send half a request line, wait for the
#                                  answer: prints "STATUS-LINE ELAPSED_MS"
#   maxconn HOST PORT N            N idle connections, then one more asking
#                                  /healthz: prints its status line; then
#                                  the first of the N asks /healthz too
#   noread HOST PORT PATH TOKEN    a client with a tiny receive buffer that
#                                  sends the request and never reads (until
#                                  killed, or 120 s)
#   load HOST PORT NSLOW NCONN SECS  NSLOW slowloris clients (a header
#                                  byte a second), then NCONN connection
#                                  attempts (GET /healthz) spread over SECS s;
#                                  prints "ready T" when the attempts begin,
#                                  then one JSON line of counts
#   measure N GAP_MS CMD...        runs CMD N times, GAP_MS apart: prints
#                                  JSON {"ms":[...],"t":[start times]}
import json, os, resource, selectors, socket, subprocess, sys, time


def connect(host, port, timeout=10, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def read_all(s, timeout):
    end = time.monotonic() + timeout
    buf = b""
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not d:
            break
        buf += d
    return buf


def status_line(b):
    return b.split(b"\r\n", 1)[0].decode(errors="replace") if b else "(nothing)"


def cmd_raw(host, port, timeout="10"):
    data = sys.stdin.buffer.read()
    s = connect(host, int(port))
    s.sendall(data)
    sys.stdout.buffer.write(read_all(s, float(timeout)))


def cmd_half(host, port):
    s = connect(host, int(port))
    t0 = time.monotonic()
    s.sendall(b"GET /heal")
    b = read_all(s, 30)
    print("%s %d" % (status_line(b), (time.monotonic() - t0) * 1000))


def cmd_maxconn(host, port, n):
    port, n = int(port), int(n)
    held = [connect(host, port) for _ in range(n)]
    time.sleep(0.3)  # let the server accept them first (it accepts in order anyway)
    extra = connect(host, port)
    extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    b = read_all(extra, 10)
    print(status_line(b))
    retry = [l for l in b.split(b"\r\n") if l.lower().startswith(b"retry-after:")]
    print(retry[0].decode() if retry else "no Retry-After")
    held[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    print(status_line(read_all(held[0], 10)))
    for s in held:
        s.close()


def cmd_noread(host, port, path, token):
    s = connect(host, int(port), rcvbuf=4096)
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % (path, token)).encode())
    print("sent", flush=True)
    time.sleep(120)


def cmd_load(host, port, nslow, nconn, secs):
    port, nslow, nconn, secs = int(port), int(nslow), int(nconn), float(secs)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sel = selectors.DefaultSelector()
    st = {"slow_held": 0, "slow_refused": 0, "slow_other": 0, "conn_ok": 0, "conn_503": 0,
          "conn_other": 0, "conn_error": 0}
    slow, alive = [], []
    piece = b"GET /healthz HTTP/1.1\r\nX-Slow: "
    for _ in range(nslow):
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect((host, port))  # done by the kernel (listen backlog)
            s.sendall(piece)
            s.setblocking(False)
            alive.append(s)
        except OSError:
            st["slow_other"] += 1
        slow.append(s)
    print("ready %f" % time.time(), flush=True)
    t_start = time.time()
    # the attempts: at most 64 at once, paced over secs
    pending = {}
    started = 0
    done = 0
    next_trickle = time.monotonic() + 1
    t0 = time.monotonic()
    while done < nconn:
        now = time.monotonic()
        due = min(nconn, int((now - t0) / secs * nconn) + 1)
        while started < due and len(pending) < 64:
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((host, port))
            sel.register(s, selectors.EVENT_WRITE)
            pending[s] = [b"", False, now]
            started += 1
        for key, ev in sel.select(0.01):
            s = key.fileobj
            p = pending[s]
            try:
                if not p[1]:
                    s.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    p[1] = True
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                d = s.recv(4096)
            except OSError:
                d = None
            if d:
                p[0] += d
                continue
            line = status_line(p[0])
            if d is None and not p[0]:
                st["conn_error"] += 1
            elif " 200 " in line:
                st["conn_ok"] += 1
            elif " 503 " in line:
                st["conn_503"] += 1
            else:
                st["conn_other"] += 1
            sel.unregister(s)
            s.close()
            del pending[s]
            done += 1
        for s, p in list(pending.items()):
            if now - p[2] > 10:
                st["conn_error"] += 1
                sel.unregister(s)
                s.close()
                del pending[s]
                done += 1
        if now >= next_trickle:
            next_trickle = now + 1
            for s in alive:
                try:
                    s.send(b"a")
                except OSError:
                    pass
    st["t_start"] = t_start
    st["t_end"] = time.time()
    # what became of the slow ones: answered 503 (refused) or still held
    for s in alive:
        try:
            d = s.recv(4096)
            if d and b" 503 " in d.split(b"\r\n", 1)[0]:
                st["slow_refused"] += 1
            elif d is not None and not d:
                st["slow_other"] += 1
            else:
                st["slow_other"] += 1
        except BlockingIOError:
            st["slow_held"] += 1
        except OSError:
            st["slow_other"] += 1
    for s in slow:
        s.close()
    print(json.dumps(st), flush=True)


def cmd_measure(n, gap, *cmd):
    ms, ts = [], []
    for _ in range(int(n)):
        ts.append(time.time())
        t0 = time.monotonic()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        ms.append((time.monotonic() - t0) * 1000)
        time.sleep(int(gap) / 1000)
    print(json.dumps({"ms": ms, "t": ts}))


if __name__ == "__main__":
    globals()["cmd_" + sys.argv[1]](*sys.argv[2:])
