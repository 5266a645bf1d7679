// The source text at a model position, as the plan and scheduler views show it.
import type { SourceRef } from "../compiler/model.js";

/** The code from a position to the end of its line, a trailing comment left out. */
export type SourceLine = (at: SourceRef) => string | undefined;

/** A SourceLine over the policy's files. */
export function sourceLines(files: readonly { readonly name: string; readonly text: string }[]): SourceLine {
  const lines = new Map(files.map((f) => [f.name, f.text.split(/\r?\n/)]));
  return (at) => {
    const line = lines.get(at.file)?.[at.line - 1];
    if (line === undefined) return undefined;
    const code = line.slice(at.column - 1);
    // Cut a trailing comment: a `#` outside a string.
    let inString = false;
    for (let i = 0; i < code.length; i++) {
      const c = code[i];
      if (c === "\\" && inString) i++;
      else if (c === '"') inString = !inString;
      else if (c === "#" && !inString) return code.slice(0, i).trim();
    }
    return code.trim();
  };
}
