import { distance } from 'fastest-levenshtein';

/**
 * The candidate a misspelt name most likely meant, or undefined when none is close: at
 * most a third of the name's letters differ (`work_pol` → `work_pool`,
 * `PrefectOrchestrater` → `PrefectOrchestrator`), case ignored, so an unrelated name
 * is never suggested.
 */
export function didYouMean(name: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d <= Math.max(1, Math.floor(name.length / 3)) && (!best || d < best.distance)) best = { candidate, distance: d };
  }
  return best?.candidate;
}
