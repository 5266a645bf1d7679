// The HTTP listener of `run --metrics ADDR:PORT`: GET /metrics in Prometheus' text
// format, 404 for anything else. It listens only where it is told.
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** `127.0.0.1:9101`, `[::1]:9101`, `0.0.0.0:9101`; undefined when malformed. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !(port >= 1 && port <= 65535)) return undefined;
  return { host, port };
}

/** Listen; rejects with the listen error (EADDRINUSE, EADDRNOTAVAIL...). */
export function serveMetrics(registry: Registry, address: ListenAddress): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("mptcp-policy: metrics are at /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { "content-type": registry.contentType }).end(request.method === "HEAD" ? undefined : text),
      (error: unknown) => response.writeHead(500, { "content-type": "text/plain" }).end(`${String((error as Error)?.message ?? error)}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
