import { CalibratedForest, CalibratedForestOptions, CalibratedForestState, FeatureMatrix } from '../../models';
import { FitPool } from '../fit/fit-pool';
import { PublishedGroup, PublishedSeries, singleSeriesSignals } from './group-analysis';
import { RowRing } from './row-ring';
import { LoopTurns } from '../../common/loop-turns';

/** Where group forests are fitted: the refit workers (or the calling thread when the pool has none). */
export type ForestFitter = Pick<FitPool, 'fitForests' | 'size'>;

/** A group's forest as saved with the model state. */
export interface SavedGroupForest {
  key: string;
  labels: Record<string, string>;
  channels: string[];
  lastFit: number;
  forest: CalibratedForestState;
}

export interface GroupForestOptions extends CalibratedForestOptions {
  /** At most this many signals of a group (by name) are channels of its forest. */
  maxChannels: number;
  /** Each channel's change since the previous row is a column too (so a channel is two columns). */
  changes: boolean;
  minSamples: number;
  fitEverySeconds: number;
  /** Rows kept for fitting: the fit window in steps, at most max_rows. */
  windowRows: number;
  /** Refit interval while warming up. */
  warmupRefitSeconds: number;
  /**
   * At most this many forests are handed to the fitter per cycle: the ones without a forest first,
   * then the longest waiting; the rest wait for the next cycles (a fit takes about 6 ms at 512 rows).
   */
  fitsPerCycle: number;
}

interface GroupState {
  labels: Record<string, string>;
  channels: string[];
  rows: RowRing;
  forest?: CalibratedForest;
  lastFit: number;
  lastFitAttempt: number;
  /** A fit of this group is on a worker. */
  fitting: boolean;
  score?: number;
  /** Per channel (signal), its share in isolating the newest row (values and changes together). */
  contributions?: Record<string, number>;
}

/** Group scores from which each signal's contribution is worked out and published (half the band). */
const CONTRIBUTION_FLOOR = 0.5;

/** A group's forest score and what each signal contributed to it. */
export interface GroupForestScore {
  score: number;
  contributions?: Readonly<Record<string, number>>;
}

/**
 * A multivariate isolation forest per group: the group's signals (latency, traffic, errors of one
 * service, say) and their changes since the previous row are the columns of one matrix, rows at
 * the times they share. It catches joint
 * anomalies that no signal shows alone, e.g. latency rising while traffic falls within their own
 * normal ranges. A new group's rows are seeded from its series' fit windows (the history their
 * own models fit on), so it scores from the first cycle after a start, not half an hour later;
 * then rows come from the series' recent samples each cycle; a row is scored before it is added to
 * the group's buffer (causal), and the forest is refitted on the buffer (the fit window) every
 * fit_every, or sooner while it warms up. Fits run on the refit workers when there are some (the
 * forest in use until the new one arrives); forests are saved and restored with the model state.
 */
export class GroupForests {
  private readonly groups = new Map<string, GroupState>();
  /** Fits handed to workers and not back yet. */
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly o: GroupForestOptions,
    private readonly fitter?: ForestFitter,
  ) {}

  /** Resolves when every fit handed to the workers so far has been adopted. */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  /** Every fitted group's forest, for the state store. */
  exportState(): SavedGroupForest[] {
    const out: SavedGroupForest[] = [];
    for (const [key, st] of this.groups) {
      if (st.forest) out.push({ key, labels: st.labels, channels: st.channels, lastFit: st.lastFit, forest: st.forest.toState() });
    }
    return out;
  }

  /**
   * Takes saved forests back: each scores at once, and its rows are seeded from its series' fit
   * windows on the first cycle. A saved entry that does not load is skipped. Returns how many loaded.
   */
  restoreState(saved: readonly SavedGroupForest[]): number {
    let n = 0;
    for (const x of saved) {
      try {
        if (!x || typeof x.key !== 'string' || !Array.isArray(x.channels) || !Number.isFinite(x.lastFit)) continue;
        const forest = CalibratedForest.load(x.forest, this.o);
        this.groups.set(x.key, {
          labels: x.labels ?? {},
          channels: x.channels,
          rows: new RowRing(x.channels.length, this.o.windowRows),
          forest,
          lastFit: x.lastFit,
          lastFitAttempt: x.lastFit,
          fitting: false,
        });
        n++;
      } catch {
        /* a forest that does not load starts fresh */
      }
    }
    return n;
  }

  /** Scores new rows of every group and refits when due; returns the latest score per group key. */
  async update(groups: readonly PublishedGroup[], end: number): Promise<Map<string, GroupForestScore>> {
    const seen = new Set<string>();
    const due: GroupState[] = [];
    // Seeding and scoring 10,000 groups is a long walk: requests get their turns meanwhile.
    const turns = new LoopTurns();
    for (const g of groups) {
      if (turns.due()) await turns.take();
      seen.add(g.key);
      const channels = singleSeriesSignals(g.members).slice(0, this.o.maxChannels);
      if (channels.length < 2) continue;
      const names = channels.map(([n]) => n);
      let st = this.groups.get(g.key);
      if (!st || st.channels.join() !== names.join()) {
        st = {
          labels: g.labels,
          channels: names,
          rows: new RowRing(names.length, this.o.windowRows),
          lastFit: -Infinity,
          lastFitAttempt: -Infinity,
          fitting: false,
        };
        this.groups.set(g.key, st);
      }
      if (st.rows.length === 0)
        seedRows(
          st.rows,
          channels.map(([, p]) => p),
          this.o.windowRows,
        );
      const rows = st.rows;
      const fresh = sharedRows(
        channels.map(([, p]) => p.recent),
        rows.lastTime,
      );
      if (fresh.rows.length && st.forest) {
        const last = rows.length - 1;
        const x = this.features(fresh.rows.length, names.length, (r, k) => fresh.rows[r][k], last >= 0 ? (k) => rows.value(last, k) : undefined);
        const s = st.forest.score(x);
        st.score = s[s.length - 1];
        // Attribution walks the forest once per column more: only for a group that is unusual
        // enough to be asked about (the hot path scored 10,000 series 28 % slower with it always on).
        st.contributions = st.score > CONTRIBUTION_FLOOR ? this.contributions(st.forest, x, names) : undefined;
      }
      for (let i = 0; i < fresh.rows.length; i++) rows.push(fresh.times[i], fresh.rows[i]);
      const isDue = st.forest ? end - st.lastFit >= this.o.fitEverySeconds : end - st.lastFitAttempt >= this.o.warmupRefitSeconds;
      if (st.fitting) continue;
      if (isDue && st.rows.length >= this.o.minSamples) due.push(st);
      else if (isDue) st.lastFitAttempt = end;
    }
    for (const key of this.groups.keys()) if (!seen.has(key)) this.groups.delete(key);
    // Groups without a forest first, then the longest waiting (stable: the groups' order breaks ties).
    due.sort((a, b) => Number(a.forest !== undefined) - Number(b.forest !== undefined) || a.lastFitAttempt - b.lastFitAttempt);
    this.fit(due.slice(0, this.o.fitsPerCycle), end);
    const out = new Map<string, GroupForestScore>();
    for (const g of groups) {
      const st = this.groups.get(g.key);
      if (st?.score !== undefined) out.set(g.key, { score: st.score, contributions: st.contributions });
    }
    return out;
  }

  /**
   * Fits the groups' forests on their buffered rows: on the workers when the fitter has some (the
   * old forest scores until the new one is adopted), else here and now (a backtest stays
   * deterministic row by row).
   */
  private fit(due: GroupState[], end: number): void {
    if (due.length === 0) return;
    const matrices = due.map((st) => this.features(st.rows.length, st.rows.cols, (r, k) => st.rows.value(r, k), undefined));
    for (const st of due) st.lastFitAttempt = end;
    if (!this.fitter || this.fitter.size === 0) {
      due.forEach((st, i) => {
        const forest = new CalibratedForest(this.o);
        forest.fit(matrices[i]);
        st.forest = forest;
        st.lastFit = end;
      });
      return;
    }
    for (const st of due) st.fitting = true;
    const job: Promise<void> = this.fitter
      .fitForests(this.o, matrices)
      .then((results) =>
        results.forEach((r, i) => {
          const st = due[i];
          // A group whose channels changed meanwhile has a new state: the old one's fit is dropped.
          if (r.state) st.forest = CalibratedForest.load(r.state, this.o);
          st.lastFit = end;
        }),
      )
      .catch(() => undefined)
      .finally(() => {
        for (const st of due) st.fitting = false;
        this.inflight.delete(job);
      });
    this.inflight.add(job);
  }

  /** Per signal, its share in isolating the newest row: its value's column and its change's together. */
  private contributions(forest: CalibratedForest, x: FeatureMatrix, names: string[]): Record<string, number> {
    const shares = new Float64Array(x.cols);
    forest.contributions(x, x.rows - 1, shares);
    const out: Record<string, number> = {};
    names.forEach((name, k) => (out[name] = shares[k] + (this.o.changes ? shares[names.length + k] : 0)));
    return out;
  }

  /**
   * The forest's rows: the channels' values (`at(r, k)`), then (with `changes`) each one's change
   * since the row before (`before(k)`: the row preceding the first; none: no change for the first
   * row). A joint shift shows in the values, a sudden one also in the changes while it happens.
   */
  private features(rows: number, n: number, at: (r: number, k: number) => number, before: ((k: number) => number) | undefined): FeatureMatrix {
    const cols = this.o.changes ? 2 * n : n;
    const data = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < n; k++) {
        const x = at(r, k);
        data[r * cols + k] = x;
        if (this.o.changes) data[r * cols + n + k] = x - (r > 0 ? at(r - 1, k) : before ? before(k) : x);
      }
    }
    return { rows, cols, data };
  }
}

/**
 * Seeds an empty buffer with the rows the channels' fit windows share (the newest that fit), so a
 * new group's forest fits on the history its series' models fit on.
 */
function seedRows(rows: RowRing, channels: PublishedSeries[], keep: number): void {
  const windows = channels.map((c) => c.history?.());
  if (windows.some((w) => !w || w.timestamps.length === 0)) return;
  // Only the newest `keep` rows are kept: start the walk where the channel with the most recent
  // first-of-the-last-`keep` samples starts (no row the buffer would drop is built).
  let after = -Infinity;
  for (const w of windows) after = Math.max(after, w!.timestamps[Math.max(0, w!.timestamps.length - keep - 1)] - 1e-6);
  const seed = sharedRows(
    windows.map((w) => ({ ts: w!.timestamps, values: w!.values })),
    after,
  );
  for (let i = 0; i < seed.rows.length; i++) rows.push(seed.times[i], seed.rows[i]);
}

/** Rows at the times every channel has a finite sample, after `after`, ascending. */
function sharedRows(channels: { ts: ArrayLike<number>; values: ArrayLike<number> }[], after: number): { times: number[]; rows: number[][] } {
  const idx = channels.map((c) => {
    let i = 0;
    while (i < c.ts.length && c.ts[i] <= after) i++;
    return i;
  });
  const times: number[] = [];
  const rows: number[][] = [];
  for (;;) {
    if (idx.some((i, k) => i >= channels[k].ts.length)) break;
    const t = Math.max(...idx.map((i, k) => channels[k].ts[i]));
    let aligned = true;
    for (let k = 0; k < channels.length; k++) {
      while (idx[k] < channels[k].ts.length && channels[k].ts[idx[k]] < t) idx[k]++;
      if (idx[k] >= channels[k].ts.length || channels[k].ts[idx[k]] !== t) aligned = false;
    }
    if (idx.some((i, k) => i >= channels[k].ts.length)) break;
    if (!aligned) continue;
    const row = channels.map((c, k) => c.values[idx[k]++]);
    // A window's missing samples are NaN: no row there.
    if (!row.every(Number.isFinite)) continue;
    times.push(t);
    rows.push(row);
  }
  return { times, rows };
}
