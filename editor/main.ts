// The playground page: Monaco with the policy language, the check worker, the
// problems list and the output tabs (plan, BPF C, explain, simulator, scheduler).
// The text lives in Monaco models (one per file), in the URL and in local storage.
import "./playground.css";
import { EXAMPLES } from "virtual:examples";
import { checkFiles } from "./analysis.js";
import { byId, h, replaceChildren } from "./dom.js";
import { LANGUAGE_ID } from "./monarch.js";
import { monaco } from "./monaco.js";
import { registerPolicyLanguage } from "./policy-language.js";
import type { DeclaredNames, FromWorker, Outputs, PlaygroundDiagnostic, PolicyText, ServiceRequest, ToWorker } from "./protocol.js";
import { decodeState, encodeState, loadStored, store, type SavedState } from "./share.js";
import { sourceLines } from "./source-lines.js";
import { defaultScheduleInput, snapshotJson, type EventObject, type ScheduleInput } from "./timeline.js";
import { renderExplain, renderPlan, blocked } from "./views/plan.js";
import { enableArrowKeys, renderProblems } from "./views/problems.js";
import { setUpSchedule, setUpTimeline } from "./views/simulator.js";
import { setUpTabs } from "./views/tabs.js";

interface OpenFile {
  name: string;
  model: monaco.editor.ITextModel;
  viewState: monaco.editor.ICodeEditorViewState | null;
}

const STARTER: SavedState = {
  files: [
    {
      name: "policy.policy",
      text: `interface wifi = "wlan0"\ninterface lte = "wwan0", "usb*"\n\nlimits subflows 4 add_addr_accepted 2\nendpoint wifi subflow\nendpoint lte subflow backup\n\non subflow_closed if iface wifi then create via lte\non iface_up wifi then set lte backup, log "wifi is back"\n\nscheduler prefer_wifi {\n  use where iface wifi and rtt < 150ms\n  use any\n}\n`,
    },
  ],
};
const DEFAULT_EXAMPLE = "laptop-wifi-lte";

// ---------------------------------------------------------------------------
// Theme: the system's unless the user picked one.

const THEME_KEY = "mptcp-policy.playground.theme";
const systemDark = window.matchMedia("(prefers-color-scheme: dark)");
function storedTheme(): "light" | "dark" | undefined {
  try {
    const value = localStorage.getItem(THEME_KEY);
    return value === "light" || value === "dark" ? value : undefined;
  } catch {
    return undefined;
  }
}
function currentTheme(): "light" | "dark" {
  return storedTheme() ?? (systemDark.matches ? "dark" : "light");
}
function applyTheme(): void {
  const theme = currentTheme();
  document.documentElement.dataset["theme"] = theme;
  monaco.editor.setTheme(theme === "dark" ? "policy-dark" : "policy-light");
  const button = byId("theme-button");
  button.setAttribute("aria-label", theme === "dark" ? "Switch to the light theme" : "Switch to the dark theme");
  button.setAttribute("title", theme === "dark" ? "Light theme" : "Dark theme");
  button.dataset["theme"] = theme;
}

// ---------------------------------------------------------------------------
// The check worker.

const worker = new Worker(new URL("check.worker.js", document.baseURI), { type: "module", name: "policy-check" });
function send(message: ToWorker): void {
  worker.postMessage(message);
}

let names: DeclaredNames = { interfaces: [], schedulers: [] };
let version = 0;
let diagnostics: readonly PlaygroundDiagnostic[] = [];
let outputs: Outputs | undefined;
let lastCheckMs = 0;
const formatRequests = new Map<number, (answer: { text?: string; error?: string }) => void>();
let formatId = 0;
const serviceRequests = new Map<number, (result: unknown) => void>();
let serviceId = 0;

// Keystroke-to-diagnostics timing (scripts/bench-playground.mjs reads it).
let keyAt: number | undefined;
const keyTimes = new Map<number, { key: number; sent: number }>();
const latencies: number[] = [];
/** Where the time goes: key → sent to the worker → answer received → shown. */
const latencyParts: { toSend: number; toAnswer: number; toShow: number }[] = [];
const checkTimes: number[] = [];

registerPolicyLanguage({
  names: () => names,
  format: async (model) => {
    const file = files.find((f) => f.model === model);
    if (!file) return undefined;
    const answer = await new Promise<{ text?: string; error?: string }>((resolve) => {
      const id = ++formatId;
      formatRequests.set(id, resolve);
      send({ type: "format", id, file: { name: file.name, text: model.getValue() } });
    });
    if (answer.error !== undefined) toast(answer.error, "error");
    return answer.text;
  },
  fileOf: (model) => files.find((f) => f.model === model)?.name,
  uriOf: (name) => uriOf(name),
  serve: <T>(request: ServiceRequest) =>
    new Promise<T>((resolve) => {
      const id = ++serviceId;
      serviceRequests.set(id, resolve as (result: unknown) => void);
      send({ type: "service", id, version, files: sources(), request });
    }),
});

// Go to definition (and a reference picked in the peek view) in another file opens
// its tab, as a click on a problem does.
monaco.editor.registerEditorOpener({
  openCodeEditor(_source, resource, selectionOrPosition) {
    const file = files.find((f) => f.model.uri.toString() === resource.toString());
    if (!file) return false;
    openFile(file.name);
    if (selectionOrPosition && "startLineNumber" in selectionOrPosition) {
      editor.setSelection(selectionOrPosition);
      editor.revealRangeInCenterIfOutsideViewport(selectionOrPosition);
    } else if (selectionOrPosition) {
      editor.setPosition(selectionOrPosition);
      editor.revealPositionInCenterIfOutsideViewport(selectionOrPosition);
    }
    editor.focus();
    return true;
  },
});

// ---------------------------------------------------------------------------
// The editor and its files.

const editorHost = byId("editor");
const editor = monaco.editor.create(editorHost, {
  language: LANGUAGE_ID,
  automaticLayout: true,
  fontFamily: '"DejaVu Sans Mono", ui-monospace, "SF Mono", Menlo, Consolas, monospace',
  fontSize: 13.5,
  lineHeight: 21,
  minimap: { enabled: false },
  scrollBeyondLastLine: false,
  tabSize: 2,
  insertSpaces: true,
  padding: { top: 12, bottom: 12 },
  smoothScrolling: true,
  fixedOverflowWidgets: true,
  ariaLabel: "Policy editor. Press Control+M, then Tab, to move focus out of the editor.",
  quickSuggestions: { other: true, comments: false, strings: false },
  suggestOnTriggerCharacters: true,
  wordBasedSuggestions: "off",
  guides: { indentation: true },
  stickyScroll: { enabled: false },
  // Per-keystroke work the policy language has no use for (no colours, no links, no
  // code lenses); `bracketPairColorization` off keeps the theme's own bracket colour.
  colorDecorators: false,
  links: false,
  codeLens: false,
  bracketPairColorization: { enabled: false },
  renderLineHighlight: "line",
});

let files: OpenFile[] = [];
let active: OpenFile | undefined;
const fileTabs = byId("file-tabs");

function uriOf(name: string): monaco.Uri {
  return monaco.Uri.parse(`file:///${name}`);
}

function loadFiles(state: SavedState): void {
  for (const f of files) f.model.dispose();
  files = [...state.files]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((f) => {
      const model = monaco.editor.createModel(f.text, LANGUAGE_ID, uriOf(f.name));
      model.updateOptions({ tabSize: 2, insertSpaces: true });
      model.onDidChangeContent(() => textChanged());
      return { name: f.name, model, viewState: null };
    });
  active = undefined;
  openFile(files[0]?.name ?? "");
  renderFileTabs();
  textChanged(false);
}

function openFile(name: string): void {
  const file = files.find((f) => f.name === name);
  if (!file || file === active) return;
  if (active) active.viewState = editor.saveViewState();
  active = file;
  editor.setModel(file.model);
  if (file.viewState) editor.restoreViewState(file.viewState);
  renderFileTabs();
}

function renderFileTabs(): void {
  const counts = new Map<string, { errors: number; warnings: number }>();
  for (const d of diagnostics) {
    const c = counts.get(d.file) ?? { errors: 0, warnings: 0 };
    if (d.severity === "error") c.errors++;
    else c.warnings++;
    counts.set(d.file, c);
  }
  replaceChildren(
    fileTabs,
    files.map((f) => {
      const c = counts.get(f.name);
      const selected = f === active;
      return h(
        "button",
        {
          type: "button",
          role: "tab",
          className: "file-tab",
          id: `file-${f.name}`,
          "aria-selected": String(selected),
          "aria-controls": "editor",
          tabindex: selected ? 0 : -1,
          onclick: () => (openFile(f.name), editor.focus()),
        },
        h("span", { className: "file-icon", "aria-hidden": "true" }, "◆"),
        f.name,
        c?.errors
          ? h("span", { className: "file-badge error", "aria-label": `${c.errors} errors` }, c.errors)
          : c?.warnings
            ? h("span", { className: "file-badge warning", "aria-label": `${c.warnings} warnings` }, c.warnings)
            : null,
      );
    }),
  );
}

fileTabs.addEventListener("keydown", (event) => {
  const at = files.findIndex((f) => f === active);
  const to = event.key === "ArrowRight" ? at + 1 : event.key === "ArrowLeft" ? at - 1 : -1;
  const target = files[(to + files.length) % files.length];
  if (to === -1 || !target || files.length < 2) return;
  event.preventDefault();
  openFile(target.name);
  document.getElementById(`file-${target.name}`)?.focus();
});

// One check in flight at a time; text changed meanwhile goes as one request when the
// answer comes (the newest text: keys typed during a check are coalesced).
let checkInFlight = false;
let checkWanted = false;
function requestCheck(): void {
  if (checkInFlight) {
    checkWanted = true;
    return;
  }
  checkInFlight = true;
  checkWanted = false;
  send({ type: "check", version, files: sources() });
}

function sources(): PolicyText[] {
  return files.map((f) => ({ name: f.name, text: f.model.getValue() }));
}

// A text whose checks take at most inlineCheckMs is checked here as well, while the key
// is handled, and its diagnostics are on the editor in the frame that shows the key. No
// answer from the worker can be handled sooner than the frame after a key: in Chromium
// every task after a key input waited for that frame (a message, a timer, even a
// user-blocking postTask: about 17 ms in scripts/bench-playground.mjs), while the check
// itself takes 2-3 ms. Larger texts are the worker's alone, so that typing stays smooth;
// the worker checks every version anyway, for the outputs and the editor's requests.
// Half a frame: a slower machine's 5 ms check of the 300-line benchmark policy (4 ms was
// the limit) lost the key's frame and took 17.6 ms; half a frame leaves Monaco the rest.
const FRAME_MS = 16;
let inlineCheckMs = FRAME_MS / 2;
/** The last check's time (here, or the worker's when it was not here); none inline before one is known. */
let recentCheckMs = Number.POSITIVE_INFINITY;
let checkedHere = 0;
/** Keys faster than a frame (a paste, a burst) are left to the worker, which coalesces them. */
let checkedHereAt = Number.NEGATIVE_INFINITY;
function checkHere(): void {
  if (recentCheckMs > inlineCheckMs) return;
  const started = performance.now();
  if (started - checkedHereAt < FRAME_MS) return;
  checkedHereAt = started;
  let checked: ReturnType<typeof checkFiles>;
  try {
    checked = checkFiles(sources());
  } catch {
    recentCheckMs = Number.POSITIVE_INFINITY; // the worker's answer follows, and says what went wrong
    return;
  }
  const ms = performance.now() - started;
  recentCheckMs = ms;
  checkedHere = version;
  showChecked(version, checked.diagnostics, checked.names, ms, started + ms);
}

/** A check's answer on screen, and the key's time to it (for the benchmark) when it was a key. */
function showChecked(checked: number, answer: readonly PlaygroundDiagnostic[], declared: DeclaredNames, ms: number, answeredAt: number): void {
  diagnostics = answer;
  lastCheckMs = ms;
  namesChanged(declared);
  showDiagnostics();
  const key = keyTimes.get(checked);
  if (key === undefined) return;
  const shown = performance.now();
  latencies.push(shown - key.key);
  latencyParts.push({ toSend: key.sent - key.key, toAnswer: answeredAt - key.sent, toShow: shown - answeredAt });
  keyTimes.clear();
}

let saveTimer: ReturnType<typeof setTimeout> | undefined;
let loadedExample: string | undefined;
function textChanged(edited = true): void {
  version++;
  if (keyAt !== undefined) {
    keyTimes.set(version, { key: keyAt, sent: performance.now() });
    keyAt = undefined;
  }
  requestCheck();
  checkHere();
  if (edited) {
    loadedExample = undefined;
    exampleSelect.value = "";
  }
  // Saving (local storage, the URL) waits for a pause in typing.
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => void save(), 600);
}

async function save(): Promise<void> {
  const state: SavedState = { files: sources(), ...(loadedExample ? { example: loadedExample } : {}) };
  store(localStorage, state);
  const hash = await encodeState(state);
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

editorHost.addEventListener(
  "keydown",
  () => {
    keyAt = performance.now();
    lastKeyTime = keyAt;
  },
  true,
);

function jump(file: string, line: number, column: number): void {
  openFile(file);
  editor.setPosition({ lineNumber: line, column });
  editor.revealPositionInCenterIfOutsideViewport({ lineNumber: line, column });
  editor.focus();
}

// ---------------------------------------------------------------------------
// Diagnostics: squiggles, the problems list, the status bar.

const problemsList = byId("problems");
const problemCounts = byId("problem-counts");
enableArrowKeys(problemsList);

function markerOf(d: PlaygroundDiagnostic): monaco.editor.IMarkerData {
  const hints = d.hints.map((hint) => `\nhint: ${hint}`).join("");
  return {
    severity: d.severity === "error" ? monaco.MarkerSeverity.Error : monaco.MarkerSeverity.Warning,
    code: d.code,
    source: "mptcp-policy",
    message: `${d.message}${hints}`,
    startLineNumber: d.line,
    startColumn: d.column,
    // An empty span (end of file) still gets a visible squiggle.
    endLineNumber: d.endLine,
    endColumn: d.endLine === d.line && d.endColumn <= d.column ? d.column + 1 : d.endColumn,
    relatedInformation: d.related.map((r) => ({
      resource: uriOf(r.file),
      message: r.message,
      startLineNumber: r.line,
      startColumn: r.column,
      endLineNumber: r.endLine,
      endColumn: r.endColumn,
    })),
  };
}

function showDiagnostics(): void {
  for (const f of files) monaco.editor.setModelMarkers(f.model, "mptcp-policy", diagnostics.filter((d) => d.file === f.name).map(markerOf));
  renderProblems(problemsList, problemCounts, diagnostics, jump);
  renderFileTabs();
  renderStatus();
}

const statusCheck = byId("status-check");
const statusDetail = byId("status-detail");
const statusCursor = byId("status-cursor");
const liveRegion = byId("live-summary");
function renderStatus(): void {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  const state = errors > 0 ? "error" : warnings > 0 ? "warning" : "ok";
  const text =
    errors > 0
      ? `${errors} error${errors === 1 ? "" : "s"}${warnings ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}`
      : warnings > 0
        ? `Checks, ${warnings} warning${warnings === 1 ? "" : "s"}`
        : "Policy checks clean";
  statusCheck.dataset["state"] = state;
  replaceChildren(statusCheck, h("span", { className: "status-dot", "aria-hidden": "true" }), text);
  if (liveRegion.textContent !== text) liveRegion.textContent = text;
  const strategy = outputs ? (outputs.plan.strategy === "kernel" ? "in-kernel path manager" : "userspace path manager") : "";
  statusDetail.textContent = [`checked in ${lastCheckMs.toFixed(1)} ms`, strategy].filter(Boolean).join(" · ");
}

editor.onDidChangeCursorPosition((e) => (statusCursor.textContent = `Ln ${e.position.lineNumber}, Col ${e.position.column}`));

// ---------------------------------------------------------------------------
// Output tabs.

const panels = {
  plan: byId("panel-plan"),
  bpf: byId("panel-bpf"),
  explain: byId("panel-explain"),
  simulator: byId("panel-simulator"),
  scheduler: byId("panel-scheduler"),
};
// While the policy has errors the tabs keep the output of its last version without
// errors, marked as such, instead of flashing empty at every unfinished word.
let lastGood: Outputs | undefined;
let outputsVersion = 0;
const staleBanners = Object.values(panels).map((panel) => {
  const banner = h(
    "p",
    { className: "stale-banner", role: "note", hidden: true },
    h("span", { "aria-hidden": "true" }, "⚠"),
    " The policy has errors: this is the output of its last version without errors.",
  );
  panel.prepend(banner);
  return { panel, banner };
});
const planContent = h("div", {});
const explainContent = h("div", {});
panels.plan.append(planContent);
panels.explain.append(explainContent);
function markStale(which: HTMLElement[], stale: boolean): void {
  for (const { panel, banner } of staleBanners) {
    if (!which.includes(panel)) continue;
    banner.hidden = !stale;
    panel.classList.toggle("stale", stale);
  }
}
let bpfEditor: monaco.editor.IStandaloneCodeEditor | undefined;
const bpfHost = h("div", { className: "bpf-editor", id: "bpf-editor" });
const bpfMessage = h("div", { className: "bpf-message" });
panels.bpf.append(bpfMessage, bpfHost);

const outputTabs = setUpTabs(byId("output-tabs"), (id) => {
  renderOutputs();
  try {
    localStorage.setItem("mptcp-policy.playground.tab", id);
  } catch {
    // no storage: fine
  }
});

let bpfFile = "sched.bpf.c";
const bpfPicker = h("select", { id: "bpf-file", "aria-label": "BPF source file" });
bpfPicker.addEventListener("change", () => ((bpfFile = bpfPicker.value), renderBpf()));
const bpfToolbar = h(
  "div",
  { className: "bpf-toolbar" },
  h("label", { className: "field" }, h("span", {}, "File"), bpfPicker),
  h("span", { className: "muted small", id: "bpf-note" }),
);
panels.bpf.insertBefore(bpfToolbar, bpfMessage);

function renderBpf(): void {
  if (outputTabs.selected() !== "tab-bpf") return;
  const bpf = (outputs ?? lastGood)?.bpf;
  if (!bpf || !bpf.available) {
    bpfHost.hidden = true;
    bpfToolbar.hidden = true;
    replaceChildren(bpfMessage, bpf ? h("div", { className: "blocked" }, h("p", {}, "No BPF C to show: ", bpf.reason, ".")) : blocked("generated BPF C"));
    return;
  }
  const file = bpf.files.find((f) => f.name === bpfFile) ?? bpf.files[0];
  if (!file) return;
  bpfFile = file.name;
  replaceChildren(
    bpfPicker,
    h(
      "optgroup",
      { label: "Generated from the policy" },
      bpf.files.filter((f) => f.generated).map((f) => h("option", { value: f.name, selected: f.name === bpfFile }, f.name)),
    ),
    h(
      "optgroup",
      { label: "Hand-written, included" },
      bpf.files.filter((f) => !f.generated).map((f) => h("option", { value: f.name, selected: f.name === bpfFile }, f.name)),
    ),
  );
  byId("bpf-note").textContent = file.generated
    ? "generated by mptcp-policy compile --emit bpf · read-only"
    : "hand-written helper, shipped with mptcp-policy · read-only";
  replaceChildren(bpfMessage, ...bpf.problems.map((p) => h("p", { className: "field-error bpf-problem", role: "alert" }, p)));
  bpfToolbar.hidden = false;
  bpfHost.hidden = false;
  bpfEditor ??= monaco.editor.create(bpfHost, {
    language: "c",
    readOnly: true,
    automaticLayout: true,
    minimap: { enabled: false },
    fontFamily: '"DejaVu Sans Mono", ui-monospace, "SF Mono", Menlo, Consolas, monospace',
    fontSize: 12.5,
    lineHeight: 19,
    scrollBeyondLastLine: false,
    padding: { top: 10 },
    ariaLabel: "Generated BPF C (read-only)",
  });
  if (bpfEditor.getValue() !== file.text) {
    bpfEditor.setValue(file.text);
    bpfEditor.setScrollTop(0);
  }
}

// The outputs are drawn for the tab on screen only, and while keys are being typed
// they wait for a pause: the diagnostics never wait for them.
let lastKeyTime = 0;
let renderTimer: ReturnType<typeof setTimeout> | undefined;
const drawn = { plan: "", explain: "" };

/** Ask for the outputs of a checked version: at once, or when typing pauses. */
function wantOutputs(checked: number): void {
  clearTimeout(renderTimer);
  const typing = performance.now() - lastKeyTime < 400;
  renderTimer = setTimeout(() => checked === version && send({ type: "outputs", version: checked }), typing ? 300 : 0);
}

function renderOutputs(): void {
  const tab = outputTabs.selected();
  const shown = outputs ?? lastGood;
  markStale([panels.plan, panels.explain, panels.bpf], outputs === undefined && lastGood !== undefined);
  if (tab === "tab-plan") {
    // The plan shows source lines too: drawn again when either changed.
    const text = sources();
    const key = shown ? `${JSON.stringify(shown.plan)}\0${shown === outputs ? text.map((f) => f.text).join("\0") : ""}` : "";
    if (key !== drawn.plan || key === "") renderPlan(planContent, shown?.plan, jump, shown === outputs ? sourceLines(text) : () => undefined);
    drawn.plan = key;
  } else if (tab === "tab-explain") {
    const key = shown?.explain ?? "";
    if (key !== drawn.explain || key === "") renderExplain(explainContent, shown?.explain, jump);
    drawn.explain = key;
  } else if (tab === "tab-bpf") {
    renderBpf();
  }
  renderStatus();
}

// Simulator and scheduler view: their inputs go to the worker, which keeps them and
// runs them again after every check.
let scheduleInput: ScheduleInput | undefined;
const timeline = setUpTimeline(panels.simulator, () => sendInputs(), jump);
const schedule = setUpSchedule(panels.scheduler, () => sendInputs());
function sendInputs(): void {
  send({ type: "inputs", events: timeline.events(), snapshot: scheduleInput ? snapshotJson(scheduleInput) : undefined });
}
let namesKey = "";
function namesChanged(next: DeclaredNames): void {
  names = next;
  const key = JSON.stringify(next.interfaces.map((i) => [i.name, i.patterns]));
  if (key === namesKey) return;
  namesKey = key;
  timeline.setNames(next);
  // A fresh connection whose subflows use the policy's own interfaces.
  scheduleInput = defaultScheduleInput(next);
  schedule.setInput(scheduleInput);
  sendInputs();
}

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "checked": {
      const received = performance.now();
      checkInFlight = false;
      if (checkWanted) requestCheck();
      if (message.version !== version) return;
      checkTimes.push(message.ms);
      // The worker's time decides only for texts not checked here (it may be busy with outputs).
      if (checkedHere !== message.version) recentCheckMs = message.ms;
      wantOutputs(message.version);
      // Checked here already: the same text and checker, the same diagnostics.
      if (checkedHere === message.version) break;
      showChecked(message.version, message.diagnostics, message.names, message.ms, received);
      break;
    }
    case "outputs":
      if (message.version !== version) return;
      outputs = message.outputs;
      outputsVersion = message.version;
      if (outputs) lastGood = outputs;
      renderOutputs();
      break;
    case "simulated":
      // Results come in order; while the text has errors they are the last good version's.
      markStale([panels.simulator, panels.scheduler], message.stale && message.result !== undefined);
      timeline.showResults(message.result?.steps, message.result?.missing);
      schedule.showResult(message.result?.schedule);
      break;
    case "formatted":
      formatRequests.get(message.id)?.(message);
      formatRequests.delete(message.id);
      break;
    case "served":
      serviceRequests.get(message.id)?.(message.result);
      serviceRequests.delete(message.id);
      break;
    case "crashed":
      checkInFlight = false;
      toast(`The checker stopped on an internal error: ${message.message}`, "error");
      console.warn("check worker:", message.message);
      break;
  }
};
worker.onerror = (event) => toast(`The check worker failed to start: ${event.message}`, "error");

// ---------------------------------------------------------------------------
// Header: examples, format, share, theme, help.

const exampleSelect = byId<HTMLSelectElement>("example-picker");
replaceChildren(
  exampleSelect,
  h("option", { value: "" }, "Your policy"),
  h(
    "optgroup",
    { label: "Examples" },
    EXAMPLES.map((e) => h("option", { value: e.name }, `${e.name}${e.files.length > 1 ? ` (${e.files.length} files)` : ""}`)),
  ),
);
exampleSelect.addEventListener("change", () => {
  const example = EXAMPLES.find((e) => e.name === exampleSelect.value);
  if (!example) return;
  // The text before is one Back away.
  void save().then(() => {
    history.pushState(null, "", location.href);
    loadExample(example.name);
  });
});

function loadExample(name: string): void {
  const example = EXAMPLES.find((e) => e.name === name);
  if (!example) return;
  loadFiles({ files: example.files });
  loadedExample = name;
  exampleSelect.value = name;
  void save();
}

byId("format-button").addEventListener("click", () => {
  void editor.getAction("editor.action.formatDocument")?.run();
  editor.focus();
});

byId("share-button").addEventListener("click", async () => {
  await save();
  try {
    await navigator.clipboard.writeText(location.href);
    toast("Link copied: it holds the whole policy.", "ok");
  } catch {
    toast("Copy the link from the address bar: it holds the whole policy.", "ok");
  }
});

byId("theme-button").addEventListener("click", () => {
  const next = currentTheme() === "dark" ? "light" : "dark";
  try {
    localStorage.setItem(THEME_KEY, next);
  } catch {
    // the choice lasts this page only
  }
  applyTheme();
});
systemDark.addEventListener("change", applyTheme);

const helpDialog = byId<HTMLDialogElement>("help-dialog");
byId("help-button").addEventListener("click", () => helpDialog.showModal());
byId("help-close").addEventListener("click", () => helpDialog.close());

let toastTimer: ReturnType<typeof setTimeout> | undefined;
function toast(text: string, kind: "ok" | "error"): void {
  const element = byId("toast");
  element.textContent = text;
  element.dataset["kind"] = kind;
  element.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (element.hidden = true), 4000);
}

// Keyboard: Alt+1 editor, Alt+2 problems, Alt+3 output tabs.
document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === "1") editor.focus();
  else if (event.key === "2") (problemsList.querySelector("button") ?? byId("problems-heading")).focus();
  else if (event.key === "3") document.querySelector<HTMLElement>('#output-tabs [aria-selected="true"]')?.focus();
  else return;
  event.preventDefault();
});

// ---------------------------------------------------------------------------
// Start: the URL's text, else the stored text, else the default example.

async function start(): Promise<void> {
  applyTheme();
  const fromUrl = await decodeState(location.hash);
  const stored = loadStored(localStorage);
  const fallback = EXAMPLES.find((e) => e.name === DEFAULT_EXAMPLE) ?? EXAMPLES[0];
  if (fromUrl) loadFiles(fromUrl);
  else if (stored?.example && EXAMPLES.some((e) => e.name === stored.example)) loadExample(stored.example);
  else if (stored) loadFiles(stored);
  else if (fallback) loadExample(fallback.name);
  else loadFiles(STARTER);
  try {
    const tab = localStorage.getItem("mptcp-policy.playground.tab");
    if (tab && document.getElementById(tab)?.getAttribute("role") === "tab") outputTabs.select(tab);
  } catch {
    // no storage
  }
  document.body.dataset["ready"] = "true";
}

window.addEventListener("popstate", () => {
  void decodeState(location.hash).then((state) => state && loadFiles(state));
});

// For the end-to-end tests and the benchmark: read-only views of the page's state, and
// the one knob the tests turn (the inline check's limit, which otherwise follows timing).
(window as unknown as { __playground: unknown }).__playground = {
  monaco,
  editor,
  latencies,
  latencyParts,
  checkTimes,
  version: () => version,
  diagnostics: () => diagnostics,
  files: () => sources(),
  /** Whether everything on screen is for the current text: its diagnostics and outputs. */
  settled: () => !checkInFlight && outputsVersion === version,
  loadExample,
  /** The version last checked on this thread, and the limit under which texts are. */
  checkedHere: () => checkedHere,
  setInlineCheckLimit: (ms: number) => {
    inlineCheckMs = ms;
    recentCheckMs = ms > 0 ? 0 : Number.POSITIVE_INFINITY;
    checkedHereAt = Number.NEGATIVE_INFINITY;
  },
};

void start();
