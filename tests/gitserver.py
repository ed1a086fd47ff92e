# gitserver.py ROOT PORTFILE [CERT KEY]: git's smart HTTP for the tests:
# `git http-backend` run as a CGI for each request, for the repositories
# under ROOT (every one exported), behind python3's HTTP server, with TLS
# when CERT and KEY are given. Listens on 127.0.0.1 on a free port, written
# to PORTFILE once it listens. URLs: http(s)://localhost:PORT/REPO.git.
# One thread per request; HTTP/1.0 (a connection per request).
import http.server, os, ssl, subprocess, sys

root, portfile = sys.argv[1], sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def cgi(self):
        path, _, query = self.path.partition('?')
        body = b''
        n = int(self.headers.get('Content-Length') or 0)
        if n:
            body = self.rfile.read(n)
        env = {
            'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
            'GIT_PROJECT_ROOT': root,
            'GIT_HTTP_EXPORT_ALL': '1',
            'GATEWAY_INTERFACE': 'CGI/1.1',
            'REQUEST_METHOD': self.command,
            'PATH_INFO': path,
            'QUERY_STRING': query,
            'CONTENT_TYPE': self.headers.get('Content-Type', ''),
            'CONTENT_LENGTH': str(len(body)),
            'REMOTE_ADDR': self.client_address[0],
            'SERVER_PROTOCOL': 'HTTP/1.0',
        }
        if self.headers.get('Git-Protocol'):
            env['GIT_PROTOCOL'] = self.headers['Git-Protocol']
        r = subprocess.run(['git', 'http-backend'], input=body, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        head, _, out = r.stdout.partition(b'\r\n\r\n')
        if not _:
            head, _, out = r.stdout.partition(b'\n\n')
        status, headers = '200 OK', []
        for line in head.decode('latin-1').splitlines():
            k, _, v = line.partition(':')
            if k.lower() == 'status':
                status = v.strip()
            elif k:
                headers.append((k, v.strip()))
        code, _, reason = status.partition(' ')
        self.send_response(int(code), reason)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = cgi


srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
if len(sys.argv) > 4:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + '.tmp', portfile)
srv.serve_forever()
