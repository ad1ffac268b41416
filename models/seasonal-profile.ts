/**
 * A seasonal profile by hour of week (168 slots), falling back to hour of day (24 slots) for a
 * slot not seen often enough yet. Values are expressed as offsets from the overall level, so
 * models can score the residual `value - offset(slot)` and daily and weekly cycles do not fire.
 *
 * The profile accumulates across fits (it only learns samples newer than the last one it saw,
 * and is saved with the model), so it learns a weekly cycle from 24 h fit windows over a week,
 * starts adjusting after one whole day (by hour of day), and improves with every week. Slot means are running means
 * whose weight is capped, so the profile follows slow changes (about `memory` samples per slot).
 * Slot indices come from the caller: hour of week in the configured time zone, 0 = Monday 00:00.
 */
export interface SeasonalOptions {
  /** Samples a slot needs before its mean is used. */
  minSamplesPerSlot: number;
  /** Cap on a slot's weight: how many samples the running mean remembers. */
  memory: number;
}

export interface SeasonalState {
  week: Float64Array;
  /** Whole counts (capped at `memory`, at most 1e6): exact in Float32; states saved as Float64 load too. */
  weekWeight: Float32Array | Float64Array;
  day: Float64Array;
  dayWeight: Float32Array | Float64Array;
  level: number;
  levelWeight: number;
  lastTs: number;
  firstTs: number;
}

export const HOURS_PER_WEEK = 168;
/** The profile adjusts nothing before it has seen a whole day: before that, its level is biased. */
const FULL_DAY_SECONDS = 86_400;

export class SeasonalProfile {
  private week = new Float64Array(HOURS_PER_WEEK);
  /** Sample counts, capped: whole numbers below 2^24, so Float32 holds them exactly in half the memory. */
  private weekWeight = new Float32Array(HOURS_PER_WEEK);
  private day = new Float64Array(24);
  private dayWeight = new Float32Array(24);
  private level = 0;
  private levelWeight = 0;
  private lastTs = -Infinity;
  private firstTs = Infinity;

  constructor(readonly opts: SeasonalOptions) {}

  /** Learns the samples newer than the last one learned; times ascending, slots 0..167. */
  learn(values: Float64Array, times: Float64Array, slots: Uint8Array): void {
    const cap = this.opts.memory;
    for (let i = 0; i < values.length; i++) {
      if (!(times[i] > this.lastTs)) continue;
      const v = values[i];
      const w = slots[i];
      const d = w % 24;
      this.levelWeight = Math.min(this.levelWeight + 1, cap * HOURS_PER_WEEK);
      this.level += (v - this.level) / this.levelWeight;
      this.weekWeight[w] = Math.min(this.weekWeight[w] + 1, cap);
      this.week[w] += (v - this.week[w]) / this.weekWeight[w];
      this.dayWeight[d] = Math.min(this.dayWeight[d] + 1, cap * 7);
      this.day[d] += (v - this.day[d]) / this.dayWeight[d];
      this.lastTs = times[i];
      if (times[i] < this.firstTs) this.firstTs = times[i];
    }
  }

  /**
   * Learns like `learn` and returns each sample's residual against the profile as it was just
   * before that sample (prequential): honest out-of-sample residuals for the models to fit and
   * calibrate on, where residuals against a profile that already saw them would be too small.
   */
  learnResiduals(values: Float64Array, times: Float64Array, slots: Uint8Array): { residuals: Float64Array; known: Uint8Array } {
    const out = new Float64Array(values.length);
    const known = new Uint8Array(values.length);
    const one = new Float64Array(1);
    const t = new Float64Array(1);
    const sl = new Uint8Array(1);
    for (let i = 0; i < values.length; i++) {
      out[i] = values[i] - this.offset(slots[i]);
      known[i] = this.knows(slots[i]) ? 1 : 0;
      one[0] = values[i];
      t[0] = times[i];
      sl[0] = slots[i];
      this.learn(one, t, sl);
    }
    return { residuals: out, known };
  }

  /** Whether the slot (or its hour of day) has enough samples for its offset to mean anything. */
  knows(slot: number): boolean {
    if (!(this.lastTs - this.firstTs >= FULL_DAY_SECONDS)) return false;
    return this.weekWeight[slot] >= this.opts.minSamplesPerSlot || this.dayWeight[slot % 24] >= this.opts.minSamplesPerSlot;
  }

  /** The seasonal offset of a slot from the overall level; 0 where nothing is known yet. */
  offset(slot: number): number {
    if (!(this.lastTs - this.firstTs >= FULL_DAY_SECONDS)) return 0;
    const min = this.opts.minSamplesPerSlot;
    if (this.weekWeight[slot] >= min) return this.week[slot] - this.level;
    const d = slot % 24;
    if (this.dayWeight[d] >= min) return this.day[d] - this.level;
    return 0;
  }

  /** Residuals `values - offset(slot)`. */
  residuals(values: Float64Array, slots: Uint8Array): Float64Array {
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = values[i] - this.offset(slots[i]);
    return out;
  }

  toState(): SeasonalState {
    return {
      week: this.week,
      weekWeight: this.weekWeight,
      day: this.day,
      dayWeight: this.dayWeight,
      level: this.level,
      levelWeight: this.levelWeight,
      lastTs: this.lastTs,
      firstTs: this.firstTs,
    };
  }

  static load(s: SeasonalState, opts: SeasonalOptions): SeasonalProfile {
    const p = new SeasonalProfile(opts);
    const ok = (a: unknown, n: number) => ArrayBuffer.isView(a) && (a as Float64Array).length === n;
    if (!ok(s.week, HOURS_PER_WEEK) || !ok(s.weekWeight, HOURS_PER_WEEK) || !ok(s.day, 24) || !ok(s.dayWeight, 24)) {
      throw new Error('seasonal profile state has wrong array sizes');
    }
    p.week = Float64Array.from(s.week);
    p.weekWeight = Float32Array.from(s.weekWeight);
    p.day = Float64Array.from(s.day);
    p.dayWeight = Float32Array.from(s.dayWeight);
    p.level = Number(s.level);
    p.levelWeight = Number(s.levelWeight);
    p.lastTs = s.lastTs === null ? -Infinity : Number(s.lastTs);
    p.firstTs = s.firstTs === null || s.firstTs === undefined ? Infinity : Number(s.firstTs);
    return p;
  }
}
