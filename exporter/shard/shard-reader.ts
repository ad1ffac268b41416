/**
 * A reader that gives a replica only its share of each signal's series (see shard.ts).
 *
 * Every answer is filtered by ownership, so correctness never rests on the query. Reads also ask
 * the source for less: the groups present are listed with one instant evaluation
 * (`count by (group_by) (query)`), and the signal's query is rewritten so every selector matches
 * only the owned groups' values. Long reads (a refit's whole fit window, where the bytes are)
 * list afresh; short reads (each cycle's new samples) reuse the last list for RELIST_STEPS steps,
 * so a new group is scored at most that much later (its samples from before are not read: it
 * warms up on those after), while each replica of K reads about 1/K of
 * the source every cycle instead of all of it (at 100,000 series and 10 replicas, a whole read
 * every minute took 2.3 s of a replica's infer cycle).
 * A query whose selectors do not carry the group labels (they appear after label_replace, say)
 * comes back empty from a long read when rewritten: it is then read whole and filtered, with one
 * warning.
 */
import { Logger } from '../../common/logger';
import { RangeQuery, RawSeries, Reader } from '../read/reader';
import { addMatcher, regexLiteral, Shard } from './shard';

/** Reads of at least this many steps list the groups afresh (and tell whether a query can be narrowed). */
export const NARROW_MIN_POINTS = 30;
/** A short read reuses a group list this many steps old at most. */
export const RELIST_STEPS = 10;

interface GroupList {
  /** The end of the read that listed it, seconds. */
  listedAt: number;
  /** The signal's query narrowed to the owned groups; empty when none is owned. */
  query: string;
}

export class ShardReader implements Reader {
  private readonly unnarrowable = new Set<string>();
  private readonly lists = new Map<string, GroupList>();

  constructor(
    private readonly inner: Reader,
    readonly shard: Shard,
    private readonly log: Logger,
  ) {}

  async queryRange(query: RangeQuery, signal: AbortSignal): Promise<RawSeries[]> {
    // Only the owned series are wanted, and only they count against reader.max_series: a replica
    // of 10 reading a source of 100,000 series whole holds and scores its 10,000.
    const keep = (labels: Record<string, string>) => this.shard.owns(labels) && (query.keep?.(labels) ?? true);
    const q = { ...query, keep };
    const series =
      this.shard.groupBy.length > 0 && !this.unnarrowable.has(q.signal) ? await this.narrowRead(q, signal) : await this.inner.queryRange(q, signal);
    return series.filter((s) => keep(s.labels));
  }

  private async narrowRead(q: RangeQuery, signal: AbortSignal): Promise<RawSeries[]> {
    const long = Math.round((q.endSeconds - q.startSeconds) / q.stepSeconds) + 1 >= NARROW_MIN_POINTS;
    let list = this.lists.get(q.signal);
    const stale = !list || q.endSeconds - list.listedAt >= RELIST_STEPS * q.stepSeconds || q.endSeconds < list.listedAt;
    if (long || stale) list = await this.listGroups(q, signal);
    if (list!.query === '') return [];
    const series = await this.inner.queryRange({ ...q, query: list!.query }, signal);
    // Only a long read tells: a short one may be empty for want of new samples.
    if (series.length > 0 || !long) return series;
    this.unnarrowable.add(q.signal);
    this.lists.delete(q.signal);
    this.log.warn('the signal query cannot be narrowed to this shard (its selectors lack the group_by labels); reading it whole and filtering', {
      signal: q.signal,
      group_by: this.shard.groupBy,
    });
    return this.inner.queryRange(q, signal);
  }

  /** Lists the groups present at the read's end and narrows the query to the owned ones. */
  private async listGroups(q: RangeQuery, signal: AbortSignal): Promise<GroupList> {
    const groupBy = this.shard.groupBy;
    // The listing's rows carry the group labels only: ownership reads exactly those.
    const listing = await this.inner.queryRange(
      {
        ...q,
        query: `count by (${groupBy.join(', ')}) (${q.query})`,
        startSeconds: q.endSeconds,
        endSeconds: q.endSeconds,
        keep: (labels) => this.shard.owns(labels),
      },
      signal,
    );
    const owned = listing.filter((g) => this.shard.owns(g.labels));
    let query = q.query;
    for (const label of groupBy) {
      const values = [...new Set(owned.map((g) => g.labels[label] ?? ''))].sort();
      query = addMatcher(query, `${label}=~${JSON.stringify(values.map(regexLiteral).join('|'))}`);
    }
    const list = { listedAt: q.endSeconds, query: owned.length > 0 ? query : '' };
    this.lists.set(q.signal, list);
    return list;
  }
}
