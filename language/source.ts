// A policy file's text and the mapping from offsets to the 1-based line and column
// users see. Columns count UTF-16 code units, as editors (Monaco) do.

export interface SourceFile {
  readonly name: string;
  readonly text: string;
  /** Offset where each line starts; computed once, on first use. */
  lineStarts(): readonly number[];
}

export interface Position {
  readonly line: number;
  readonly column: number;
}

export function sourceFile(name: string, text: string): SourceFile {
  let starts: number[] | undefined;
  return {
    name,
    text,
    lineStarts() {
      if (!starts) {
        starts = [0];
        for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
      }
      return starts;
    },
  };
}

/** The 1-based line and column of an offset. */
export function positionAt(file: SourceFile, offset: number): Position {
  const starts = file.lineStarts();
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - (starts[low] ?? 0) + 1 };
}

/** The text of a 1-based line, without its line end. */
export function lineText(file: SourceFile, line: number): string {
  const starts = file.lineStarts();
  const start = starts[line - 1] ?? file.text.length;
  const next = starts[line];
  const end = next === undefined ? file.text.length : next - 1;
  return file.text.slice(start, end).replace(/\r$/, "");
}

/** A half-open range of offsets in one file. */
export interface Span {
  readonly file: SourceFile;
  readonly start: number;
  readonly end: number;
}

export function span(file: SourceFile, start: number, end: number): Span {
  return { file, start, end: Math.max(start, end) };
}

export function joinSpans(first: Span, last: Span): Span {
  return { file: first.file, start: Math.min(first.start, last.start), end: Math.max(first.end, last.end) };
}
