/**
 * The last `capacity` scored samples of one series (time, value, expected band and ensemble
 * score), for the sparklines of the exporter's web page. A ring of typed arrays: about 28 bytes a
 * sample (8 for the time, 4 for each of the five figures), 1.7 KB a series at the default 60, so
 * 17 MB at 10,000 series.
 */
export interface HistoryArrays {
  ts: number[];
  value: (number | null)[];
  expected: (number | null)[];
  lower: (number | null)[];
  upper: (number | null)[];
  score: (number | null)[];
}

const FIELDS = 5;

export class SeriesHistory {
  private readonly ts: Float64Array;
  private readonly figures: Float32Array;
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.ts = new Float64Array(capacity);
    this.figures = new Float32Array(capacity * FIELDS);
  }

  get size(): number {
    return this.count;
  }

  push(ts: number, value: number, expected: number, lower: number, upper: number, score: number): void {
    if (this.capacity === 0) return;
    const i = this.next;
    this.ts[i] = ts;
    const o = i * FIELDS;
    this.figures[o] = value;
    this.figures[o + 1] = expected;
    this.figures[o + 2] = lower;
    this.figures[o + 3] = upper;
    this.figures[o + 4] = score;
    this.next = (i + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** Calls `fn` with each kept sample's time, value and expected value, oldest first. */
  forEach(fn: (ts: number, value: number, expected: number) => void): void {
    for (let k = 0; k < this.count; k++) {
      const i = (this.next - this.count + k + this.capacity) % this.capacity;
      fn(this.ts[i], this.figures[i * FIELDS], this.figures[i * FIELDS + 1]);
    }
  }

  /** Oldest first, as plain arrays for JSON (a figure that is not finite becomes null, a gap in the chart). */
  toArrays(): HistoryArrays {
    const out: HistoryArrays = { ts: [], value: [], expected: [], lower: [], upper: [], score: [] };
    const keys = ['value', 'expected', 'lower', 'upper', 'score'] as const;
    for (let k = 0; k < this.count; k++) {
      const i = (this.next - this.count + k + this.capacity) % this.capacity;
      out.ts.push(this.ts[i]);
      keys.forEach((key, f) => {
        const v = this.figures[i * FIELDS + f];
        out[key].push(Number.isFinite(v) ? v : null);
      });
    }
    return out;
  }
}
