/**
 * Prometheus duration syntax (`1h30m`, `15s`, `500ms`), as documented at
 * https://prometheus.io/docs/prometheus/latest/configuration/configuration/#duration
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};
const UNIT_ORDER = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
const PART = /(\d+)(ms|y|w|d|h|m|s)/y;

/** Parses a Prometheus duration into milliseconds; throws with a readable reason. */
export function parseDurationMs(text: string): number {
  if (typeof text !== 'string' || text.length === 0) throw new Error('expected a duration such as 30s, 5m or 1h');
  if (text === '0') return 0;
  PART.lastIndex = 0;
  let total = 0;
  let lastUnit = -1;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== start) {
      throw new Error(`"${text}" is not a duration (expected e.g. 30s, 5m, 1h30m)`);
    }
    const unitIndex = UNIT_ORDER.indexOf(m[2]);
    if (unitIndex <= lastUnit) throw new Error(`"${text}" is not a duration: units must go from largest to smallest, once each`);
    lastUnit = unitIndex;
    total += Number(m[1]) * UNIT_MS[m[2]];
  }
  return total;
}

/** Formats milliseconds back into the shortest Prometheus duration. */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const unit of UNIT_ORDER) {
    const size = UNIT_MS[unit];
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}
