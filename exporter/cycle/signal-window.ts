/**
 * A signal's fit window kept in memory, so that a refit reads only the samples since the last
 * cycle instead of the whole window again (reader.refit_reads: new_samples). At 10,000 series of
 * 1,440 points a refit otherwise reads 351 MB that the source must encode and the exporter parse,
 * on the same cores the fits need; kept, the window costs 4 bytes a point (about 65 MB there).
 *
 * Every answer the signal reads is absorbed. The samples sit on the signal's step grid (slot k is
 * gridStart + k·step, NaN where a series had no sample), one Float32Array of offsets from a base
 * per series (models/offset-float32.ts: a sample is kept to within 2^-24 of its distance from the
 * series' newest sample at the last slide, and a flat series exactly), with some slack at the end
 * so the grid slides (one move per series, which also moves the base) only every few hours. The
 * window is trusted only while the reads it absorbed were contiguous: a gap (a source outage longer
 * than the reads cover), an answer off the grid or a series' sample out of place makes it start
 * over, and the next refit reads the whole window from the source again.
 */
import { RawSeries } from '../read/reader';
import { LoopTurns } from '../../common/loop-turns';
import { decodeOffsets, getOffset, OffsetStore, putOffset, rebase } from '../../models';

/**
 * A series' samples as a cycle reads them, decoded when asked for: a refit of 10,000 series holds
 * only the few it is fitting as Float64, not a second copy of the whole window.
 */
export interface SeriesSamples {
  labels: Record<string, string>;
  /** The series' labelKey. */
  key: string;
  /** Its samples from `from` (seconds; all when omitted) to its newest, as the source would answer them. */
  read(from?: number): RawSeries;
}

/** A source's answer as SeriesSamples: views, no copy. */
export function answerSamples(raw: readonly RawSeries[], keys: readonly string[]): SeriesSamples[] {
  return raw.map((r, k) => ({
    labels: r.labels,
    key: keys[k],
    read: (from = -Infinity) => {
      let i = 0;
      while (i < r.timestamps.length && r.timestamps[i] < from) i++;
      return i === 0 ? r : { labels: r.labels, timestamps: r.timestamps.subarray(i), values: r.values.subarray(i) };
    },
  }));
}

interface KeptSeries {
  labels: Record<string, string>;
  /** Its values by slot, as offsets; replaced (not moved in place) by a slide while the window is held. */
  store: OffsetStore;
  /** The newest slot it had a sample at (NaN-valued ones count, as in an answer). */
  newest: number;
}

export class SignalWindow {
  /** Slots a series array holds: the window plus slack. */
  private readonly capacity: number;
  /** Time of slot 0, seconds (NaN while empty). */
  private gridStart = NaN;
  /** The grid's times, shared by every series' view. */
  private times: Float64Array;
  private readonly series = new Map<string, KeptSeries>();
  /** Every sample of the signal from coveredFrom to coveredTo is here (the reads were contiguous). */
  private coveredFrom = Infinity;
  private coveredTo = -Infinity;
  /** Fits still reading views of the arrays (see hold): a slide must not move samples under them. */
  private holders = 0;

  constructor(
    private readonly stepSeconds: number,
    private readonly windowSeconds: number,
  ) {
    const windowSlots = Math.ceil(windowSeconds / stepSeconds) + 1;
    this.capacity = windowSlots + Math.max(16, Math.ceil(windowSlots / 8));
    this.times = new Float64Array(0);
  }

  /**
   * Whether reads have been absorbed since the last start-over. Not "holds a series": a read that
   * found no sample (every series absent for a while) still covers its range, and the next
   * contiguous read must not start the window over (a refit would then read the whole window).
   */
  private get started(): boolean {
    return !Number.isNaN(this.gridStart);
  }

  /** Series held. */
  get size(): number {
    return this.series.size;
  }

  /** Whether every sample from `from` up to the last absorbed read is held (a refit may then read only what is newer). */
  covers(from: number): boolean {
    return this.started && this.coveredFrom <= from + this.tolerance && from >= this.gridStart - this.tolerance;
  }

  /** Forgets everything: the next refit reads the whole window. */
  clear(): void {
    this.series.clear();
    this.gridStart = NaN;
    this.times = new Float64Array(0);
    this.coveredFrom = Infinity;
    this.coveredTo = -Infinity;
  }

  /** Drops one series (it left the source for a whole window). */
  forget(key: string): void {
    this.series.delete(key);
  }

  /**
   * Takes in a successful read of [start, end] (keys: each series' labelKey). A read that leaves
   * a gap after what is held, or that reaches further back than it, starts the window over from
   * itself (it holds every sample of its range).
   */
  absorb(raw: readonly RawSeries[], keys: readonly string[], start: number, end: number): void {
    this.prepare(start, end);
    for (let k = 0; k < raw.length; k++) if (!this.takeSeries(raw[k], keys[k])) return;
    this.coveredTo = Math.max(this.coveredTo, end);
  }

  /**
   * As `absorb`, giving the event loop turns between series: a whole window of 10,000 series of a
   * day is about 0.2 s of copying, which /healthz would otherwise wait out.
   */
  async absorbInTurns(raw: readonly RawSeries[], keys: readonly string[], start: number, end: number): Promise<void> {
    this.prepare(start, end);
    const turns = new LoopTurns();
    for (let k = 0; k < raw.length; k++) {
      if (!this.takeSeries(raw[k], keys[k])) return;
      if (turns.due()) await turns.take();
    }
    this.coveredTo = Math.max(this.coveredTo, end);
  }

  /** Starts over unless the read continues what is held, and slides so that `end` fits. */
  private prepare(start: number, end: number): void {
    const step = this.stepSeconds;
    const tol = this.tolerance;
    if (!(this.started && start >= this.coveredFrom - tol && start <= this.coveredTo + step + tol)) {
      this.clear();
      this.gridStart = start;
      this.coveredFrom = start;
    }
    // Slide first, so the newest slot fits; a slide past everything held is a gap.
    const lastSlot = Math.floor((end - this.gridStart) / step + 1e-9);
    if (lastSlot >= this.capacity) {
      const keepFrom = end - this.windowSeconds;
      const shift = Math.max(lastSlot - this.capacity + 1, Math.floor((keepFrom - this.gridStart) / step + 1e-9));
      this.slide(shift);
    }
    if (this.times.length === 0) this.times = gridTimes(this.gridStart, step, this.capacity);
  }

  /** Writes one series' samples into its slots; false (and the window starts over) when one is off the grid. */
  private takeSeries(r: RawSeries, key: string): boolean {
    const step = this.stepSeconds;
    let row = this.series.get(key);
    for (let i = 0; i < r.timestamps.length; i++) {
      const v = r.values[i];
      const t = r.timestamps[i];
      const slot = Math.round((t - this.gridStart) / step);
      if (slot < 0) continue;
      if (!(slot < this.capacity) || this.gridStart + slot * step !== t) {
        // Off the grid (a start not on the step, a source that moves its points): not trusted.
        // Exactly on it, or a view's time could differ from the source's by a rounding and a
        // sample be scored twice (the trackers compare times with their last scored one).
        this.clear();
        return false;
      }
      if (!row) {
        row = { labels: r.labels, store: { values: new Float32Array(this.capacity).fill(NaN), base: NaN }, newest: -1 };
        this.series.set(key, row);
      }
      putOffset(row.store, slot, v);
      if (slot > row.newest) row.newest = slot;
    }
    return true;
  }

  /**
   * Every held series with a sample at or after `from`, as the source would answer a read of
   * [from, coveredTo]: missing samples are NaN (which every consumer skips, as it skips NaN
   * values), and each ends at its series' newest sample, so a series that left the source is seen
   * to have left. Each decodes its samples when read, from the arrays and the range of now: a
   * later absorb writes only newer slots (or the same ones again) into them, and a slide while the
   * window is held (see hold) moves to new arrays, so a read gives the samples of the moment
   * `read` was called.
   */
  read(from: number): SeriesSamples[] {
    const out: SeriesSamples[] = [];
    for (const [key, x] of this.series) {
      const range = this.range(x, from);
      if (!range) continue;
      const { store, labels } = x;
      const { times, gridStart, stepSeconds } = this;
      const [first, last] = range;
      // Slots of the grid as it is now: a slide while held leaves these arrays as they are.
      out.push({ labels, key, read: (at = -Infinity) => decoded(labels, store, times, Math.max(first, slotAtOrAfter(at, gridStart, stepSeconds)), last) });
    }
    return out;
  }

  /** One series' samples from `from` on, decoded, as `read` gives them; undefined when the window does not hold it. */
  readOne(key: string, from: number): RawSeries | undefined {
    const x = this.started ? this.series.get(key) : undefined;
    const range = x && this.range(x, from);
    return range && decoded(x.labels, x.store, this.times, range[0], range[1]);
  }

  /** A held series' slots from `from` to its newest sample within the covered range (see read). */
  private range(x: KeptSeries, from: number): [number, number] | undefined {
    const first = Math.max(0, slotAtOrAfter(from, this.gridStart, this.stepSeconds));
    const last = Math.min(this.capacity - 1, Math.floor((this.coveredTo - this.gridStart) / this.stepSeconds + 1e-9));
    const newest = Math.min(x.newest, last);
    return newest < first ? undefined : [first, newest];
  }

  /**
   * Marks the series handed out by `read` as in use (a refit's, until its fits and scoring are
   * done; a fit cut by its cycle's timeout runs on). While any is held, a slide moves the samples
   * to new arrays; otherwise it moves them within the same arrays: at 10,000 series of 24 h a slide
   * every 3 hours would otherwise allocate 65 MB of new arrays, which the allocator keeps once
   * freed (bench:soak). Returns the release, which counts once however often it is called.
   */
  hold(): () => void {
    this.holders++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holders--;
    };
  }

  /** Half a millisecond: timestamps travel as decimal seconds. */
  private get tolerance(): number {
    return Math.min(5e-4, this.stepSeconds / 4);
  }

  /** Moves the grid `shift` slots later, dropping the oldest. */
  private slide(shift: number): void {
    if (shift <= 0) return;
    if (shift >= this.capacity) {
      const start = this.gridStart + shift * this.stepSeconds;
      this.series.clear();
      this.gridStart = start;
      this.coveredFrom = start;
      this.times = new Float64Array(0);
      return;
    }
    // Reads in use (a fit cut by its cycle's timeout may still decode them): new arrays, so each
    // read keeps the samples it was made with. None: the same arrays, moved in place.
    const inPlace = this.holders === 0;
    for (const [key, row] of this.series) {
      row.newest -= shift;
      // A series whose samples all slid out is gone from the window.
      if (row.newest < 0) {
        this.series.delete(key);
        continue;
      }
      if (inPlace) {
        row.store.values.copyWithin(0, shift);
        row.store.values.fill(NaN, this.capacity - shift);
      } else {
        const values = new Float32Array(this.capacity).fill(NaN);
        values.set(row.store.values.subarray(shift));
        row.store = { values, base: row.store.base };
      }
      // The base moves to the newest finite sample, so precision follows the series' level.
      rebase(row.store, newestFinite(row.store, row.newest), 0, row.newest + 1);
    }
    this.gridStart += shift * this.stepSeconds;
    this.coveredFrom = Math.max(this.coveredFrom, this.gridStart);
    if (inPlace) fillGrid(this.times, this.gridStart, this.stepSeconds);
    else this.times = gridTimes(this.gridStart, this.stepSeconds, this.capacity);
  }
}

/** A series' samples [first, last] (slots), decoded. The times are a view of the shared grid. */
function decoded(labels: Record<string, string>, store: OffsetStore, times: Float64Array, first: number, last: number): RawSeries {
  const n = Math.max(0, last - first + 1);
  return { labels, timestamps: times.subarray(first, first + n), values: decodeOffsets(store, first, first + n, new Float64Array(n)) };
}

/** The first slot of a grid starting at `gridStart` whose time is at or after `t`. */
function slotAtOrAfter(t: number, gridStart: number, step: number): number {
  return Math.ceil((t - gridStart) / step - 1e-9);
}

/** The newest finite sample at or before slot `newest`, NaN when there is none. */
function newestFinite(store: OffsetStore, newest: number): number {
  for (let i = newest; i >= 0; i--) if (Number.isFinite(store.values[i])) return getOffset(store, i);
  return NaN;
}

function gridTimes(start: number, step: number, n: number): Float64Array {
  return fillGrid(new Float64Array(n), start, step);
}

function fillGrid(t: Float64Array, start: number, step: number): Float64Array {
  for (let i = 0; i < t.length; i++) t[i] = start + i * step;
  return t;
}
