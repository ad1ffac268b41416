import { FeatureMatrix } from './types';

export const FEATURE_NAMES = ['value', 'change', 'level_deviation'] as const;

export interface FeatureExtractorState {
  last: number;
  level: number;
  count: number;
}

/**
 * Causal per-series features for the isolation forest: the value, its change from the previous
 * sample, and its deviation from the recent level (an exponentially weighted mean of the samples
 * before it). Raw values alone miss a spike that stays inside the normal range; the change and
 * level deviation expose it. The extractor keeps its state between calls, so a stream fed in
 * pieces gives the same features as one pass.
 */
export class FeatureExtractor {
  private last = NaN;
  private level = NaN;
  private count = 0;

  /** @param alpha EWMA weight of the newest sample; 2/(N+1) for an N-sample memory. */
  constructor(readonly alpha = 2 / (20 + 1)) {}

  /** Features of each value in order; values must be finite. */
  extract(values: Float64Array): FeatureMatrix {
    const rows = values.length;
    const data = new Float64Array(rows * FEATURE_NAMES.length);
    for (let r = 0; r < rows; r++) {
      const v = values[r];
      const o = r * 3;
      data[o] = v;
      if (this.count === 0) {
        data[o + 1] = 0;
        data[o + 2] = 0;
        this.level = v;
      } else {
        data[o + 1] = v - this.last;
        data[o + 2] = v - this.level;
        this.level += this.alpha * (v - this.level);
      }
      this.last = v;
      this.count++;
    }
    return { rows, cols: FEATURE_NAMES.length, data };
  }

  get samples(): number {
    return this.count;
  }

  toJSON(): FeatureExtractorState {
    return { last: this.last, level: this.level, count: this.count };
  }

  static load(s: FeatureExtractorState, alpha?: number): FeatureExtractor {
    const f = new FeatureExtractor(alpha);
    f.last = Number(s.last);
    f.level = Number(s.level);
    f.count = Number(s.count);
    return f;
  }
}
