/**
 * An incident is not learned as normal while it lasts, and a lasting change is accepted on
 * purpose: the demo's own config (demo/anomaly-exporter.demo.yml: 1 s step, refits every 5 min,
 * accept_after 6 min) over the demo service's traffic signal (a 10 s rate of about 20 requests a
 * second), scored row by row by the live pipeline's code.
 */
import { join } from 'node:path';
import { loadConfig } from '../exporter/config/config';
import { backtestValues } from '../exporter/backtest/backtest';
import { normalFrom, seededRandom } from '../demo/seeded-random';

const config = loadConfig(join(__dirname, '..', 'demo', 'anomaly-exporter.demo.yml'));
const TRAFFIC = { direction: 'both' as const, min_deviation: 0, min_relative_deviation: 0.2 };
const START = 1_700_000_000;
/** Ten minutes of history, then the live part. */
const HISTORY = 600;

/** The demo service's traffic: 20 rps, the noise of a 10 s rate of Poisson arrivals (sd about 1.4 rps), times `factor(t)`. */
function traffic(seconds: number, factor: (t: number) => number, seed: number): { times: Float64Array; values: Float64Array } {
  const normal = normalFrom(seededRandom(seed));
  const times = Float64Array.from({ length: seconds }, (_, i) => START + i);
  const values = Float64Array.from({ length: seconds }, (_, i) => Math.max(0, 20 * factor(i) + Math.sqrt((20 * factor(i)) / 10) * normal()));
  return { times, values };
}

/** Score of each row above 1. */
const flagged = (score: Float64Array, from: number, to: number) => Array.from(score.subarray(from, to)).map((s) => s > 1);

/**
 * The series is anomalous on every row of [from, to): a score above 1 within the last
 * hold_samples rows of each, as the exporter's anomalous state, the published onset and the
 * shipped alert (on the 10-minute maximum of the score) see it.
 */
function staysAnomalous(score: Float64Array, from: number, to: number): boolean {
  const hold = config.ensemble.hold_samples;
  for (let i = from; i < to; i++) if (!flagged(score, Math.max(0, i - hold + 1), i + 1).some(Boolean)) return false;
  return true;
}

describe('an incident across refits (demo config)', () => {
  it('a 5-minute 50 % traffic drop stays flagged across the refit inside it, with no alarm before or after', async () => {
    const onset = HISTORY + 420; // the refit at 900 s (every 5 min from the start) falls inside the fault
    const end = onset + 300;
    const { times, values } = traffic(end + 600, (t) => (t >= onset && t < end ? 0.5 : 1), 1);
    const { score } = await backtestValues(values, times, config, TRAFFIC);
    expect(flagged(score, HISTORY, onset).some(Boolean)).toBe(false);
    // Detected within a few seconds, then anomalous until the fault ends, the refit included.
    const first = flagged(score, onset, end).indexOf(true);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(15);
    expect(staysAnomalous(score, onset + first, end)).toBe(true);
    // Once it is over, the series is normal again: the fault was not learned.
    expect(flagged(score, end + 30, end + 600).some(Boolean)).toBe(false);
  });

  it('a permanent 50 % drop is flagged, then accepted by the first refit after accept_after (6 min), not before', async () => {
    const onset = HISTORY + 120;
    const { times, values } = traffic(onset + 1500, (t) => (t >= onset ? 0.5 : 1), 2);
    const { score } = await backtestValues(values, times, config, TRAFFIC);
    const accepted = onset + 360;
    const first = flagged(score, onset, accepted).indexOf(true);
    expect(first).toBeLessThan(15);
    expect(staysAnomalous(score, onset + first, accepted)).toBe(true);
    // Refits every 5 minutes: the first one 6 minutes or more after the onset takes the new level.
    expect(flagged(score, accepted + 300 + 30, onset + 1500).some(Boolean)).toBe(false);
  });
});

/** Poisson counts by inversion (small means only). */
function poisson(mean: number, random: () => number): number {
  let k = 0;
  let p = Math.exp(-mean);
  let cdf = p;
  const u = random();
  while (u > cdf && k < 1000) {
    k++;
    p *= mean / k;
    cdf += p;
  }
  return k;
}

/**
 * The demo service's error ratio as its 10 s rate gives it: about 20 requests a second, 0.5 % of
 * them failing, `extra(t)` more while a fault is on. The 10 s window gives every fault a
 * shoulder: rows rising towards the band before the first score above 1, and falling after.
 */
function errorRatio(seconds: number, extra: (t: number) => number, seed: number): { times: Float64Array; values: Float64Array } {
  const random = seededRandom(seed);
  const requests: number[] = [];
  const errors: number[] = [];
  const times = Float64Array.from({ length: seconds }, (_, i) => START + i);
  const values = new Float64Array(seconds);
  for (let t = 0; t < seconds; t++) {
    const n = poisson(20, random);
    let e = 0;
    for (let k = 0; k < n; k++) if (random() < 0.005 + extra(t)) e++;
    requests.push(n);
    errors.push(e);
    let sumN = 0;
    let sumE = 0;
    for (let k = Math.max(0, t - 9); k <= t; k++) {
      sumN += requests[k];
      sumE += errors[k];
    }
    values[t] = sumN ? sumE / sumN : 0;
  }
  return { times, values };
}

describe('a resolved incident does not widen the band (demo config)', () => {
  const ERRORS = { direction: 'above' as const, min_deviation: config.reader.signals.errors.min_deviation, min_relative_deviation: 0 };

  it('three 90 s faults of 4 % more errors, refits between them: the band before the third is the band before the first', async () => {
    const onsets = [900, 1500, 2100];
    const { times, values } = errorRatio(2400, (t) => (onsets.some((o) => t >= o && t < o + 90) ? 0.04 : 0), 3);
    const { score, upper } = await backtestValues(values, times, config, ERRORS);
    // Each fault is caught.
    for (const o of onsets) expect(flagged(score, o, o + 90).some(Boolean)).toBe(true);
    const before = onsets.map((o) => upper[o - 1]);
    // Refits at 1200 s, 1800 s: each had the previous faults in its 10-minute window.
    expect(before[1]).toBeLessThanOrEqual(before[0] * 1.02);
    expect(before[2]).toBeLessThanOrEqual(before[0] * 1.02);
  });
});

/**
 * The demo service's p95 latency as its 10 s histogram rate gives it (about 20 requests a second,
 * log-normal around 20 ms), plus `extra(t)` seconds on every request.
 */
function latencyP95(seconds: number, extra: (t: number) => number, seed: number): { times: Float64Array; values: Float64Array } {
  const random = seededRandom(seed);
  const normal = normalFrom(random);
  const perSecond: number[][] = [];
  const times = Float64Array.from({ length: seconds }, (_, i) => START + i);
  const values = new Float64Array(seconds);
  for (let t = 0; t < seconds; t++) {
    const n = poisson(20, random);
    perSecond.push(Array.from({ length: n }, () => 0.02 * Math.exp(0.35 * normal()) + extra(t)));
    const window = perSecond.slice(Math.max(0, t - 9)).flat();
    window.sort((a, b) => a - b);
    values[t] = window.length ? window[Math.min(window.length - 1, Math.floor(0.95 * window.length))] : NaN;
  }
  return { times, values };
}

describe("a new user's faults in the demo (demo config, simulated 10 s rates)", () => {
  const ERRORS = { direction: 'above' as const, min_deviation: config.reader.signals.errors.min_deviation, min_relative_deviation: 0 };
  const LATENCY = { direction: 'above' as const, min_deviation: config.reader.signals.latency.min_deviation, min_relative_deviation: 0 };
  const onset = 1200;

  it('2 % more errors is flagged within 15 s, with no alarm in the 8 quiet minutes before', async () => {
    for (const seed of [1, 2, 3]) {
      const { times, values } = errorRatio(onset + 120, (t) => (t >= onset ? 0.02 : 0), seed);
      const { score } = await backtestValues(values, times, config, ERRORS);
      expect(flagged(score, 720, onset).some(Boolean)).toBe(false);
      const first = flagged(score, onset, onset + 120).indexOf(true);
      expect(first).toBeGreaterThanOrEqual(0);
      expect(first).toBeLessThanOrEqual(15);
    }
  });

  it('a latency ramp of +5 ms every 3 s is flagged within 15 s (at +25 ms), with no alarm before', async () => {
    for (const seed of [1, 2, 3]) {
      const { times, values } = latencyP95(onset + 120, (t) => (t >= onset ? 0.005 * Math.floor((t - onset) / 3 + 1) : 0), seed);
      const { score } = await backtestValues(values, times, config, LATENCY);
      expect(flagged(score, 720, onset).some(Boolean)).toBe(false);
      const first = flagged(score, onset, onset + 120).indexOf(true);
      expect(first).toBeGreaterThanOrEqual(0);
      expect(first).toBeLessThanOrEqual(15);
    }
  });
});

describe('traffic falling to zero (demo config)', () => {
  it('is flagged within 5 s and stays flagged while it lasts', async () => {
    const onset = HISTORY + 420;
    const { times, values } = traffic(onset + 300, (t) => (t >= onset ? 0 : 1), 4);
    const { score } = await backtestValues(values, times, config, TRAFFIC);
    expect(flagged(score, HISTORY, onset).some(Boolean)).toBe(false);
    const first = flagged(score, onset, onset + 300).indexOf(true);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThanOrEqual(5);
    // Until accept_after (6 min) it is an incident, not the new normal.
    expect(staysAnomalous(score, onset + first, onset + 300)).toBe(true);
  });
});
