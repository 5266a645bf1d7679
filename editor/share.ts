// The editor's files in the URL (a link that can be shared) and in local storage.
// The link holds the files as JSON, deflated and in base64url after `#code=`, so a
// policy never reaches a server: the fragment stays in the browser.
import type { PolicyText } from "./protocol.js";

export interface SavedState {
  readonly files: readonly PolicyText[];
  /** The example it was loaded from, if unchanged since. */
  readonly example?: string;
}

/** localStorage, or anything with its two methods. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

const PREFIX = "#code=";
const STORAGE_KEY = "mptcp-policy.playground.v1";

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Blob([bytes as BlobPart]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

function isState(value: unknown): value is SavedState {
  const files = (value as { files?: unknown } | null)?.files;
  return (
    Array.isArray(files) &&
    files.length > 0 &&
    files.every((f) => typeof f?.name === "string" && typeof f?.text === "string" && /^[\w.-]+\.policy$/.test(f.name))
  );
}

export async function encodeState(state: SavedState): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify({ files: state.files.map((f) => ({ name: f.name, text: f.text })) }));
  return PREFIX + toBase64Url(await pipe(json, new CompressionStream("deflate-raw")));
}

/** The files in a URL fragment, or undefined when it holds none (or is damaged). */
export async function decodeState(hash: string): Promise<SavedState | undefined> {
  if (!hash.startsWith(PREFIX)) return undefined;
  try {
    const json = new TextDecoder().decode(await pipe(fromBase64Url(hash.slice(PREFIX.length)), new DecompressionStream("deflate-raw")));
    const value: unknown = JSON.parse(json);
    return isState(value) ? { files: value.files.map((f) => ({ name: f.name, text: f.text })) } : undefined;
  } catch {
    return undefined;
  }
}

export function loadStored(storage: KeyValueStore | undefined): SavedState | undefined {
  try {
    const value: unknown = JSON.parse(storage?.getItem(STORAGE_KEY) ?? "null");
    return isState(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function store(storage: KeyValueStore | undefined, state: SavedState): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(state));
  } catch {
    // Full or disabled storage: the URL still holds the text.
  }
}
