"""A local stand-in for AMD KDS (tests only): serves files at KDS paths on 127.0.0.1.

usage: kds_server.py PORTFILE HITSFILE MODE VCEK CHAIN
  MODE: ok | 429once (first request answers 429, Retry-After: 1) | 429always | 404
Writes the bound port to PORTFILE, appends "PATH\n" to HITSFILE per request.
"""
import http.server
import sys

portfile, hitsfile, mode, vcek, chain = sys.argv[1:6]
state = {"429": mode == "429once"}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(hitsfile, "a") as f:
            f.write(self.path + "\n")
        if state["429"] or mode == "429always":
            state["429"] = False
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path = self.path.split("?", 1)[0]
        body = None
        if mode != "404":
            if path.startswith("/vcek/v1/Milan/") and path.endswith("/cert_chain"):
                body = open(chain, "rb").read()
            elif path.startswith("/vcek/v1/Milan/") and "?" in self.path:
                body = open(vcek, "rb").read()
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
