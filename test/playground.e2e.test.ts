// The playground end to end, in Debian's real headless Chromium (playwright-core, no
// browser download): load the page, type a broken rule and see the squiggle and the
// problem, fix it, complete, format, switch tabs, run a simulator scenario and the
// scheduler view, reload a shared link, use it with the keyboard only, and take
// screenshots in both themes. No console error may appear at any point.
//
// The page is built from the current sources into a temporary directory and served by
// the playground command's own server. Screenshots go to test-results/playground/
// (UPDATE_SCREENSHOTS=1 also refreshes the one in docs/ that the README shows).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPlaygroundServer, type PlaygroundServer } from "../runtime/cli/playground-command.js";
import { CLI, ROOT } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = join(ROOT, "test-results", "playground");
const haveChromium = existsSync(CHROMIUM);

let work: string;
let server: PlaygroundServer;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];

async function launch(theme: "light" | "dark"): Promise<BrowserContext> {
  const profile = mkdtempSync(join(work, "profile-"));
  const launched = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1440, height: 900 },
    colorScheme: theme,
    permissions: ["clipboard-read", "clipboard-write"],
  });
  launched.on("weberror", (e) => consoleErrors.push(`page error: ${e.error().message}`));
  launched.on("page", watch);
  for (const p of launched.pages()) watch(p);
  return launched;
}

function watch(p: Page): void {
  p.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") consoleErrors.push(`console.${m.type()}: ${m.text()}`);
  });
  p.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
  // A reload or navigation cancels loads still in flight (ERR_ABORTED): not a failure.
  p.on("requestfailed", (r) => {
    if (r.failure()?.errorText !== "net::ERR_ABORTED") consoleErrors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ""}`);
  });
}

async function openPage(url: string, ctx = context): Promise<Page> {
  const p = ctx.pages()[0] ?? (await ctx.newPage());
  await p.goto(url);
  await p.waitForSelector("body[data-ready]", { timeout: 30_000 });
  await p.waitForSelector(".problems-empty, .problem", { timeout: 30_000 });
  return p;
}

/** The whole text of the editor's current model. */
function editorText(p = page): Promise<string> {
  return p.evaluate(() => (window as unknown as { __playground: { editor: { getValue(): string } } }).__playground.editor.getValue());
}

function markers(p = page): Promise<{ code: string; startLineNumber: number; severity: number }[]> {
  return p.evaluate(() => {
    const pg = (
      window as unknown as {
        __playground: { monaco: { editor: { getModelMarkers(f: object): { code: unknown; startLineNumber: number; severity: number }[] } } };
      }
    ).__playground;
    return pg.monaco.editor.getModelMarkers({}).map((m) => ({ code: String(m.code), startLineNumber: m.startLineNumber, severity: m.severity }));
  });
}

/** expect.poll with room for a busy machine. */
function poll<T>(value: () => Promise<T> | T) {
  return expect.poll(value, { timeout: 20_000 });
}

/** Each test starts from the unchanged example, whatever the one before left. */
async function reset(example = "laptop-wifi-lte"): Promise<void> {
  await page.evaluate((name) => (window as unknown as { __playground: { loadExample(n: string): void } }).__playground.loadExample(name), example);
  await settled();
  await page.locator(".problems-empty").waitFor({ timeout: 20_000 });
}

/** Wait until the diagnostics and the outputs on screen are the current text's. */
async function settled(): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { __playground: { settled(): boolean } }).__playground.settled(), null, { timeout: 20_000 });
}

async function typeAtEnd(text: string): Promise<void> {
  await page.click(".editor .view-lines");
  await page.keyboard.press("Control+End");
  await page.keyboard.type(text, { delay: 5 });
}

async function selectTab(name: string): Promise<void> {
  await page.getByRole("tab", { name, exact: true }).click();
  await poll(() => page.getByRole("tab", { name, exact: true }).getAttribute("aria-selected")).toBe("true");
}

beforeAll(async () => {
  if (!haveChromium) return;
  work = mkdtempSync(join(tmpdir(), "mptcp-policy-playground-"));
  const built = spawnSync(process.execPath, ["scripts/build-playground.mjs", "--outdir", join(work, "site")], { cwd: ROOT, encoding: "utf8" });
  expect(built.status, built.stderr).toBe(0);
  server = await startPlaygroundServer({ port: 0, host: "127.0.0.1", root: join(work, "site") });
  context = await launch("light");
  // Start from a known example, not from whatever a previous run stored.
  page = await openPage(server.url);
  mkdirSync(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!haveChromium)("playground in Chromium", () => {
  it("loads the default example, highlighted by the lexer's token classes, with no problem", async () => {
    expect(await page.title()).toBe("mptcp-policy playground");
    await poll(() => page.locator("#file-tabs [role=tab]").allTextContents()).toEqual(["◆10-interfaces.policy", "◆20-rules.policy"]);
    expect(await page.locator("#example-picker").inputValue()).toBe("laptop-wifi-lte");
    expect(await page.locator(".problems-empty").textContent()).toContain("No problems");
    const classes = await page.evaluate(() => {
      const pg = (
        window as unknown as { __playground: { monaco: { editor: { tokenize(text: string, language: string): { offset: number; type: string }[][] } } } }
      ).__playground;
      const line = 'on established if iface wifi and rtt < 150ms then log "x" # note';
      const tokens = pg.monaco.editor.tokenize(line, "mptcp-policy")[0] ?? [];
      return tokens.map((t, i) => [line.slice(t.offset, tokens[i + 1]?.offset ?? line.length), t.type]);
    });
    expect(Object.fromEntries(classes.filter(([text]) => (text ?? "").trim() !== ""))).toMatchObject({
      on: "keyword.mptcp-policy",
      established: "type.event.mptcp-policy",
      wifi: "identifier.mptcp-policy",
      rtt: "variable.metric.mptcp-policy",
      "150ms": "number.mptcp-policy",
      '"x"': "string.mptcp-policy",
      "# note": "comment.mptcp-policy",
    });
  });

  it("shows a broken rule as a squiggle and a problem entry, and clears both once fixed", async () => {
    await reset();
    await page.getByRole("tab", { name: "20-rules.policy" }).click();
    await typeAtEnd("\non established then create via wfi");
    const problem = page.locator('.problem[data-code="E100"]');
    await problem.waitFor({ timeout: 10_000 });
    // Each keystroke is checked as it comes: the entry may first be the one for 'wf'
    // (regression: seen once the bundles stopped checking the grammar at start).
    await poll(async () => await problem.textContent()).toContain("interface 'wfi' is not declared");
    expect(await problem.textContent()).toContain("did you mean 'wifi'?");
    expect(await problem.getAttribute("aria-label")).toMatch(/^error E100 at 20-rules\.policy line \d+ column 32/);
    await poll(async () => (await markers()).map((m) => m.code)).toEqual(["E100"]);
    await page.locator(".squiggly-error").first().waitFor();
    expect(await page.locator("#status-check").textContent()).toBe("1 error");
    expect(await page.locator("#file-tabs .file-badge.error").textContent()).toBe("1");
    await page.screenshot({ path: join(SHOTS, "light-error.png") });

    // Clicking the problem puts the cursor on it.
    await page.click(".editor .view-lines");
    await page.keyboard.press("Control+Home");
    await problem.click();
    const position = await page.evaluate(() =>
      (window as unknown as { __playground: { editor: { getPosition(): { column: number } } } }).__playground.editor.getPosition(),
    );
    expect(position.column).toBe(32);

    await page.keyboard.press("End");
    await page.keyboard.press("Backspace");
    await page.keyboard.press("Backspace");
    await page.keyboard.press("Backspace");
    await page.keyboard.type("lte");
    await page.locator(".problems-empty").waitFor();
    await poll(() => markers()).toEqual([]);
    expect(await page.locator("#status-check").textContent()).toBe("Policy checks clean");
  });

  it("checks a small text while the key is handled (its diagnostics are on the editor when the edit returns), and a large one in the worker only", async () => {
    await reset();
    type Page = {
      __playground: {
        editor: { getModel(): { getLineCount(): number; getLineMaxColumn(n: number): number; applyEdits(e: object[]): void; uri: unknown } };
        monaco: { editor: { getModelMarkers(f: object): { code: unknown }[] } };
        version(): number;
        checkedHere(): number;
        setInlineCheckLimit(ms: number): void;
      };
    };
    // In one evaluate, with no await between the edit and the reading: only a check on
    // this thread can have put the marker there.
    const editAndRead = (limit: number) =>
      page.evaluate((ms) => {
        const p = (window as unknown as Page).__playground;
        p.setInlineCheckLimit(ms);
        const model = p.editor.getModel();
        const line = model.getLineCount();
        const column = model.getLineMaxColumn(line);
        model.applyEdits([{ range: { startLineNumber: line, startColumn: column, endLineNumber: line, endColumn: column }, text: "\non established then create via wfi" }]);
        return { version: p.version(), checkedHere: p.checkedHere(), codes: p.monaco.editor.getModelMarkers({ resource: model.uri }).map((m) => m.code) };
      }, limit);
    const inline = await editAndRead(1000);
    expect(inline.checkedHere).toBe(inline.version);
    expect(inline.codes).toContain("E100");
    await reset();
    const inWorker = await editAndRead(0);
    expect(inWorker.checkedHere).not.toBe(inWorker.version);
    expect(inWorker.codes).not.toContain("E100");
    await poll(async () => (await markers()).map((m) => m.code)).toContain("E100");
    await page.evaluate(() => (window as unknown as Page).__playground.setInlineCheckLimit(8)); // the page's own limit (editor/main.ts)
  });

  it("completes events, conditions and declared interfaces, and shows hover help", async () => {
    await reset();
    await typeAtEnd("\non ");
    const suggest = page.locator(".suggest-widget");
    await suggest.locator(".monaco-list-row", { hasText: "subflow_closed" }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.type("iface_d");
    await suggest.locator(".monaco-list-row", { hasText: "iface_down" }).first().waitFor();
    await page.keyboard.press("Enter");
    await page.keyboard.type(" ");
    await suggest.locator(".monaco-list-row", { hasText: "lte" }).first().waitFor();
    await page.keyboard.press("Escape");
    await page.keyboard.type('lte then log "lte gone"');
    expect((await editorText()).trimEnd().split("\n").pop()).toBe('on iface_down lte then log "lte gone"');
    // W601: the example has the same rule already; the new one can never fire.
    await page.locator('.problem[data-code="W601"]').waitFor();
    expect(await page.locator("#status-check").textContent()).toBe("Checks, 1 warning");
    // Hover over `iface_down` on the last line.
    const at = await page.evaluate(() => {
      const editor = (
        window as unknown as {
          __playground: {
            editor: {
              getModel(): { getLineCount(): number };
              getDomNode(): HTMLElement;
              getScrolledVisiblePosition(p: object): { left: number; top: number; height: number };
            };
          };
        }
      ).__playground.editor;
      const line = editor.getModel().getLineCount();
      const box = editor.getDomNode().getBoundingClientRect();
      const p = editor.getScrolledVisiblePosition({ lineNumber: line, column: 6 });
      return { x: box.left + p.left, y: box.top + p.top + p.height / 2 };
    });
    await page.mouse.move(at.x, at.y);
    await page.locator(".monaco-hover", { hasText: "A network interface went down" }).first().waitFor({ timeout: 10_000 });
    // Take the line out again.
    await page.keyboard.press("Control+End");
    await page.keyboard.press("Shift+Home");
    await page.keyboard.press("Backspace");
    await page.keyboard.press("Backspace");
    await page.locator(".problems-empty").waitFor();
  });

  it("formats the file with the real formatter", async () => {
    await reset();
    await typeAtEnd('\non   iface_up  lte    then   log "lte up again"');
    await page.locator('.problem[data-code="W601"]').waitFor();
    await page.click("#format-button");
    await poll(async () => (await editorText()).endsWith('on iface_up lte then log "lte up again"\n')).toBe(true);
    await page.keyboard.press("Control+End");
    await page.keyboard.press("Shift+ArrowUp");
    await page.keyboard.press("Backspace");
    await page.locator(".problems-empty").waitFor();
  });

  it("shows the plan, the BPF C tab and explain", async () => {
    await reset();
    await selectTab("Plan");
    const plan = page.locator("#panel-plan");
    await plan.locator(".badge-userspace").waitFor();
    expect(await plan.textContent()).toContain("net.mptcp.path_manager = userspace");
    expect(await plan.locator(".netlink").allTextContents()).toContain("MPTCP_PM_CMD_SUBFLOW_CREATE");
    expect(await plan.locator(".rule-source").first().textContent()).toBe("on established if iface wifi and remote port 443 then create via lte backup retry 3");

    await selectTab("BPF C");
    const bpf = page.locator("#panel-bpf");
    // Monaco renders only the visible lines: read the read-only model instead.
    const bpfText = () =>
      page.evaluate(() => {
        const pg = (
          window as unknown as {
            __playground: {
              monaco: { editor: { getEditors(): { getOption(id: number): unknown; getValue(): string; getRawOptions(): { readOnly?: boolean } }[] } };
            };
          }
        ).__playground;
        return (
          pg.monaco.editor
            .getEditors()
            .find((e) => e.getRawOptions().readOnly === true)
            ?.getValue() ?? ""
        );
      });
    await poll(bpfText).toMatch(/^\/\* SPDX-License-Identifier: GPL-2\.0 \*\/\n\/\*\n \* Generated by mptcp-policy, do not edit/);
    expect(await bpfText()).toContain('.name = "prefer_wifi"');
    expect(await bpf.locator("#bpf-file").inputValue()).toBe("sched.bpf.c");
    await bpf.locator(".view-lines .mtk1, .view-lines [class*=mtk]").first().waitFor();
    await page.selectOption("#bpf-file", "sched_core.h");
    await poll(bpfText).toContain("Generated by mptcp-policy, do not edit");
    await page.screenshot({ path: join(SHOTS, "light-bpf.png") });

    await selectTab("Explain");
    const explain = page.locator("#panel-explain");
    expect(await explain.textContent()).toContain("Path manager: the userspace path manager");
    await explain.locator(".source-link", { hasText: "20-rules.policy:22" }).first().click();
    const line = await page.evaluate(
      () => (window as unknown as { __playground: { editor: { getPosition(): { lineNumber: number } } } }).__playground.editor.getPosition().lineNumber,
    );
    expect(line).toBe(22);
  });

  it("runs a simulator scenario and shows the rules that fired and their actions", async () => {
    await reset();
    await selectTab("Simulator");
    await page.selectOption("#scenario-picker", "failover");
    await page.click("#load-scenario");
    const rows = page.locator(".timeline-row");
    await poll(() => rows.count()).toBe(8);
    await poll(() => page.locator(".timeline .fired").count()).toBe(5);
    const fired = await page.locator(".timeline .fired .source-link").allTextContents();
    expect(fired).toEqual(["20-rules.policy:8", "20-rules.policy:45", "20-rules.policy:22", "20-rules.policy:50", "20-rules.policy:58"]);
    expect(await rows.nth(1).locator(".actions").textContent()).toContain(
      "SUBFLOW_CREATE on connection 7f6f626c: open a backup subflow from an address of lte to 203.0.113.80 port 443",
    );
    expect(await rows.nth(3).locator(".actions").textContent()).toContain("SET_FLAGS on every open connection: make the subflows on lte active");

    // Edit an event: a subflow that closed with a reset on LTE fires no rule.
    const fields = rows.nth(4).locator(".event-fields");
    await fields.fill("token=7f6f626c family=ipv4 saddr=10.0.1.2 daddr=203.0.113.80 sport=51000 dport=443 ifname=wwan0 error=reset");
    await fields.press("Enter");
    await poll(() => rows.nth(4).locator(".no-rule").count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, "light-simulator.png") });
  });

  it("says once which rules the events cannot match for want of a fact, and goes to them", async () => {
    await reset();
    await selectTab("Simulator");
    await page.selectOption("#scenario-picker", "failover");
    await page.click("#load-scenario");
    const rows = page.locator(".timeline-row");
    await poll(() => page.locator(".timeline .fired").count()).toBe(5);
    const notice = page.locator("#missing-facts .missing-facts");
    expect(await notice.count()).toBe(0);

    // The subflow that times out, as another tool would record it: no ifname.
    const fields = rows.nth(4).locator(".event-fields");
    const withoutIfname = "token=7f6f626c family=ipv4 saddr=10.0.0.2 daddr=203.0.113.80 sport=43390 dport=443 locid=0 remid=0 error=timeout";
    await fields.fill(withoutIfname);
    await fields.press("Enter");
    await poll(() => rows.nth(4).locator(".no-rule").count()).toBe(1);
    await poll(() => notice.locator(".missing-facts-head").textContent()).toContain("The events lack ifname, so 2 rules cannot match them");
    expect(await notice.locator(".source-link").allTextContents()).toEqual(["20-rules.policy:22", "20-rules.policy:27"]);
    expect(await notice.locator("li").first().textContent()).toContain("on subflow_closed if iface wifi then create via lte");
    expect(await notice.locator("li").first().textContent()).toContain("1 of 1 subflow_closed event lacks ifname");
    await page.screenshot({ path: join(SHOTS, "light-missing-facts.png") });
    await notice.locator(".source-link").nth(1).click();
    await poll(() =>
      page.evaluate(
        () => (window as unknown as { __playground: { editor: { getPosition(): { lineNumber: number } } } }).__playground.editor.getPosition().lineNumber,
      ),
    ).toBe(27);

    // With its interface named again, the rule fires and the note is gone.
    await selectTab("Simulator");
    await fields.fill(`${withoutIfname} ifname=wlan0`);
    await fields.press("Enter");
    await poll(() => notice.count()).toBe(0);
    await poll(() => rows.nth(4).locator(".fired .source-link").textContent()).toBe("20-rules.policy:22");
  });

  it("shows which subflow each scheduler picks, and why", async () => {
    await reset();
    await selectTab("Scheduler");
    const served = page.locator('.scheduler.selected[data-scheduler="prefer_wifi"]');
    await served.waitFor();
    expect(await served.locator(".steps li.decided").textContent()).toContain("use where iface wifi and rtt < 150ms");
    expect(await served.locator(".chip-pick").allTextContents()).toEqual(["#1 wlan0"]);
    // Wi-Fi gets slow: the second step decides.
    const rtt = page.getByLabel("Subflow 1 rtt (ms)");
    await rtt.fill("220");
    await rtt.press("Enter");
    await poll(() => served.locator(".steps li.decided").textContent()).toContain("use where not backup by lowest rtt");
    // A call: the voip scheduler serves port 5060 and sends on every active subflow.
    const port = page.getByLabel("remote port");
    await port.fill("5060");
    await port.press("Enter");
    await page.locator('.scheduler.selected[data-scheduler="voip"]').waitFor();
    await page.screenshot({ path: join(SHOTS, "light-scheduler.png") });
  });

  it("keeps the text in a shareable link and in local storage", async () => {
    await reset();
    await page.getByRole("tab", { name: "10-interfaces.policy" }).click();
    await typeAtEnd("\n# shared by link");
    await page.click("#share-button");
    await page.locator("#toast", { hasText: "Link copied" }).waitFor();
    const link = await page.evaluate(() => location.href);
    expect(link).toMatch(/#code=[\w-]{100,}$/);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);

    // A fresh browser profile (no local storage) opening the link gets the same text.
    const other = await launch("dark");
    try {
      const opened = await openPage(link, other);
      expect(await opened.locator("#example-picker").inputValue()).toBe("");
      const files = await opened.evaluate(() => (window as unknown as { __playground: { files(): { name: string; text: string }[] } }).__playground.files());
      expect(files.find((f) => f.name === "10-interfaces.policy")?.text.endsWith("\n# shared by link")).toBe(true);
    } finally {
      await other.close();
    }

    // Reloading without the link: local storage has the text.
    await page.goto(server.url);
    await page.waitForSelector("body[data-ready]");
    const files = await page.evaluate(() => (window as unknown as { __playground: { files(): { name: string; text: string }[] } }).__playground.files());
    expect(files.find((f) => f.name === "10-interfaces.policy")?.text.endsWith("\n# shared by link")).toBe(true);
  });

  it("loads the bundled examples from the picker; Back returns to the text before", async () => {
    const options = await page.locator("#example-picker option").allTextContents();
    expect(options.length).toBeGreaterThanOrEqual(4);
    await page.selectOption("#example-picker", "voip-redundancy");
    await poll(() => page.locator("#file-tabs [role=tab]").allTextContents()).toEqual(["◆voip.policy"]);
    expect(await editorText()).toContain("scheduler voice");
    await page.goBack();
    await poll(() => page.locator("#file-tabs [role=tab]").count()).toBe(2);
  });

  it("works with the keyboard only", async () => {
    await reset();
    const focused = () =>
      page.evaluate(() => document.activeElement?.id || document.activeElement?.getAttribute("aria-label") || document.activeElement?.className || "");
    // From the top of a freshly loaded page, Tab reaches the header controls in order.
    await page.goto(server.url);
    await page.waitForSelector("body[data-ready]");
    await page.locator(".problems-empty").waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to the problems");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("example-picker");
    // Alt+1: the editor. Type a mistake.
    await page.keyboard.press("Alt+1");
    expect(await page.evaluate(() => document.activeElement?.closest("#editor") !== null)).toBe(true);
    await page.keyboard.press("Control+End");
    await page.keyboard.type("\non iface_up wifi then set lte sideways");
    await page.locator(".problem").first().waitFor();
    // Ctrl+M: Tab leaves the editor; the next stop is the first problem.
    await page.keyboard.press("Control+M");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.classList.contains("problem"))).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toMatch(/^error E\d{3} at 10-interfaces\.policy line 26 /);
    // Enter jumps to it, in the editor.
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.closest("#editor") !== null)).toBe(true);
    await page.keyboard.press("Control+M");
    // Alt+3: the output tabs; arrows move between them, Tab enters the panel.
    await page.keyboard.press("Alt+3");
    const selected = await page.evaluate(() => document.activeElement?.getAttribute("role"));
    expect(selected).toBe("tab");
    await page.keyboard.press("Home");
    expect(await focused()).toBe("tab-plan");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    expect(await focused()).toBe("tab-explain");
    expect(await page.locator("#panel-explain").isVisible()).toBe(true);
    expect(await page.locator("#panel-plan").isVisible()).toBe(false);
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("panel-simulator");
    // Take the mistake out again, from the keyboard.
    await page.keyboard.press("Alt+1");
    await page.keyboard.press("Control+End");
    await page.keyboard.press("Shift+Home");
    await page.keyboard.press("Backspace");
    await page.keyboard.press("Backspace");
    await page.locator(".problems-empty").waitFor();
  });

  it("looks right in the light and the dark theme (screenshots)", async () => {
    await reset();
    await page.getByRole("tab", { name: "20-rules.policy" }).click();
    // A rule that can never fire (a warning: the outputs stay live) and a scenario.
    await typeAtEnd("\non subflow_closed if iface wifi then create via lte backup");
    await page.locator('.problem[data-code="W601"]').waitFor();
    await selectTab("Simulator");
    await page.selectOption("#scenario-picker", "failover");
    await page.click("#load-scenario");
    await poll(() => page.locator(".timeline .fired").count()).toBe(5);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(SHOTS, "light.png") });
    await page.click("#theme-button");
    await poll(() => page.evaluate(() => document.documentElement.dataset["theme"])).toBe("dark");
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(SHOTS, "dark.png") });
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe("rgb(14, 17, 22)");
    if (process.env["UPDATE_SCREENSHOTS"]) {
      copyFileSync(join(SHOTS, "light.png"), join(ROOT, "docs", "playground.png"));
      copyFileSync(join(SHOTS, "dark.png"), join(ROOT, "docs", "playground-dark.png"));
    }
  });

  it("printed no console error, warning or failed request", () => {
    expect(consoleErrors).toEqual([]);
  });
});

describe.skipIf(!haveChromium)("mptcp-policy playground (the command)", () => {
  it("serves the built page on 127.0.0.1 with a strict content security policy, and stops on SIGTERM", async () => {
    if (!existsSync(join(ROOT, "dist", "playground", "index.html"))) {
      expect(spawnSync(process.execPath, ["scripts/build-playground.mjs"], { cwd: ROOT }).status).toBe(0);
    }
    const child = spawn(process.execPath, [CLI, "playground", "--port", "0"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /playground: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (match?.[1]) resolve(match[1]);
        });
        child.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const index = await fetch(url);
      expect(index.status).toBe(200);
      expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(index.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(await index.text()).toContain("<title>mptcp-policy playground</title>");
      expect((await fetch(`${url}playground.js`)).headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect((await fetch(`${url}..%2f..%2fpackage.json`)).status).toBe(404);
      expect((await fetch(`${url}nothing-here`)).status).toBe(404);
      expect((await fetch(url, { method: "POST" })).status).toBe(405);
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("refuses a bad port with a usage error", () => {
    const result = spawnSync(process.execPath, [CLI, "playground", "--port", "http"], { cwd: ROOT, encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("mptcp-policy: --port must be a number from 0 to 65535, not 'http'\n");
  });
});
