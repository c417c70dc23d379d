#!/usr/bin/env python3
"""The deployment of deploy/ checked from outside, through nginx (deploy/test starts it):

1. nginx serves the storefront's precompressed files and the servers' pages with their CSP;
   the request id nginx makes reaches the server and comes back; /readyz answers ready.
2. A checkout rush of new residents while one of the two servers is stopped (SIGTERM) and
   started again, and a backup (pg_dump) taken meanwhile: no acknowledged order is lost, each
   resident's retries with their Idempotency-Key get exactly one order, the market's books
   balance, and the backup restored into another database balances too.

Usage: deploy/test.py BASE_URL STATE_DIR SERVER_BIN DATABASE_URL
"""

import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

BASE, STATE, BIN, DATABASE_URL = sys.argv[1:5]
RESIDENTS = 80


def call(method, path, body=None, token=None, headers=None):
    """(status, headers, body as JSON or bytes); status 0 when the connection failed."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw, status, hdrs = r.read(), r.status, r.headers
    except urllib.error.HTTPError as e:
        raw, status, hdrs = e.read(), e.code, e.headers
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, {}, None
    try:
        return status, hdrs, json.loads(raw)
    except ValueError:
        return status, hdrs, raw


def check(condition, what):
    if not condition:
        sys.exit(f"deploy test FAILED: {what}")
    print(f"ok: {what}")


def login(phone):
    status, _, sent = call("POST", "/api/v1/auth/sms-code", {"phone": phone})
    check(status == 200, f"sms code for {phone} ({status} {sent})") if status != 200 else None
    status, _, body = call("POST", "/api/v1/auth/login", {"phone": phone, "code": sent["dev_code"]})
    if status != 200:
        check(False, f"login {phone}: {status} {body}")
    return body["token"]


# 1. What nginx serves itself, and what it passes on.
status, hdrs, _ = call("GET", "/pkg/market_bg.wasm", headers={"Accept-Encoding": "gzip"})
check(status == 200 and hdrs.get("Content-Encoding") == "gzip", "nginx sends the precompressed bundle")
check(hdrs.get("X-Request-Id") is None, "the bundle comes from nginx, not a server")
status, hdrs, _ = call("GET", "/orders")
check(status == 200 and "frame-ancestors 'none'" in (hdrs.get("Content-Security-Policy") or ""), "a page with its CSP")
check(re.fullmatch(r"[0-9a-f]{32}", hdrs.get("X-Request-Id") or "") is not None, "nginx's request id came back")
status, _, ready = call("GET", "/readyz")
check(status == 200 and ready["status"] == "ready", f"ready through nginx: {ready}")

# 2. The rush with a restart and a backup.
staff = login("13800000000")
now = datetime.now(timezone.utc)
at = lambda h: (now + timedelta(hours=h)).isoformat()
status, _, slot = call("POST", "/api/v1/admin/slots", {
    "kind": "delivery", "starts_at": at(30), "ends_at": at(32), "cutoff_at": at(29),
    "capacity": RESIDENTS + 10, "priority_capacity": 0}, staff)
check(status == 201, f"a slot for the rush ({status})")
_, _, found = call("GET", "/api/v1/products?q=%E5%A4%A7%E7%99%BD%E8%8F%9C")  # 大白菜
cabbage = next(p["id"] for p in found["items"] if p["name"] == "大白菜")
tokens = [login(f"1361234{i:04d}") for i in range(RESIDENTS)]
for t in tokens:
    status, _, _ = call("PUT", f"/api/v1/cart/items/{cabbage}", {"quantity": 1}, t)
    check(status == 200, "cart") if status != 200 else None


def order_body(i):
    # New residents: each order carries its own new address (building 6, unit 1).
    return {"slot_id": slot["id"], "address": {"building": "6", "unit": "1", "room": str(1001 + i)},
            "payment": "on_delivery"}


def press(i):
    return call("POST", "/api/v1/orders", order_body(i), tokens[i], {"Idempotency-Key": f"deploy-{i}"})


def restart_server_a():
    time.sleep(0.05)
    pid = int(open(os.path.join(STATE, "server-a.pid")).read())
    os.kill(pid, signal.SIGTERM)
    # The supervisor (systemd in production) starts it again.
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if int(open(os.path.join(STATE, "server-a.pid")).read()) != pid:
                return pid
        except ValueError:
            pass
        time.sleep(0.1)
    sys.exit("deploy test FAILED: server-a was not started again")


def backup():
    out = os.path.join(STATE, "rush-backup.dump")
    if os.path.exists(out):
        os.remove(out)
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--dbname=" + DATABASE_URL, "--file=" + out],
                   check=True)
    return out


with concurrent.futures.ThreadPoolExecutor(max_workers=RESIDENTS + 2) as pool:
    presses = [pool.submit(press, i) for i in range(RESIDENTS)]
    restarted = pool.submit(restart_server_a)
    dumped = pool.submit(backup)
    answers = [p.result() for p in presses]
    old_pid = restarted.result()
    dump = dumped.result()
acked = {i: a[2]["id"] for i, a in enumerate(answers) if a[0] == 201}
failed = [i for i, a in enumerate(answers) if a[0] != 201]
print(f"rush: {len(acked)} of {RESIDENTS} answered 201 while server-a (pid {old_pid}) restarted; "
      f"{len(failed)} to retry: {sorted(set(a[0] for a in answers if a[0] != 201))}")
check(all(answers[i][0] in (0, 502, 503, 504) for i in failed), "a failed press is a gateway error, never a refusal")

# Each resident retries with the same key until they get their order, as the storefront does.
for i in range(RESIDENTS):
    for attempt in range(60):
        status, _, body = press(i)
        if status == 201:
            break
        time.sleep(0.5)
    check(status == 201, f"resident {i}'s retry") if status != 201 else None
    if i in acked and body["id"] != acked[i]:
        check(False, f"resident {i}: retry gave order {body['id']}, the acknowledged one was {acked[i]}")
    status, _, mine = call("GET", "/api/v1/orders", token=tokens[i])
    in_slot = [o for o in mine["items"] if o.get("slot_id", slot["id"]) == slot["id"]]
    if len(in_slot) != 1:
        check(False, f"resident {i} has {len(in_slot)} orders: {mine}")
check(True, f"every resident has exactly one order; the {len(acked)} acknowledged kept their ids")
_, _, slots = call("GET", "/api/v1/slots")
booked = next(s["booked"] for s in slots["items"] if s["id"] == slot["id"])
check(booked == RESIDENTS, f"places booked = orders ({booked})")

env = dict(os.environ, DATABASE_URL=DATABASE_URL)
books = subprocess.run([BIN, "check"], env=env, capture_output=True, text=True)
check(books.returncode == 0, f"the books balance: {books.stdout.strip()}")

# The backup taken during the rush, restored into a database of its own, balances too.
restored = DATABASE_URL.rsplit("/", 1)[0] + "/fxs_deploy_restored"
subprocess.run(["psql", "-q", "-d", DATABASE_URL, "-c", "DROP DATABASE IF EXISTS fxs_deploy_restored"], check=True)
subprocess.run(["psql", "-q", "-d", DATABASE_URL, "-c", "CREATE DATABASE fxs_deploy_restored"], check=True)
subprocess.run(["pg_restore", "--no-owner", "--dbname=" + restored, dump], check=True)
books = subprocess.run([BIN, "check"], env=dict(os.environ, DATABASE_URL=restored), capture_output=True, text=True)
check(books.returncode == 0, f"the backup taken mid-rush balances: {books.stdout.strip()}")
subprocess.run(["psql", "-q", "-d", DATABASE_URL, "-c", "DROP DATABASE fxs_deploy_restored"], check=True)
print("deploy test: all well")
