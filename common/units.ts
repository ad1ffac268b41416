/**
 * A signal's values as people read them, from the `unit` the config gives the signal: seconds as
 * ms or s, a ratio as a percentage, bytes in binary multiples, any other unit written after the
 * number ("12.3 requests/s"). Without a unit, the number alone. Shared by both daemons' pages.
 */

/** Units the config accepts: a word or short phrase ("seconds", "requests/s", "ratio", "bytes"). */
export const UNIT_PATTERN = /^[A-Za-z%][A-Za-z0-9%/_ .-]{0,23}$/;

/** Four significant digits at most, no exponent for everyday magnitudes. */
export function formatNumber(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-4) return v.toPrecision(3);
  return Number(v.toPrecision(4)).toString();
}

export function formatWithUnit(v: number | null | undefined, unit?: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  switch (unit) {
    case undefined:
    case '':
      return formatNumber(v);
    case 'seconds':
    case 's':
      if (a === 0) return '0 s';
      if (a < 1e-3) return `${formatNumber(v * 1e6)} µs`;
      if (a < 1) return `${formatNumber(v * 1e3)} ms`;
      if (a < 120) return `${formatNumber(v)} s`;
      return `${formatNumber(v / 60)} min`;
    case 'ratio':
      return `${formatNumber(v * 100)} %`;
    case 'percent':
    case '%':
      return `${formatNumber(v)} %`;
    case 'bytes': {
      const steps = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let k = 0;
      let x = v;
      while (Math.abs(x) >= 1024 && k < steps.length - 1) {
        x /= 1024;
        k++;
      }
      return `${formatNumber(x)} ${steps[k]}`;
    }
    default:
      return `${formatNumber(v)} ${unit}`;
  }
}

/** A duration in seconds, with formatWithUnit's rounding (one rule for every page and message). */
export function formatSeconds(v: number): string {
  return formatWithUnit(v, 'seconds');
}

/** A signed offset in seconds ("+26.96 s", "-3 s"), for timelines. */
export function formatOffset(v: number): string {
  return `${v >= 0 ? '+' : '-'}${formatSeconds(Math.abs(v))}`;
}
