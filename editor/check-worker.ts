// The check worker: the real front end and back ends, off the page's main thread, so
// typing never waits for them. A check answers with the diagnostics (what the
// squiggles need, as soon as possible); the plan, explain, BPF C and the simulator's
// results are computed when the page asks for them, once typing pauses, so that on
// a small machine they never compete with the next key's check. The page sends a
// text only when the previous one is answered, and then its newest text: keys typed
// meanwhile are coalesced there, never queued here.
import type { PolicyModel } from "../compiler/model.js";
import { analyzePolicy, type Analysis } from "../language/service/index.js";
import { checkFiles, formatText, outputsOf, serve } from "./analysis.js";
import type { FromWorker, PolicyText, ToWorker } from "./protocol.js";
import { simulate } from "./simulate.js";
import { sourceLines, type SourceLine } from "./source-lines.js";

interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
}
const scope = self as unknown as WorkerScope;

/** The version last checked, kept for the back ends until the page asks for them. */
let lastChecked: { version: number; files: readonly PolicyText[]; model: PolicyModel | undefined; analysis: Analysis } | undefined;
let model: PolicyModel | undefined;
let modelVersion = 0;
let modelSource: SourceLine = () => undefined;
let inputs: { events: readonly unknown[]; snapshot: unknown } = { events: [], snapshot: undefined };

function post(message: FromWorker): void {
  scope.postMessage(message);
}

/** The simulator runs on the last model without errors; `stale` says it is not the newest text's. */
let stale = false;
function runSimulation(): void {
  post({ type: "simulated", version: modelVersion, stale, result: model ? simulate(model, inputs.events, inputs.snapshot, modelSource) : undefined });
}

function runCheck(request: { version: number; files: readonly PolicyText[] }): void {
  const started = performance.now();
  const checked = checkFiles(request.files);
  lastChecked = { version: request.version, files: request.files, model: checked.result.model, analysis: checked.analysis };
  post({ type: "checked", version: request.version, diagnostics: checked.diagnostics, names: checked.names, ms: performance.now() - started });
}

function runBackEnds(version: number): void {
  // Asked for a version that a newer text has replaced: its answer is on the way.
  if (!lastChecked || lastChecked.version !== version) return;
  const started = performance.now();
  const checkedModel = lastChecked.model;
  stale = checkedModel === undefined;
  if (checkedModel) {
    model = checkedModel;
    modelVersion = version;
    modelSource = sourceLines(lastChecked.files);
  }
  post({ type: "outputs", version, outputs: checkedModel ? outputsOf(checkedModel) : undefined, ms: performance.now() - started });
  runSimulation();
}

function guarded(work: () => void): void {
  try {
    work();
  } catch (cause) {
    post({ type: "crashed", message: cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause) });
  }
}

scope.onmessage = (event) => {
  const message = event.data;
  try {
    switch (message.type) {
      case "check":
        runCheck(message);
        break;
      case "outputs":
        runBackEnds(message.version);
        break;
      case "inputs":
        inputs = { events: message.events, snapshot: message.snapshot };
        runSimulation();
        break;
      case "service": {
        // On the text last checked when it is the one asked about, else on the text sent.
        const analysis = lastChecked?.version === message.version ? lastChecked.analysis : analyzePolicy(message.files);
        post({ type: "served", id: message.id, result: serve(analysis, message.request) });
        break;
      }
      case "format": {
        const formatted = formatText(message.file);
        post({ type: "formatted", id: message.id, ...formatted });
        break;
      }
    }
  } catch (cause) {
    post({ type: "crashed", message: cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause) });
  }
};
