#!/usr/bin/python3
"""An IIS-like NTLM server for interop tests, built on impacket (independent of vedauth's codec).

Connection-oriented NTLM: NEGOTIATE -> 401 + CHALLENGE -> AUTHENTICATE on the same connection, the
verification done with impacket's NTOWFv2 / hmac_md5 / AV_PAIRS / NTLMAuthChallengeResponse.
Answers POST /vedauth/authorize/integrated with a JSON grant once authenticated.

Prints {"port": N} on its first line, then one JSON line per closed connection (requests seen).
"""
import argparse
import base64
import hmac as std_hmac
import json
import os
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from impacket import ntlm

parser = argparse.ArgumentParser()
parser.add_argument("--user", action="append", default=[], help="DOMAIN\\user:password")
parser.add_argument("--cert")
parser.add_argument("--key")
parser.add_argument("--require-cb", action="store_true")
parser.add_argument("--require-mic", action="store_true")
parser.add_argument("--negotiate-only", action="store_true")
parser.add_argument("--v1-only", action="store_true")
parser.add_argument("--malformed", choices=["offset", "garbage", "short"])
parser.add_argument("--close-after-challenge", action="store_true")
args = parser.parse_args()

USERS = {}
for entry in args.user:
    who, password = entry.split(":", 1)
    domain, user = who.split("\\", 1) if "\\" in who else ("", who)
    USERS[user.lower()] = (domain, password)

SCHEMES = ["Negotiate"] if args.negotiate_only else ["Negotiate", "NTLM"]
LOCK = threading.Lock()
STATS = {"connections": 0, "handshakes": []}


def log(event):
    with LOCK:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


def filetime_now():
    return struct.pack("<Q", (int(time.time()) + 11644473600) * 10000000)


def tls_server_end_point(der):
    """RFC 5929 with the cryptography package's view of the signature hash."""
    cert = x509.load_der_x509_certificate(der)
    algorithm = cert.signature_hash_algorithm
    if algorithm is None or isinstance(algorithm, (hashes.MD5, hashes.SHA1)):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(der)
    return b"tls-server-end-point:" + digest.finalize()


def challenge_message(server_challenge, timestamp):
    if args.malformed == "garbage":
        return b"this is not NTLMSSP at all"
    if args.malformed == "short":
        return b"NTLMSSP\x00\x02\x00\x00\x00\x00\x00"
    flags = (ntlm.NTLMSSP_NEGOTIATE_UNICODE | ntlm.NTLMSSP_REQUEST_TARGET | ntlm.NTLMSSP_NEGOTIATE_NTLM
             | ntlm.NTLMSSP_NEGOTIATE_ALWAYS_SIGN | ntlm.NTLMSSP_TARGET_TYPE_DOMAIN
             | ntlm.NTLMSSP_NEGOTIATE_VERSION | ntlm.NTLMSSP_NEGOTIATE_128 | ntlm.NTLMSSP_NEGOTIATE_56)
    msg = ntlm.NTLMAuthChallenge()
    target = "CORP".encode("utf-16le")
    msg["challenge"] = server_challenge
    msg["domain_name"] = target
    msg["Version"] = b"\x0a\x00\x7c\x4f\x00\x00\x00\x0f"
    msg["domain_offset"] = 56
    if args.v1_only:
        msg["flags"] = flags
        msg["TargetInfoFields"] = b""
        msg["TargetInfoFields_offset"] = 56 + len(target)
        return msg.getData()
    info = ntlm.AV_PAIRS()
    info[ntlm.NTLMSSP_AV_DOMAINNAME] = "CORP".encode("utf-16le")
    info[ntlm.NTLMSSP_AV_HOSTNAME] = "TPP".encode("utf-16le")
    info[ntlm.NTLMSSP_AV_DNS_DOMAINNAME] = "corp.example".encode("utf-16le")
    info[ntlm.NTLMSSP_AV_DNS_HOSTNAME] = "tpp.corp.example".encode("utf-16le")
    info[ntlm.NTLMSSP_AV_TIME] = timestamp
    msg["flags"] = flags | ntlm.NTLMSSP_NEGOTIATE_TARGET_INFO | ntlm.NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY
    msg["TargetInfoFields"] = info.getData()
    msg["TargetInfoFields_offset"] = 56 + len(target)
    data = msg.getData()
    if args.malformed == "offset":
        # TargetInfo length runs far past the end of the message.
        data = data[:40] + struct.pack("<HHL", 0x4000, 0x4000, 56 + len(target)) + data[48:]
    return data


def verify(state, raw):
    """Returns (user, None) when accepted, (user, reason) when refused. Uses impacket's primitives only."""
    msg = ntlm.NTLMAuthChallengeResponse()
    msg.fromString(raw)
    unicode = msg["flags"] & ntlm.NTLMSSP_NEGOTIATE_UNICODE
    decode = (lambda b: b.decode("utf-16le")) if unicode else (lambda b: b.decode("latin-1"))
    user = decode(msg["user_name"])
    domain = decode(msg["domain_name"])
    known = USERS.get(user.lower())
    if known is None:
        return user, "unknown-user"
    nt_response = msg["ntlm"]
    if len(nt_response) <= 24:
        return user, "ntlmv1"
    proof, blob = nt_response[:16], nt_response[16:]
    key = ntlm.NTOWFv2(user, known[1], domain)
    if not std_hmac.compare_digest(ntlm.hmac_md5(key, state["server_challenge"] + blob), proof):
        return user, "bad-proof"
    if args.require_mic and blob[8:16] != state["timestamp"]:
        return user, "timestamp-not-echoed"
    if args.require_mic and msg["lanman"] != b"\x00" * 24:
        return user, "lm-response-not-zero"
    pairs = ntlm.AV_PAIRS(blob[28:])
    av_flags = pairs[ntlm.NTLMSSP_AV_FLAGS]
    has_mic = av_flags is not None and struct.unpack("<L", av_flags[1])[0] & 0x2
    if args.require_mic and not has_mic:
        return user, "missing-mic"
    if has_mic:
        session_base_key = ntlm.hmac_md5(key, proof)
        zeroed = raw[:72] + b"\x00" * 16 + raw[88:]
        expected = ntlm.hmac_md5(session_base_key, state["negotiate"] + state["challenge"] + zeroed)
        if not std_hmac.compare_digest(expected, msg["MIC"]):
            return user, "bad-mic"
    if args.require_cb:
        sent = pairs[ntlm.NTLMSSP_AV_CHANNEL_BINDINGS]
        if sent is None or sent[1] == b"\x00" * 16:
            return user, "missing-channel-bindings"
        app = tls_server_end_point(state["server_der"])
        expected = ntlm.hashlib.md5(b"\x00" * 16 + struct.pack("<L", len(app)) + app).digest()
        if sent[1] != expected:
            return user, "bad-channel-bindings"
    return domain + "\\" + user if domain else user, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with LOCK:
            STATS["connections"] += 1
            self.connection_id = STATS["connections"]
        self.requests = 0
        self.state = {}

    def finish(self):
        super().finish()
        log({"event": "closed", "connection": self.connection_id, "requests": self.requests})

    def log_message(self, *_):
        pass

    def reply(self, status, body=b"", headers=(), close=False):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def refuse(self, text=b"401 - Unauthorized: Access is denied due to invalid credentials."):
        self.reply(401, text, [("WWW-Authenticate", s) for s in SCHEMES] + [("Content-Type", "text/html")])

    def do_GET(self):
        self.requests += 1
        if self.path == "/_stats":
            with LOCK:
                body = json.dumps(STATS).encode()
            return self.reply(200, body, [("Content-Type", "application/json")])
        self.reply(404)

    def do_POST(self):
        self.requests += 1
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        auth = self.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme not in SCHEMES or not token:
            return self.refuse()
        raw = base64.b64decode(token)
        if raw[8:12] == b"\x01\x00\x00\x00":
            self.state = {"negotiate": raw, "server_challenge": os.urandom(8), "timestamp": filetime_now(),
                          "negotiate_body_length": length, "scheme": scheme}
            self.state["challenge"] = challenge_message(self.state["server_challenge"], self.state["timestamp"])
            if args.cert:
                self.state["server_der"] = self.server.cert_der
            header = scheme + " " + base64.b64encode(self.state["challenge"]).decode()
            return self.reply(401, b"challenge", [("WWW-Authenticate", header)], close=args.close_after_challenge)
        if raw[8:12] != b"\x03\x00\x00\x00" or "challenge" not in self.state:
            return self.refuse()
        user, reason = verify(self.state, raw)
        handshake = {"connection": self.connection_id, "requests": self.requests, "user": user,
                     "negotiate_body_length": self.state["negotiate_body_length"], "scheme": scheme,
                     "result": reason or "ok"}
        with LOCK:
            STATS["handshakes"].append(handshake)
        log({"event": "handshake", **handshake})
        if reason is not None:
            return self.refuse()
        if self.path.lower() != "/vedauth/authorize/integrated":
            return self.reply(404)
        request = json.loads(body or b"{}")
        now = int(time.time())
        grant = {"access_token": "access-" + os.urandom(8).hex(), "refresh_token": "refresh-" + os.urandom(8).hex(),
                 "expires_in": 3600, "expires": now + 3600, "refresh_until": now + 86400, "token_type": "Bearer",
                 "scope": request.get("scope", ""), "identity": user, "requests_on_connection": self.requests}
        self.reply(200, json.dumps(grant).encode(), [("Content-Type", "application/json")])


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
if args.cert:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(args.cert, "rb") as f:
        server.cert_der = ssl.PEM_cert_to_DER_cert(f.read().decode())
log({"port": server.server_address[1]})
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
