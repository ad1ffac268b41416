import { getOffset, OffsetStore, putOffset, rebase } from '../../models';

/**
 * The newest `maxRows` rows of a group's channels, oldest first, in one typed array per channel
 * that grows by doubling up to `maxRows` and then wraps: a day of one-minute rows of three
 * channels is 17 KB instead of 1,440 small arrays (about 115 KB and as many objects for the GC).
 * Each channel is kept as Float32 offsets from its own base (models/offset-float32.ts), moved to
 * the newest row's value each time the ring has turned over once, so a value is kept to within
 * about 2^-23 of the channel's range over the ring: half the memory of Float64, and far inside the
 * 16-bit grid (2^-16 of the range) the forest splits on. Of the rows' times only the newest is
 * needed (which rows are new), so only it is kept.
 */
export class RowRing {
  private columns: OffsetStore[];
  private start = 0;
  private n = 0;
  /** Pushes since the bases last moved. */
  private sinceRebase = 0;
  private newest = -Infinity;

  constructor(
    readonly cols: number,
    readonly maxRows: number,
  ) {
    const cap = Math.max(1, Math.min(maxRows, 64));
    this.columns = Array.from({ length: cols }, () => ({ values: new Float32Array(cap), base: NaN }));
  }

  get length(): number {
    return this.n;
  }

  private get capacity(): number {
    return this.columns[0]?.values.length ?? 0;
  }

  /** The newest row's time; -Infinity when empty. */
  get lastTime(): number {
    return this.newest;
  }

  /** Channel `k` of row `r` (0: the oldest kept). */
  value(r: number, k: number): number {
    return getOffset(this.columns[k], (this.start + r) % this.capacity);
  }

  push(t: number, row: readonly number[]): void {
    if (this.n === this.capacity && this.capacity < this.maxRows) this.grow();
    if (this.n === this.capacity) {
      this.start = (this.start + 1) % this.capacity;
      this.n--;
    }
    const at = (this.start + this.n) % this.capacity;
    for (let k = 0; k < this.cols; k++) putOffset(this.columns[k], at, row[k]);
    this.n++;
    this.newest = t;
    // Once the ring has turned over, each channel's base moves to its newest value: precision
    // follows the channel's level. (Free slots move too; they are written before they are read.)
    if (++this.sinceRebase >= this.maxRows) {
      this.sinceRebase = 0;
      for (let k = 0; k < this.cols; k++) rebase(this.columns[k], row[k]);
    }
  }

  private grow(): void {
    const cap = Math.min(this.maxRows, this.capacity * 2);
    this.columns = this.columns.map((c) => {
      const values = new Float32Array(cap);
      for (let r = 0; r < this.n; r++) values[r] = c.values[(this.start + r) % c.values.length];
      return { values, base: c.base };
    });
    this.start = 0;
  }
}
