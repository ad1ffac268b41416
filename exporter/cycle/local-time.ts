/**
 * Hour of week in a time zone (0 = Monday 00:00 to 167 = Sunday 23:00), for the seasonal profile,
 * daylight saving included (Intl knows the zone's rules). Intl is slow, so answers are cached per
 * zone and UTC quarter hour, which no zone offset splits; the series of a cycle share their times.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
const cache = new Map<string, Map<number, number>>();
const WEEKDAY: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

export function hourOfWeek(tsSeconds: number, timeZone: string): number {
  // Keyed by the UTC quarter hour, which no zone offset splits.
  const key = Math.floor(tsSeconds / 900);
  let zoneCache = cache.get(timeZone);
  if (!zoneCache) {
    zoneCache = new Map();
    cache.set(timeZone, zoneCache);
  }
  const hit = zoneCache.get(key);
  if (hit !== undefined) return hit;
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: 'numeric', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  let weekday = 0;
  let hour = 0;
  for (const part of f.formatToParts(new Date(key * 900 * 1000))) {
    if (part.type === 'weekday') weekday = WEEKDAY[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value) % 24;
  }
  const slot = weekday * 24 + hour;
  if (zoneCache.size > 100_000) zoneCache.clear();
  zoneCache.set(key, slot);
  return slot;
}

export function hoursOfWeek(times: ArrayLike<number>, timeZone: string): Uint8Array {
  const out = new Uint8Array(times.length);
  for (let i = 0; i < times.length; i++) out[i] = hourOfWeek(times[i], timeZone);
  return out;
}
