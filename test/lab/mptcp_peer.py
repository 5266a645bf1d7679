#!/usr/bin/env python3
"""A small MPTCP server or client for the test lab (test/lab/topology.ts).

Sockets use IPPROTO_MPTCP (262). Each notable thing is one JSON line on stdout:
  server: {"event": "listening", "port": P}, {"event": "accepted", "token": T, "peer": [A, P]}
  client: {"event": "connected", "token": T, "sport": P}
  both:   {"event": "closed"} when the peer closed, {"event": "error", "message": M}
Commands on stdin, one per line: "send N" (N bytes to every connection), "close"
(close connections), "quit" (exit). End of input also quits. The server echoes
nothing back; it reads and drops data. Run as:
  mptcp_peer.py server [--family 4|6] [--address A] [--port P]
  mptcp_peer.py client --address A --port P [--family 4|6] [--bind A]
"""
import argparse
import json
import select
import socket
import struct
import sys

IPPROTO_MPTCP = 262
SOL_MPTCP = 284
MPTCP_INFO = 1


def say(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def token_of(sock):
    """mptcp_info.mptcpi_token (offset 12), as 8 hex digits like `ip mptcp monitor`."""
    try:
        info = sock.getsockopt(SOL_MPTCP, MPTCP_INFO, 96)
        return "%08x" % struct.unpack_from("<I", info, 12)[0]
    except OSError:
        return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["server", "client"])
    parser.add_argument("--family", choices=["4", "6"], default="4")
    parser.add_argument("--address", default=None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bind", default=None)
    args = parser.parse_args()
    family = socket.AF_INET if args.family == "4" else socket.AF_INET6

    listener = None
    connections = []
    if args.role == "server":
        listener = socket.socket(family, socket.SOCK_STREAM, IPPROTO_MPTCP)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((args.address or ("0.0.0.0" if family == socket.AF_INET else "::"), args.port))
        listener.listen(16)
        say(event="listening", port=listener.getsockname()[1])
    else:
        sock = socket.socket(family, socket.SOCK_STREAM, IPPROTO_MPTCP)
        if args.bind:
            sock.bind((args.bind, 0))
        try:
            sock.connect((args.address, args.port))
        except OSError as error:
            say(event="error", message=str(error))
            return 1
        connections.append(sock)
        say(event="connected", token=token_of(sock), sport=sock.getsockname()[1])

    stdin = sys.stdin.buffer
    pending = b""
    while True:
        readable = [stdin] + connections + ([listener] if listener else [])
        ready, _, _ = select.select(readable, [], [])
        for item in ready:
            if item is listener:
                conn, peer = listener.accept()
                connections.append(conn)
                say(event="accepted", token=token_of(conn), peer=list(peer[:2]))
            elif item is stdin:
                chunk = stdin.read1(4096) if hasattr(stdin, "read1") else stdin.readline()
                if not chunk:
                    return 0
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    words = line.decode().split()
                    if not words:
                        continue
                    if words[0] == "send":
                        for conn in connections:
                            conn.sendall(b"x" * int(words[1]))
                        say(event="sent", bytes=int(words[1]))
                    elif words[0] == "close":
                        for conn in connections:
                            conn.close()
                        connections = []
                        say(event="closed_by_us")
                    elif words[0] == "quit":
                        return 0
            else:
                try:
                    data = item.recv(65536)
                except OSError as error:
                    data = b""
                    say(event="error", message=str(error))
                if not data:
                    connections.remove(item)
                    item.close()
                    say(event="closed")


if __name__ == "__main__":
    sys.exit(main())
