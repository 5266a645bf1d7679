// Go to definition, find references and rename for interface and scheduler names,
// across the files of the policy (names are global to a policy, as the checker has
// them). A rename is refused with the reason the checker would give afterwards: a
// name that is not a valid identifier, a keyword, or a name already declared. Pure.
import { IDENTIFIER_PATTERN, KEYWORDS, SCHEDULER_NAME_MAX } from "../vocabulary.js";
import { locationOf, offsetAt, type Analysis, type Location, type Position } from "./analysis.js";
import { declarationsOf, occurrenceAt, occurrencesOf, type Occurrence } from "./symbols.js";

function symbolAt(analysis: Analysis, file: string, position: Position): Occurrence | undefined {
  const text = analysis.texts.get(file);
  if (text === undefined) return undefined;
  return occurrenceAt(analysis.symbols, file, offsetAt(text, position));
}

/** Where the name at a position is declared (the first declaration first). */
export function definitionAt(analysis: Analysis, file: string, position: Position): Location[] {
  const symbol = symbolAt(analysis, file, position);
  if (symbol === undefined) return [];
  return declarationsOf(analysis.symbols, symbol.kind, symbol.name).map((d) => locationOf(d.span));
}

/** Every use of the name at a position, its declarations too unless left out. */
export function referencesAt(analysis: Analysis, file: string, position: Position, includeDeclaration = true): Location[] {
  const symbol = symbolAt(analysis, file, position);
  if (symbol === undefined) return [];
  return occurrencesOf(analysis.symbols, symbol.kind, symbol.name)
    .filter((o) => includeDeclaration || !o.declaration)
    .map((o) => locationOf(o.span));
}

/** The name a rename at this position would change, and where it is; none if nothing there can be renamed. */
export function renameTarget(analysis: Analysis, file: string, position: Position): { name: string; range: Location } | undefined {
  const symbol = symbolAt(analysis, file, position);
  // Only a declared name: renaming a typo would not rename what it meant.
  if (symbol === undefined || declarationsOf(analysis.symbols, symbol.kind, symbol.name).length === 0) return undefined;
  return { name: symbol.name, range: locationOf(symbol.span) };
}

export type RenameResult = { readonly edits: readonly { readonly range: Location; readonly newText: string }[] } | { readonly error: string };

export function renameAt(analysis: Analysis, file: string, position: Position, newName: string): RenameResult {
  const symbol = symbolAt(analysis, file, position);
  if (symbol === undefined) return { error: "no interface or scheduler name here" };
  if (declarationsOf(analysis.symbols, symbol.kind, symbol.name).length === 0)
    return { error: `${symbol.kind} '${symbol.name}' is not declared: nothing to rename` };
  if (newName === symbol.name) return { edits: [] };
  if (!IDENTIFIER_PATTERN.test(newName))
    return { error: `'${newName}' is not a valid name: use lower-case letters, digits and '_', not starting with a digit` };
  if (KEYWORDS.includes(newName)) return { error: `'${newName}' is a keyword` };
  const max = symbol.kind === "scheduler" ? SCHEDULER_NAME_MAX : 64;
  if (newName.length > max) return { error: `a ${symbol.kind} name has at most ${max} characters` };
  if (declarationsOf(analysis.symbols, symbol.kind, newName).length > 0) return { error: `${symbol.kind} '${newName}' is already declared` };
  return { edits: occurrencesOf(analysis.symbols, symbol.kind, symbol.name).map((o) => ({ range: locationOf(o.span), newText: newName })) };
}
