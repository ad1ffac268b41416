import { isFloat64Array } from './typed-array-codec';

/** Plain state of a SlidingMax: the candidates oldest first, ages counted back from the newest value (0). */
export interface SlidingMaxState {
  span: number;
  count: number;
  ages: Float64Array;
  values: Float64Array;
}

/**
 * The largest of the last `span` values pushed, in O(1) amortised per push with a monotonic
 * deque: only values that are larger than every value pushed after them are kept. On noise that
 * is a handful (about ln(span)), so it is far smaller than keeping all `span` values.
 */
export class SlidingMax {
  /** Pushes so far. */
  private count = 0;
  /** Candidates between head and tail: push index and value, values strictly decreasing. */
  private index: Float64Array;
  private value: Float64Array;
  private head = 0;
  private tail = 0;

  constructor(
    readonly span: number,
    capacity = 16,
  ) {
    this.index = new Float64Array(capacity);
    this.value = new Float64Array(capacity);
  }

  /** How many of the last `span` positions hold a value. */
  get size(): number {
    return Math.min(this.count, this.span);
  }

  /** The largest of the last `span` values; 0 when empty. */
  get max(): number {
    return this.head < this.tail ? this.value[this.head] : 0;
  }

  push(x: number): void {
    while (this.tail > this.head && this.value[this.tail - 1] <= x) this.tail--;
    if (this.tail === this.index.length) this.makeRoom();
    this.index[this.tail] = this.count;
    this.value[this.tail++] = x;
    this.count++;
    while (this.index[this.head] <= this.count - 1 - this.span) this.head++;
  }

  clear(): void {
    this.count = 0;
    this.head = 0;
    this.tail = 0;
  }

  private makeRoom(): void {
    const live = this.tail - this.head;
    if (live * 2 > this.index.length) {
      const index = new Float64Array(this.index.length * 2);
      const value = new Float64Array(this.value.length * 2);
      index.set(this.index.subarray(this.head, this.tail));
      value.set(this.value.subarray(this.head, this.tail));
      this.index = index;
      this.value = value;
    } else {
      this.index.copyWithin(0, this.head, this.tail);
      this.value.copyWithin(0, this.head, this.tail);
    }
    this.head = 0;
    this.tail = live;
  }

  toState(): SlidingMaxState {
    const live = this.tail - this.head;
    const ages = new Float64Array(live);
    for (let i = 0; i < live; i++) ages[i] = this.count - 1 - this.index[this.head + i];
    return { span: this.span, count: Math.min(this.count, this.span), ages, values: this.value.slice(this.head, this.tail) };
  }

  /**
   * Restores a saved state, over `span` when given (a changed config): candidates older than the
   * new span are dropped, the rest keep their ages.
   */
  static load(s: SlidingMaxState, span = s.span): SlidingMax {
    const m = new SlidingMax(span, Math.max(16, s.values.length * 2));
    m.count = Math.min(s.count, span);
    let n = 0;
    for (let i = 0; i < s.values.length; i++) {
      if (s.ages[i] >= span) continue;
      m.index[n] = m.count - 1 - s.ages[i];
      m.value[n++] = s.values[i];
    }
    m.tail = n;
    return m;
  }
}

/** A well-formed SlidingMaxState (as saved; a state file may hold anything). */
export function isSlidingMaxState(x: unknown): x is SlidingMaxState {
  const s = x as Partial<SlidingMaxState> | undefined;
  return (
    typeof s === 'object' &&
    s !== null &&
    isFloat64Array(s.ages) &&
    isFloat64Array(s.values) &&
    s.ages.length === s.values.length &&
    typeof s.span === 'number' &&
    s.span >= 1 &&
    typeof s.count === 'number'
  );
}
