#!/usr/bin/env python3
# A pretend API on $PORT with GET /health: healthy for its first 25 s, then
# it "leaks" and answers 500, so mls sees it turn unhealthy and restarts it.
import http.server, os, sys, time

start = time.monotonic()

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        sick = self.path == "/health" and time.monotonic() - start > 25
        self.send_response(500 if sick else 200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"bad" if sick else b"ok\n")

    def log_message(self, fmt, *args):
        pass

port = int(os.environ["PORT"])
print("api: listening on port %d" % port, flush=True)
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
