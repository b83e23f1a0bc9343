"""A small Git LFS server (batch API, basic transfer) for the ledger tests, run as a process:

    python lfs_server.py <storage dir> <port file>

listens on 127.0.0.1 (a free port, written to `<port file>` once serving), stores objects as
`<storage>/<oid>`, answers `POST <repo>/info/lfs/objects/batch`, `PUT /objects/<oid>` and
`GET /objects/<oid>`, and verifies each upload's SHA-256. Real HTTP, spoken to by `git lfs`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LFS_JSON = "application/vnd.git-lfs+json"
_OID = re.compile(r"^[0-9a-f]{64}$")


class Handler(BaseHTTPRequestHandler):
    storage: Path

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _json(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", LFS_JSON)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _base(self) -> str:
        return f"http://{self.headers.get('Host', '127.0.0.1')}"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        if not self.path.endswith("/objects/batch"):
            self._json(404, {"message": "not found"})
            return
        operation = body.get("operation")
        objects = []
        for obj in body.get("objects", []):
            oid, size = str(obj.get("oid", "")), int(obj.get("size", 0))
            entry: dict[str, object] = {"oid": oid, "size": size, "authenticated": True}
            stored = self.storage / oid if _OID.match(oid) else None
            href = {"href": f"{self._base()}/objects/{oid}"}
            if operation == "upload":
                if stored is None or not stored.exists():
                    entry["actions"] = {"upload": href}
            elif stored is not None and stored.exists():
                entry["actions"] = {"download": href}
            else:
                entry["error"] = {"code": 404, "message": "object does not exist"}
            objects.append(entry)
        self._json(200, {"transfer": "basic", "objects": objects})

    def do_PUT(self) -> None:
        oid = self.path.rsplit("/", 1)[-1]
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        if not _OID.match(oid) or hashlib.sha256(data).hexdigest() != oid:
            self._json(422, {"message": "checksum mismatch"})
            return
        # A temp name of this thread's: git-lfs may upload one object twice at once.
        tmp = self.storage / f".{oid}.{threading.get_ident()}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.storage / oid)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        oid = self.path.rsplit("/", 1)[-1]
        path = self.storage / oid
        if not _OID.match(oid) or not path.exists():
            self._json(404, {"message": "not found"})
            return
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-request (git-lfs cancelling a transfer it no longer
        # needs) is no server error; anything else is printed as usual.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def main() -> None:
    storage, port_file = Path(sys.argv[1]), Path(sys.argv[2])
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    storage.mkdir(parents=True, exist_ok=True)
    Handler.storage = storage
    server = Server(("127.0.0.1", port), Handler)
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(server.server_address[1]))
    os.replace(tmp, port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
