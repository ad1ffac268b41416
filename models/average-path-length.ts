const EULER_GAMMA = 0.5772156649015329;

/**
 * c(n): the average path length of an unsuccessful search in a binary search tree of n
 * points, used to normalise isolation depths (Liu, Ting, Zhou 2008, eq. 1):
 *   c(n) = 2 H(n-1) - 2 (n-1) / n,   H(i) ≈ ln(i) + γ (Euler's constant),
 * with c(1) = 0 and c(2) = 1. Note γ enters twice (2 H), a detail some libraries get wrong.
 * Cost O(1).
 * @example averagePathLength(256) // ≈ 10.24
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}
