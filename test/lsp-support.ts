// A client for the language server tests: `mptcp-policy lsp` from the built bundle
// (bin/mptcp-policy, as editors start it), spoken to through vscode-languageserver-
// protocol's own connection, and a directory policy written to a temporary folder.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  createProtocolConnection,
  PublishDiagnosticsNotification,
  StreamMessageReader,
  StreamMessageWriter,
  type Diagnostic,
  type InitializeResult,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from "vscode-languageserver-protocol/node";
import { buildCli, CLI, ROOT } from "./helpers.js";

/**
 * Build the CLI bundle unless it is newer than every source it is made of: the tests
 * of the server run at once in several workers, and a bundle rewritten while another
 * starts the server would be read half written.
 */
export function freshCli(): void {
  const bundle = join(ROOT, "dist/mptcp-policy.js");
  const newest = Math.max(
    ...["language", "compiler", "runtime"].flatMap((dir) =>
      readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts"))
        .map((f) => statSync(join(ROOT, dir, f)).mtimeMs),
    ),
    ...["package.json", "package-lock.json", "scripts/build.mjs"].map((f) => statSync(join(ROOT, f)).mtimeMs),
  );
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < newest) buildCli();
}

export interface LspSession {
  readonly connection: ProtocolConnection;
  readonly process: ChildProcess;
  /** What the server asked to register (client/registerCapability). */
  readonly registrations: { method: string; registerOptions?: unknown }[];
  /** The server's answer to initialize. */
  readonly initialized: InitializeResult;
  /** The latest diagnostics per URI, and each publication as it came. */
  readonly diagnostics: Map<string, PublishDiagnosticsParams>;
  /** Resolves with the next publication for a URI that satisfies `until`. */
  nextDiagnostics(uri: string, until?: (params: PublishDiagnosticsParams) => boolean): Promise<PublishDiagnosticsParams>;
  open(uri: string, text: string, version?: number): void;
  stop(): Promise<void>;
}

export async function startServer(args: string[] = ["lsp"], capabilities: Record<string, unknown> = {}): Promise<LspSession> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const diagnostics = new Map<string, PublishDiagnosticsParams>();
  const waiting: { uri: string; until: (p: PublishDiagnosticsParams) => boolean; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
    diagnostics.set(params.uri, params);
    for (const w of [...waiting]) {
      if (w.uri === params.uri && w.until(params)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(params);
      }
    }
  });
  // What the server logs (it logs only what went wrong) is the test's output.
  connection.onNotification("window/logMessage", (params: { message: string }) => {
    process.stderr.write(`lsp: ${params.message}\n`);
  });
  child.stderr.on("data", (chunk: Buffer) => process.stderr.write(chunk));
  const registrations: { method: string; registerOptions?: unknown }[] = [];
  connection.onRequest("client/registerCapability", (params: { registrations: { method: string; registerOptions?: unknown }[] }) => {
    registrations.push(...params.registrations);
    return null;
  });
  connection.listen();
  const initialized: InitializeResult = await connection.sendRequest("initialize", {
    processId: process.pid,
    rootUri: null,
    capabilities: {
      textDocument: { synchronization: { didSave: true }, publishDiagnostics: { relatedInformation: true, versionSupport: true } },
      ...capabilities,
    },
  });
  await connection.sendNotification("initialized", {});
  return {
    connection,
    process: child,
    initialized,
    registrations,
    diagnostics,
    nextDiagnostics(uri, until = () => true) {
      return new Promise((resolve) => waiting.push({ uri, until, resolve }));
    },
    open(uri, text, version = 1) {
      void connection.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "mptcp-policy", version, text } });
    },
    async stop() {
      const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", () => resolve())));
      try {
        await connection.sendRequest("shutdown");
        await connection.sendNotification("exit");
      } catch {
        child.kill();
      }
      await exited;
      connection.dispose();
    },
  };
}

/** A directory holding the files of one policy; `uri(name)` names a file of it. */
export function policyDir(files: Record<string, string>): { dir: string; uri: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-lsp-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, uri: (name) => pathToFileURL(join(dir, name)).href, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function summary(d: Diagnostic): string {
  return `${d.range.start.line + 1}:${d.range.start.character + 1}-${d.range.end.line + 1}:${d.range.end.character + 1} ${String(d.code)} ${messageOf(d).split("\n")[0]}`;
}

export function messageOf(d: Diagnostic): string {
  return typeof d.message === "string" ? d.message : d.message.value;
}
