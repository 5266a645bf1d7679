// Monaco, as the playground uses it: the editor API with all editor features
// (find, hover, completion, formatting, go to problem, ...), only the languages it
// shows (its own and C for the generated BPF), and its web worker wired up: the
// worker is a bundle of its own next to this one (scripts/build-playground.mjs).
import "monaco-editor/features/register.all.js";
import "monaco-editor/languages/definitions/cpp/register.js";
import * as monaco from "monaco-editor/editor/editor.api.js";

// Monaco declares the global `MonacoEnvironment` (monaco.Environment) itself.
globalThis.MonacoEnvironment = {
  // Monaco asks for a worker per language service; only the editor worker (diffs,
  // word ranges, links) is needed: the policy checker has a worker of its own.
  getWorker: () => new Worker(new URL("editor.worker.js", document.baseURI), { type: "module", name: "monaco-editor" }),
};

export { monaco };
