"""An HTTP server for the program-selection lab tests: it listens with IPPROTO_MPTCP,
prints one JSON line per accepted connection with the accepted socket's protocol
(SO_PROTOCOL: 262 when the client spoke MPTCP, 6 when it used plain TCP and the
kernel fell back), waits for a line on stdin, then answers 200 "ok" and closes, so
that a test can look at the connection while it is open.

  {"event": "listening", "port": P}
  {"event": "accepted", "protocol": 262, "peer": [A, P]}
"""
import json
import socket
import sys


def say(**fields):
    print(json.dumps(fields), flush=True)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_MPTCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(16)
    say(event="listening", port=listener.getsockname()[1])
    while True:
        conn, peer = listener.accept()
        say(event="accepted", protocol=conn.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL), peer=list(peer[:2]))
        if not sys.stdin.readline():
            return
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
        except OSError as error:
            say(event="error", message=str(error))
        conn.close()


if __name__ == "__main__":
    main()
