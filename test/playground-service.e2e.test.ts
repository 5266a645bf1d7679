// The language service's navigation in the playground, in Debian's headless Chromium:
// go to an interface's declaration in the other file's tab, rename it across both
// files (F2), the checker's "did you mean" applied as a quick fix, and the outline;
// the same answers `mptcp-policy lsp` gives (test/lsp-protocol.test.ts). No console
// error may appear. (The page itself: playground.e2e.test.ts.)
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPlaygroundServer, type PlaygroundServer } from "../runtime/cli/playground-command.js";
import { ROOT } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);

let work: string;
let server: PlaygroundServer;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];

interface Playground {
  editor: {
    getModel(): { uri: { path: string }; getValue(): string; getLineContent(n: number): string };
    getPosition(): { lineNumber: number; column: number };
    setPosition(p: { lineNumber: number; column: number }): void;
    focus(): void;
    trigger(source: string, id: string, payload: unknown): void;
  };
  monaco: { editor: { getModels(): { uri: { path: string }; getValue(): string }[]; getModelMarkers(f: object): { code: unknown }[] } };
  settled(): boolean;
  loadExample(name: string): void;
}

function poll<T>(value: () => Promise<T> | T) {
  return expect.poll(value, { timeout: 20_000 });
}

/** The active model's file, the cursor, and every model's text. */
function state(): Promise<{ file: string; line: number; column: number; texts: Record<string, string> }> {
  return page.evaluate(() => {
    const pg = (window as unknown as { __playground: Playground }).__playground;
    const position = pg.editor.getPosition();
    return {
      file: pg.editor.getModel().uri.path.slice(1),
      line: position.lineNumber,
      column: position.column,
      texts: Object.fromEntries(
        pg.monaco.editor
          .getModels()
          .filter((m) => m.uri.path.endsWith(".policy"))
          .map((m) => [m.uri.path.slice(1), m.getValue()]),
      ),
    };
  });
}

/** Open a file's tab and put the cursor on the first `word` of a line holding `near`. */
async function cursorOn(file: string, near: string, word: string): Promise<void> {
  await page.getByRole("tab", { name: file }).click();
  await page.evaluate(
    ({ near, word }) => {
      const pg = (window as unknown as { __playground: Playground }).__playground;
      const lines = pg.editor.getModel().getValue().split("\n");
      const line = lines.findIndex((l) => l.includes(near));
      pg.editor.setPosition({ lineNumber: line + 1, column: (lines[line] ?? "").indexOf(word, (lines[line] ?? "").indexOf(near)) + 2 });
      pg.editor.focus();
    },
    { near, word },
  );
}

/** Run an editor command by its id, as its key binding does. */
async function run(command: string): Promise<void> {
  await page.evaluate((id) => (window as unknown as { __playground: Playground }).__playground.editor.trigger("e2e", id, null), command);
}

async function reset(): Promise<void> {
  await page.evaluate(() => (window as unknown as { __playground: Playground }).__playground.loadExample("laptop-wifi-lte"));
  await page.waitForFunction(() => (window as unknown as { __playground: Playground }).__playground.settled(), null, { timeout: 20_000 });
  await page.locator(".problems-empty").waitFor({ timeout: 20_000 });
}

beforeAll(async () => {
  if (!haveChromium) return;
  work = mkdtempSync(join(tmpdir(), "mptcp-policy-playground-service-"));
  const built = spawnSync(process.execPath, ["scripts/build-playground.mjs", "--outdir", join(work, "site")], { cwd: ROOT, encoding: "utf8" });
  expect(built.status, built.stderr).toBe(0);
  server = await startPlaygroundServer({ port: 0, host: "127.0.0.1", root: join(work, "site") });
  context = await chromium.launchPersistentContext(mkdtempSync(join(work, "profile-")), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1440, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  await page.goto(server.url);
  await page.waitForSelector("body[data-ready]", { timeout: 30_000 });
}, 180_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!haveChromium)("the language service in the playground", () => {
  it("goes to an interface's declaration in the other file's tab", async () => {
    await reset();
    await cursorOn("20-rules.policy", "create via lte", "lte");
    await run("editor.action.revealDefinition");
    await poll(async () => {
      const s = await state();
      return [s.file, s.texts[s.file]?.split("\n")[s.line - 1]?.slice(s.column - 1, s.column + 2)];
    }).toEqual(["10-interfaces.policy", "lte"]);
    await poll(() => page.getByRole("tab", { name: "10-interfaces.policy" }).getAttribute("aria-selected")).toBe("true");
  });

  it("renames it across both files with F2", async () => {
    await reset();
    await cursorOn("20-rules.policy", "create via lte", "lte");
    await page.keyboard.press("F2");
    const input = page.locator(".rename-input, .rename-box input").first();
    await input.waitFor({ timeout: 10_000 });
    await input.fill("cellular");
    await page.keyboard.press("Enter");
    await poll(async () => {
      const { texts } = await state();
      // Names, not words in comments and strings: no rule names lte any more.
      const code = (texts["20-rules.policy"] ?? "")
        .split("\n")
        .filter((l) => !l.trimStart().startsWith("#"))
        .map((l) => l.replace(/"[^"]*"/g, '""'));
      return [
        texts["10-interfaces.policy"]?.includes('interface cellular = "wwan0", "usb*"'),
        code.some((l) => /\blte\b/.test(l)),
        code.some((l) => l.includes("via cellular")),
      ];
    }).toEqual([true, false, true]);
    await page.locator(".problems-empty").waitFor({ timeout: 20_000 });
  });

  it("applies the checker's 'did you mean' as a quick fix", async () => {
    await reset();
    await page.getByRole("tab", { name: "20-rules.policy" }).click();
    await page.click(".editor .view-lines");
    await page.keyboard.press("Control+End");
    await page.keyboard.type("\non established then create via wfi", { delay: 5 });
    await page.locator('.problem[data-code="E100"]').waitFor({ timeout: 20_000 });
    await cursorOn("20-rules.policy", "create via wfi", "wfi");
    // Ctrl+. lists the fixes; Enter applies the first.
    await run("editor.action.quickFix");
    const menu = page.locator(".action-widget").filter({ hasText: "Quick Fix" });
    await menu.waitFor({ timeout: 10_000 });
    expect(await menu.textContent()).toContain("Change to 'wifi'");
    await page.keyboard.press("Enter");
    await poll(async () => (await state()).texts["20-rules.policy"]?.trimEnd().endsWith("on established then create via wifi")).toBe(true);
    await page.locator(".problems-empty").waitFor({ timeout: 20_000 });
  });

  it("outlines the file: rules and schedulers with their steps", async () => {
    await reset();
    await page.getByRole("tab", { name: "20-rules.policy" }).click();
    await page.click(".editor .view-lines");
    await run("editor.action.quickOutline");
    const rows = page.locator(".quick-input-list .monaco-list-row");
    await rows.first().waitFor({ timeout: 10_000 });
    // (The list shows the rows that fit; the first says how many symbols there are.)
    expect((await rows.allTextContents()).some((l) => /symbols \(\d+\)/.test(l))).toBe(true);
    // Typing filters them by name: the scheduler, then its steps.
    await page.keyboard.type("prefer_wifi");
    await poll(async () => (await rows.allTextContents()).some((l) => l.includes("prefer_wifi"))).toBe(true);
    await page.keyboard.press("Escape");
  });

  it("made no console error or warning", () => {
    expect(problems).toEqual([]);
  });
});
