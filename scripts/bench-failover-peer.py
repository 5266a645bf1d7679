#!/usr/bin/env python3
"""The two ends of the failover benchmark's transfer (scripts/bench-failover.mjs).

  server --port P      accept one MPTCP connection, read it, note when data arrives
                       (CLOCK_MONOTONIC ms); "dump" on stdin prints those times as
                       one JSON line: {"event":"deliveries","t":[...]}
  client --address A --port P [--rate BYTES_PER_S] [--chunk BYTES] [--tcp]
                       connect over MPTCP and write continuously at the rate, in
                       chunks, until stdin closes or says "quit"
  sink --port P        accept and hold every connection (the stale cost's server)
  hold --address A --port P --count N
                       open N MPTCP connections, send a byte on each, print
                       {"event":"held"} and keep them until stdin closes

Each prints JSON lines: {"event":"listening"|"accepted"|"connected"|"error",...}.
"""
import argparse
import json
import select
import socket
import sys
import threading
import time

IPPROTO_MPTCP = 262


def say(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def now_ms():
    return time.clock_gettime(time.CLOCK_MONOTONIC) * 1000.0


def listen(port, backlog):
    """An MPTCP listener on every IPv4 address; says so once it listens."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(backlog)
    say(event="listening", port=listener.getsockname()[1])
    return listener


def serve(args):
    listener = listen(args.port, 4)
    times = []
    conn = None
    while True:
        watched = [sys.stdin, listener] + ([conn] if conn else [])
        readable, _, _ = select.select(watched, [], [])
        if listener in readable:
            conn, peer = listener.accept()
            say(event="accepted", peer=peer[0])
        if conn and conn in readable:
            data = conn.recv(1 << 16)
            if not data:
                conn.close()
                conn = None
            else:
                times.append(round(now_ms(), 2))
        if sys.stdin in readable:
            line = sys.stdin.readline()
            if not line or line.strip() == "quit":
                return
            if line.strip() == "dump":
                say(event="deliveries", t=times)
                times = []


def send(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP if args.tcp else IPPROTO_MPTCP)
    try:
        sock.connect((args.address, args.port))
    except OSError as error:
        say(event="error", message=str(error))
        return
    say(event="connected", sport=sock.getsockname()[1])
    stop = threading.Event()

    def watch_stdin():
        for line in sys.stdin:
            if line.strip() == "quit":
                break
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    chunk = b"x" * args.chunk
    period = args.chunk / args.rate
    next_at = time.monotonic()
    while not stop.is_set():
        try:
            sock.sendall(chunk)
        except OSError as error:
            say(event="error", message=str(error))
            return
        next_at += period
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_at = time.monotonic()  # blocked behind a stall: no burst to catch up
    sock.close()


def raise_nofile():
    import resource
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def sink(args):
    raise_nofile()
    listener = listen(args.port, 4096)
    held = []
    while True:
        readable, _, _ = select.select([sys.stdin, listener], [], [])
        if listener in readable:
            held.append(listener.accept()[0])
        if sys.stdin in readable and not sys.stdin.readline():
            return


def hold(args):
    raise_nofile()
    held = []
    for _ in range(args.count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
        sock.connect((args.address, args.port))
        sock.sendall(b"x")
        held.append(sock)
    say(event="held", count=len(held))
    sys.stdin.read()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["server", "client", "sink", "hold"])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--tcp", action="store_true", help="client: plain TCP (a competing flow), not MPTCP")
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", type=int, default=800_000)
    parser.add_argument("--chunk", type=int, default=4096)
    args = parser.parse_args()
    {"server": serve, "client": send, "sink": sink, "hold": hold}[args.role](args)


if __name__ == "__main__":
    main()
