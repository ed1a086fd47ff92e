# A server dropped into the demo's servers_dir (build/demo-servers): mls runs
# it as the service "hello" on a free port, given in $PORT. Copy it to
# build/demo-servers/hello2.py and a second one starts; delete it and it stops.
import http.server
import os

PORT = int(os.environ["PORT"])


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from servers_dir on port %d\n" % PORT
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print(fmt % args, flush=True)


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Hello).serve_forever()
