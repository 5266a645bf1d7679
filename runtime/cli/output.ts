// Where command output goes and how it looks: colour only on a terminal, and never
// when NO_COLOR is set.
import { ANSI_STYLE, NO_STYLE, type Style } from "../../language/diagnostics.js";

export function styleFor(stream: NodeJS.WriteStream): Style {
  return stream.isTTY && !process.env["NO_COLOR"] ? ANSI_STYLE : NO_STYLE;
}

export function writeOut(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

export function writeErr(text: string): void {
  process.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}
