/**
 * The newest `maxRows` rows of a group's channels with their times, oldest first, in two typed
 * arrays that grow by doubling up to `maxRows` and then wrap: a day of one-minute rows of three
 * channels is 46 KB instead of 1,440 small arrays (about 115 KB and as many objects for the GC).
 */
export class RowRing {
  private times: Float64Array;
  private data: Float64Array;
  private start = 0;
  private n = 0;

  constructor(
    readonly cols: number,
    readonly maxRows: number,
  ) {
    const cap = Math.max(1, Math.min(maxRows, 64));
    this.times = new Float64Array(cap);
    this.data = new Float64Array(cap * cols);
  }

  get length(): number {
    return this.n;
  }

  /** The newest row's time; -Infinity when empty. */
  get lastTime(): number {
    return this.n ? this.times[(this.start + this.n - 1) % this.times.length] : -Infinity;
  }

  /** Channel `k` of row `r` (0: the oldest kept). */
  value(r: number, k: number): number {
    return this.data[((this.start + r) % this.times.length) * this.cols + k];
  }

  push(t: number, row: readonly number[]): void {
    const cap = this.times.length;
    if (this.n === cap && cap < this.maxRows) this.grow();
    if (this.n === this.times.length) {
      this.start = (this.start + 1) % this.times.length;
      this.n--;
    }
    const at = (this.start + this.n) % this.times.length;
    this.times[at] = t;
    for (let k = 0; k < this.cols; k++) this.data[at * this.cols + k] = row[k];
    this.n++;
  }

  private grow(): void {
    const cap = Math.min(this.maxRows, this.times.length * 2);
    const times = new Float64Array(cap);
    const data = new Float64Array(cap * this.cols);
    for (let r = 0; r < this.n; r++) {
      const from = (this.start + r) % this.times.length;
      times[r] = this.times[from];
      data.set(this.data.subarray(from * this.cols, (from + 1) * this.cols), r * this.cols);
    }
    this.times = times;
    this.data = data;
    this.start = 0;
  }
}
