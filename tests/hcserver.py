# hcserver.py PORT MODEFILE: an HTTP server for health check tests. For
# each connection it reads MODEFILE (default "200") and answers:
#   NNN    "HTTP/1.1 NNN x" and a short body
#   hang   accepts, reads the request, never answers
#   huge   1 MiB of header bytes with no line end
#   close  closes at once without a byte
# One thread per connection, so a hanging one does not stop the others.
import os, socket, sys, threading

port, modefile = int(sys.argv[1]), sys.argv[2]

def mode():
    try:
        with open(modefile) as f:
            return f.read().strip() or "200"
    except OSError:
        return "200"

def serve(c):
    try:
        m = mode()
        if m == "close":
            return
        c.settimeout(5)
        try:
            c.recv(4096)
        except OSError:
            pass
        if m == "hang":
            threading.Event().wait(3600)
        elif m == "huge":
            c.sendall(b"HTTP/1.1 200 " + b"x" * (1 << 20))
        else:
            c.sendall(("HTTP/1.1 %s x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok" % m).encode())
    except OSError:
        pass
    finally:
        c.close()

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
sys.stdout.write("listening on %d\n" % port)
sys.stdout.flush()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
