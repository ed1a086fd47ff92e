# A tiny app for docker/Dockerfile.example-app: answers on $PORT
import http.server, os

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("ok\n" if self.path == "/health" else
                "hello from %s.%s\n" % (os.environ.get("MLS_SERVICE"), os.environ.get("MLS_INSTANCE"))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print("%s %s" % (self.address_string(), fmt % args), flush=True)

http.server.ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
