import { CalibratedForest, CalibratedForestOptions, FeatureMatrix } from '../../models';
import { PublishedGroup, singleSeriesSignals } from './group-analysis';

export interface GroupForestOptions extends CalibratedForestOptions {
  /** At most this many signals of a group (by name) are channels of its forest. */
  maxChannels: number;
  /** Each channel's change since the previous row is a column too (so a channel is two columns). */
  changes: boolean;
  minSamples: number;
  fitEverySeconds: number;
  /** Rows kept for fitting: the fit window in steps. */
  windowRows: number;
  /** Refit interval while warming up. */
  warmupRefitSeconds: number;
}

interface GroupState {
  channels: string[];
  times: number[];
  rows: number[][];
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
    const out = new Map<string, number>();
    const seen = new Set<string>();
    for (const g of groups) {
      seen.add(g.key);
      const channels = singleSeriesSignals(g.members).slice(0, this.o.maxChannels);
      if (channels.length < 2) continue;
      const names = channels.map(([n]) => n);
      let st = this.groups.get(g.key);
      if (!st || st.channels.join() !== names.join()) {
        st = { channels: names, times: [], rows: [], lastFit: -Infinity, lastFitAttempt: -Infinity };
        this.groups.set(g.key, st);
      }
      const fresh = sharedRows(
        channels.map(([, p]) => p.recent),
        st.times.length ? st.times[st.times.length - 1] : -Infinity,
      );
      if (fresh.rows.length && st.forest) {
        const x = this.features(fresh.rows, st.rows[st.rows.length - 1]);
        const s = st.forest.score(x);
        st.score = s[s.length - 1];
      }
      st.times.push(...fresh.times);
      st.rows.push(...fresh.rows);
      if (st.times.length > this.o.windowRows) {
        st.times.splice(0, st.times.length - this.o.windowRows);
        st.rows.splice(0, st.rows.length - this.o.windowRows);
      }
      const due = st.forest ? end - st.lastFit >= this.o.fitEverySeconds : end - st.lastFitAttempt >= this.o.warmupRefitSeconds;
      if (due && st.rows.length >= this.o.minSamples) {
        const forest = new CalibratedForest(this.o);
        forest.fit(this.features(st.rows, undefined));
        st.forest = forest;
        st.lastFit = end;
      }
      if (due) st.lastFitAttempt = end;
      if (st.score !== undefined) out.set(g.key, st.score);
    }
    for (const key of this.groups.keys()) if (!seen.has(key)) this.groups.delete(key);
    return out;
  }

  /**
   * The forest's rows: the channels' values, then (with `changes`) each one's change since the
   * row before (`before`: the row preceding the first; none: no change for the first row). A
   * joint shift shows in the values, a sudden one also in the changes while it happens.
   */
  private features(rows: readonly number[][], before: readonly number[] | undefined): FeatureMatrix {
    const n = rows[0]?.length ?? 0;
    const cols = this.o.changes ? 2 * n : n;
    const data = new Float64Array(rows.length * cols);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      const prev = r > 0 ? rows[r - 1] : (before ?? row);
      for (let k = 0; k < n; k++) {
        data[r * cols + k] = row[k];
        if (this.o.changes) data[r * cols + n + k] = row[k] - prev[k];
      }
    }
    return { rows: rows.length, cols, data };
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
