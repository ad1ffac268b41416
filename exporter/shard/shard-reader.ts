/**
 * A reader that gives a replica only its share of each signal's series (see shard.ts).
 *
 * Every answer is filtered by ownership, so correctness never rests on the query. Long reads (a
 * refit's whole fit window, where the bytes are) also ask the source for less: the groups present
 * now are listed with one instant evaluation (`count by (group_by) (query)`), and the signal's
 * query is rewritten so every selector matches only the owned groups' values. Short reads (new
 * samples each cycle) are read whole and filtered: listing would cost as much as it saves.
 * A query whose selectors do not carry the group labels (they appear after label_replace, say)
 * comes back empty when rewritten: it is then read whole and filtered, with one warning.
 */
import { Logger } from '../../common/logger';
import { RangeQuery, RawSeries, Reader } from '../read/reader';
import { addMatcher, regexLiteral, Shard } from './shard';

/** Reads of at least this many steps are narrowed at the source. */
export const NARROW_MIN_POINTS = 30;

export class ShardReader implements Reader {
  private readonly unnarrowable = new Set<string>();

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
    const points = Math.round((q.endSeconds - q.startSeconds) / q.stepSeconds) + 1;
    const narrow = points >= NARROW_MIN_POINTS && !this.unnarrowable.has(q.signal) && this.shard.groupBy.length > 0;
    const series = narrow ? await this.narrowRead(q, signal) : await this.inner.queryRange(q, signal);
    return series.filter((s) => keep(s.labels));
  }

  private async narrowRead(q: RangeQuery, signal: AbortSignal): Promise<RawSeries[]> {
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
    if (owned.length === 0) return [];
    let query = q.query;
    for (const label of groupBy) {
      const values = [...new Set(owned.map((g) => g.labels[label] ?? ''))].sort();
      query = addMatcher(query, `${label}=~${JSON.stringify(values.map(regexLiteral).join('|'))}`);
    }
    const series = await this.inner.queryRange({ ...q, query }, signal);
    if (series.length > 0) return series;
    this.unnarrowable.add(q.signal);
    this.log.warn('the signal query cannot be narrowed to this shard (its selectors lack the group_by labels); reading it whole and filtering', {
      signal: q.signal,
      group_by: groupBy,
    });
    return this.inner.queryRange(q, signal);
  }
}
