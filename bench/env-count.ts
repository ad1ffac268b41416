/**
 * A whole number of at least `min` from the environment variable `name`, or `fallback` when it is
 * unset. Anything else stops the bench with exit code 2 and says which variable and why, so a typo
 * never runs a bench of 0 series that looks like a result.
 */
export function envCount(name: string, fallback: number, min = 1): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`${name}=${text}: expected a whole number of at least ${min}\n`);
    process.exit(2);
  }
  return n;
}
