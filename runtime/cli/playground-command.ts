// `mptcp-policy playground [--port N] [--host ADDR]`: serves the built playground
// (dist/playground/, made by `npm run build`) as static files. Nothing is compiled on
// the server: language/ and compiler/ run in the browser, and the policy text never
// leaves it (it travels in the URL fragment, which browsers do not send).
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "./command.js";
import { InputError, UsageError } from "./errors.js";
import { writeErr, writeOut } from "./output.js";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ttf": "font/ttf",
  ".txt": "text/plain; charset=utf-8",
};

// Monaco sets inline styles; everything else comes from this origin. Workers are
// module scripts of this origin too.
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
};

/** Where the built playground is: next to the bundle (dist/), or dist/ from the sources. */
export function playgroundRoot(): string {
  const candidates = [fileURLToPath(new URL("playground/", import.meta.url)), fileURLToPath(new URL("../../dist/playground/", import.meta.url))];
  const found = candidates.find((dir) => existsSync(join(dir, "index.html")));
  if (!found) throw new InputError("the playground is not built: run 'npm run build' (or 'bash scripts/setup.sh') first");
  return found;
}

export interface PlaygroundServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

/** The file a request path names inside root, or undefined when it names none. */
function resolveFile(root: string, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0")) return undefined;
  const relative = normalize(decoded === "/" ? "/index.html" : decoded).replace(/^(\.\.(\/|\\|$))+/, "");
  const file = join(root, relative);
  if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

export function startPlaygroundServer(options: { port: number; host: string; root?: string }): Promise<PlaygroundServer> {
  const root = options.root ?? playgroundRoot();
  const server = createServer((request, response) => {
    const method = request.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      response.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" }).end("method not allowed\n");
      return;
    }
    const pathname = new URL(request.url ?? "/", "http://localhost").pathname;
    const file = resolveFile(root, pathname);
    if (!file) {
      response.writeHead(404, { "Content-Type": "text/plain; charset=utf-8", ...SECURITY_HEADERS }).end("not found\n");
      return;
    }
    const type = CONTENT_TYPES[extname(file)] ?? "application/octet-stream";
    // Hashed chunk and asset names never change; the rest is revalidated.
    const immutable = /\/(chunks|assets)\//.test(pathname);
    response.writeHead(200, {
      "Content-Type": type,
      "Content-Length": statSync(file).size,
      "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
      ...SECURITY_HEADERS,
    });
    if (method === "HEAD") response.end();
    else createReadStream(file).pipe(response);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve({
        server,
        url: `http://${host}:${address.port}/`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

function parsePort(value: string | boolean | undefined): number {
  if (value === undefined) return 8080;
  const port = Number(value);
  if (typeof value !== "string" || !/^\d+$/.test(value) || port > 65535)
    throw new UsageError(`--port must be a number from 0 to 65535, not '${String(value)}'`);
  return port;
}

export const playgroundCommand: Command = {
  name: "playground",
  summary: "serve the web playground: write, check and see a policy compiled live",
  usage: `Usage: mptcp-policy playground [--port N] [--host ADDR]

Serves the web playground on http://127.0.0.1:8080/ until interrupted (Ctrl+C).
The page checks, explains and simulates policies in the browser: nothing is sent
to the server, which only serves static files (dist/playground/). Those files can
also be hosted by any web server.

Options:
  --port N      port to listen on (default 8080; 0 picks a free one)
  --host ADDR   address to listen on (default 127.0.0.1, this machine only)
  -h, --help    show this help`,
  options: { help: { type: "boolean", short: "h" }, port: { type: "string" }, host: { type: "string" } },
  async run(values) {
    const port = parsePort(values["port"]);
    const host = typeof values["host"] === "string" ? values["host"] : "127.0.0.1";
    let running: PlaygroundServer;
    try {
      running = await startPlaygroundServer({ port, host });
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === "EADDRINUSE") throw new InputError(`port ${port} on ${host} is in use: try another with --port N (0 picks a free one)`);
      if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new InputError(`cannot listen on ${host}: not an address of this machine`);
      if (code === "EACCES") throw new InputError(`no permission to listen on port ${port}: use a port above 1023`);
      throw cause;
    }
    writeOut(`mptcp-policy playground: ${running.url}`);
    if (!["127.0.0.1", "::1", "localhost"].includes(host))
      writeErr(`note: listening on ${host}: other machines can load the playground (it only serves static files)`);
    writeOut("Press Ctrl+C to stop.");
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        void running.close().then(resolve);
        // Keep-alive connections of an open page would hold close() up.
        running.server.closeAllConnections();
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    return 0;
  },
};
