/**
 * Leave one corpus out: for each corpus, the threshold that does best on the others (highest mean
 * headline score), and what that threshold gives on the corpus left out, beside its score at the
 * product's threshold (1) and at its own best. A default chosen on some corpora is judged on one
 * it was not chosen on.
 */
export interface LeaveOneOut {
  heldOut: string;
  /** Chosen on the other corpora. */
  threshold: number;
  /** The held-out corpus' score at that threshold. */
  score: number;
  /** Its score at threshold 1. */
  atOne: number;
  /** Its score at its own best threshold in the grid (optimistic: chosen on itself). */
  best: number;
}

/** `scores[corpus][k]` is the corpus' headline score at `grid[k]`; higher is better. */
export function leaveOneOut(grid: readonly number[], scores: Record<string, readonly number[]>): LeaveOneOut[] {
  const names = Object.keys(scores);
  const one = grid.indexOf(1);
  return names.map((heldOut) => {
    const others = names.filter((n) => n !== heldOut);
    let pick = 0;
    let pickMean = -Infinity;
    grid.forEach((_, k) => {
      const mean = others.reduce((a, n) => a + scores[n][k], 0) / Math.max(1, others.length);
      if (mean > pickMean) {
        pickMean = mean;
        pick = k;
      }
    });
    const own = scores[heldOut];
    return { heldOut, threshold: grid[pick], score: own[pick], atOne: one >= 0 ? own[one] : NaN, best: Math.max(...own) };
  });
}
