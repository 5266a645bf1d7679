#!/usr/bin/env python3
"""MPTCP load generator for scripts/bench-daemon.mjs (not a test; run as root).

One process serves (or connects from) several network namespaces: a socket belongs
to the namespace it was created in, so the process enters a namespace (setns) only
to create sockets, then returns to its own. Sockets use IPPROTO_MPTCP (262).

Commands are JSON lines on stdin, answers JSON lines on stdout:

  server:
    {"cmd": "listen", "ns": NAME, "port": P}     -> {"ok": "listen", "port": P}
    {"cmd": "count"}                             -> {"ok": "count", "open": N, "accepted": N, "nofile": N}
  client:
    {"cmd": "open", "targets": [{"ns": NAME, "address": A, "port": P}, ...],
     "count": N, "rate": R}
        opens N connections, connection i to targets[i % len(targets)], paced on an
        absolute schedule of R per second, sends one byte on each (an MPTCP client is
        fully established only once it has sent data) and keeps them open and idle.
        -> {"ok": "open", "opened": N, "errors": [...], "elapsed_s": S,
            "max_lag_ms": L, "tokens": [[target index, token], ...]}
    {"cmd": "close", "rate": R}                  -> {"ok": "close", "closed": N}
        closes them all, paced at R per second if R is given
  both: {"cmd": "quit"}, or end of input.

Both raise RLIMIT_NOFILE (--nofile) so that tens of thousands of sockets fit.
"""
import argparse
import ctypes
import json
import os
import resource
import select
import socket
import struct
import sys
import time

IPPROTO_MPTCP = 262
SOL_MPTCP = 284
MPTCP_INFO = 1
CLONE_NEWNET = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)
HOME_NS = os.open("/proc/self/ns/net", os.O_RDONLY)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def new_socket(ns):
    """An MPTCP socket created inside the named namespace (/run/netns/NS)."""
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        setns(fd)
        try:
            return socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
        finally:
            setns(HOME_NS)
    finally:
        os.close(fd)


def say(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def token_of(sock):
    """mptcp_info.mptcpi_token (offset 12) as 8 hex digits, as the events print it."""
    try:
        info = sock.getsockopt(SOL_MPTCP, MPTCP_INFO, 96)
        return "%08x" % struct.unpack_from("<I", info, 12)[0]
    except OSError:
        return None


def commands(stdin):
    """Yield commands from stdin without blocking (None when there is none yet)."""
    pending = b""
    while True:
        chunk = os.read(stdin, 65536)
        if not chunk:
            return
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)


def server():
    ep = select.epoll()
    stdin = sys.stdin.fileno()
    os.set_blocking(stdin, False)
    ep.register(stdin, select.EPOLLIN)
    listeners = {}
    conns = {}
    accepted = 0
    pending = b""
    while True:
        for fd, _ in ep.poll():
            if fd == stdin:
                try:
                    chunk = os.read(stdin, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    return 0
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if not line.strip():
                        continue
                    cmd = json.loads(line)
                    if cmd["cmd"] == "listen":
                        sock = new_socket(cmd["ns"])
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                        sock.bind(("0.0.0.0", cmd["port"]))
                        sock.listen(4096)
                        sock.setblocking(False)
                        listeners[sock.fileno()] = sock
                        ep.register(sock.fileno(), select.EPOLLIN)
                        say(ok="listen", port=cmd["port"])
                    elif cmd["cmd"] == "count":
                        say(ok="count", open=len(conns), accepted=accepted, nofile=resource.getrlimit(resource.RLIMIT_NOFILE)[0])
                    elif cmd["cmd"] == "quit":
                        return 0
            elif fd in listeners:
                while True:
                    try:
                        conn, _ = listeners[fd].accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    conn.setblocking(False)
                    conns[conn.fileno()] = conn
                    ep.register(conn.fileno(), select.EPOLLIN)
                    accepted += 1
            else:
                conn = conns.get(fd)
                if conn is None:
                    continue
                try:
                    data = conn.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    ep.unregister(fd)
                    del conns[fd]
                    conn.close()


def wait_until(due):
    """Sleep, then spin, until the perf_counter time `due`; returns how late it already was (s)."""
    now = time.perf_counter()
    if due <= now:
        return now - due
    if due - now > 0.0015:
        time.sleep(due - now - 0.001)
    while time.perf_counter() < due:
        pass
    return 0.0


def client():
    conns = []
    for cmd in commands(sys.stdin.fileno()):
        if cmd["cmd"] == "open":
            targets = cmd["targets"]
            count, rate = int(cmd["count"]), float(cmd["rate"])
            # Sockets are made first, one namespace at a time, so the paced loop only
            # connects and sends (no setns in it).
            socks = [None] * count
            for index, target in enumerate(targets):
                for i in range(index, count, len(targets)):
                    socks[i] = new_socket(target["ns"])
            tokens, errors = [], []
            max_lag = 0.0
            start = time.perf_counter()
            for i, sock in enumerate(socks):
                max_lag = max(max_lag, wait_until(start + i / rate))
                index = i % len(targets)
                target = targets[index]
                try:
                    sock.connect((target["address"], int(target["port"])))
                    sock.send(b"x")
                except OSError as error:
                    errors.append(str(error))
                    sock.close()
                    continue
                conns.append(sock)
                tokens.append([index, token_of(sock)])
            elapsed = time.perf_counter() - start
            say(ok="open", opened=len(tokens), errors=errors[:5], error_count=len(errors), elapsed_s=elapsed, max_lag_ms=max_lag * 1000, tokens=tokens)
        elif cmd["cmd"] == "close":
            # Paced like the opening when a rate is given (a server's connections end one
            # by one, not all at once); else as fast as they go.
            rate = float(cmd.get("rate") or 0)
            start = time.perf_counter()
            for i, sock in enumerate(conns):
                if rate > 0:
                    wait_until(start + i / rate)
                sock.close()
            say(ok="close", closed=len(conns))
            conns = []
        elif cmd["cmd"] == "quit":
            return 0
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["server", "client"])
    parser.add_argument("--nofile", type=int, default=65536)
    args = parser.parse_args()
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, args.nofile))
    except (ValueError, OSError):
        # Without CAP_SYS_RESOURCE (e.g. in a container) the hard limit is the ceiling.
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return server() if args.role == "server" else client()


if __name__ == "__main__":
    sys.exit(main())
