// "Did you mean": the closest known word within a small edit distance.
import { distance } from "fastest-levenshtein";

export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // Allow about one typo per three letters, and never a completely different word.
  const allowed = Math.max(1, Math.floor(word.length / 3));
  return bestDistance <= allowed && bestDistance < word.length ? best : undefined;
}

export function didYouMean(word: string, candidates: Iterable<string>): string[] {
  const match = closest(word, candidates);
  return match ? [`did you mean '${match}'?`] : [];
}

/** The suggestion if there is one, else the general advice. */
export function orElse(suggestion: string[], advice: string): string[] {
  return suggestion.length > 0 ? suggestion : [advice];
}
