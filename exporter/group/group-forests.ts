import { CalibratedForest, CalibratedForestOptions, FeatureMatrix } from '../../models';
import { PublishedGroup, singleSeriesSignals } from './group-analysis';
import { RowRing } from './row-ring';

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
   * At most this many forests are fitted per cycle, on the main thread: the ones without a forest
   * first, then the longest waiting; the rest wait for the next cycles (a fit takes about 6 ms at 512 rows).
   */
  fitsPerCycle: number;
}

interface GroupState {
  channels: string[];
  rows: RowRing;
  forest?: CalibratedForest;
  lastFit: number;
  lastFitAttempt: number;
  score?: number;
}

/**
 * A multivariate isolation forest per group: the group's signals (latency, traffic, errors of one
 * service, say) and their changes since the previous row are the columns of one matrix, rows at
 * the times they share. It catches joint
 * anomalies that no signal shows alone, e.g. latency rising while traffic falls within their own
 * normal ranges. Rows come from the series' recent samples each cycle; a row is scored before it
 * is added to the group's buffer (causal), and the forest is refitted on the buffer (the fit
 * window) every fit_every, or sooner while it warms up. Not saved across restarts.
 */
export class GroupForests {
  private readonly groups = new Map<string, GroupState>();

  constructor(private readonly o: GroupForestOptions) {}

  /** Scores new rows of every group and refits when due; returns the latest score per group key. */
  update(groups: readonly PublishedGroup[], end: number): Map<string, number> {
    const seen = new Set<string>();
    const due: GroupState[] = [];
    for (const g of groups) {
      seen.add(g.key);
      const channels = singleSeriesSignals(g.members).slice(0, this.o.maxChannels);
      if (channels.length < 2) continue;
      const names = channels.map(([n]) => n);
      let st = this.groups.get(g.key);
      if (!st || st.channels.join() !== names.join()) {
        st = { channels: names, rows: new RowRing(names.length, this.o.windowRows), lastFit: -Infinity, lastFitAttempt: -Infinity };
        this.groups.set(g.key, st);
      }
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
      }
      for (let i = 0; i < fresh.rows.length; i++) rows.push(fresh.times[i], fresh.rows[i]);
      const isDue = st.forest ? end - st.lastFit >= this.o.fitEverySeconds : end - st.lastFitAttempt >= this.o.warmupRefitSeconds;
      if (isDue && st.rows.length >= this.o.minSamples) due.push(st);
      else if (isDue) st.lastFitAttempt = end;
    }
    for (const key of this.groups.keys()) if (!seen.has(key)) this.groups.delete(key);
    // Groups without a forest first, then the longest waiting (stable: the groups' order breaks ties).
    due.sort((a, b) => Number(a.forest !== undefined) - Number(b.forest !== undefined) || a.lastFitAttempt - b.lastFitAttempt);
    for (const st of due.slice(0, this.o.fitsPerCycle)) {
      const forest = new CalibratedForest(this.o);
      const rows = st.rows;
      forest.fit(this.features(rows.length, rows.cols, (r, k) => rows.value(r, k), undefined));
      st.forest = forest;
      st.lastFit = end;
      st.lastFitAttempt = end;
    }
    const out = new Map<string, number>();
    for (const g of groups) {
      const score = this.groups.get(g.key)?.score;
      if (score !== undefined) out.set(g.key, score);
    }
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

/** Rows at the times every channel has a sample, after `after`, ascending. */
function sharedRows(channels: { ts: number[]; values: number[] }[], after: number): { times: number[]; rows: number[][] } {
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
    times.push(t);
    rows.push(channels.map((c, k) => c.values[idx[k]++]));
  }
  return { times, rows };
}
