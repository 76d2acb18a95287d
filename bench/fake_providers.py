#!/usr/bin/env python3
"""Fake LLM providers and a fake Statuspage on 127.0.0.1, for the benchmarks.

Serves, on one port:
  GET /p<N>/v1/models          Anthropic-style models list, after DELAYS[N] seconds
  GET /api/v2/summary.json     a Claude-like Statuspage summary, all operational
Prints the port on stdout, then serves until killed.
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DELAYS = [float(x) for x in (sys.argv[1].split(",") if len(sys.argv) > 1 else ["0"])]

PAGE = {
    "page": {"id": "tymt9n04zgry", "name": "Claude", "url": "https://status.claude.com",
             "time_zone": "Etc/UTC", "updated_at": "2026-11-24T09:58:12.104Z"},
    "components": [{"id": "k8w3r06qmzrp", "name": "Claude API (api.anthropic.com)",
                    "status": "operational", "group": False, "group_id": None}],
    "incidents": [], "scheduled_maintenances": [],
    "status": {"indicator": "none", "description": "All Systems Operational"},
}
MODELS = {"data": [{"type": "model", "id": "claude-sonnet-4-5-20250929",
                    "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"}],
          "has_more": True, "first_id": "claude-sonnet-4-5-20250929", "last_id": "claude-sonnet-4-5-20250929"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/api/v2/summary.json":
            body = PAGE
        elif path.startswith("/p") and path.endswith("/v1/models"):
            n = int(path[2:].split("/")[0])
            time.sleep(DELAYS[n % len(DELAYS)])
            body = MODELS
        else:
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
