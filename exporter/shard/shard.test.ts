import fc from 'fast-check';
import { parser } from '@prometheus-io/lezer-promql';
import { silentLogger } from '../../common/logger';
import { ConfigError } from '../../common/errors';
import { parseConfig } from '../config/config';
import { promqlSyntaxProblem } from '../config/promql-syntax';
import { RangeQuery, RawSeries, Reader } from '../read/reader';
import { addMatcher, groupShard, ordinalFromHostname, parseShardFlag, regexLiteral, Shard } from './shard';
import { RELIST_STEPS, ShardReader } from './shard-reader';

function selectors(query: string): string[] {
  const out: string[] = [];
  parser.parse(query).iterate({
    enter: (n) => {
      if (n.type.name !== 'VectorSelector') return undefined;
      out.push(query.slice(n.from, n.to));
      return false;
    },
  });
  return out;
}

describe('addMatcher', () => {
  const queries = [
    'up',
    'up{}',
    'http_requests_total{code=~"5.."}',
    'sum by (service) (rate(http_requests_total{job="a"}[5m])) / on (service) group_left sum by (service) (rate(x[5m] offset 1h))',
    'histogram_quantile(0.95, sum by (service, le) (rate(h_bucket[10s])))',
    '{__name__="a", b="c"}',
    'max_over_time(rate(x[1m])[10m:1m]) @ 1700000000',
    '(a or b) unless on (service) c{d="e",}',
    'label_replace(up, "service", "$1", "job", "(.*)")',
  ];

  it('adds the matcher to every selector and leaves a valid query, on queries of every shape', () => {
    for (const q of queries) {
      const out = addMatcher(q, 'service=~"a|b"');
      expect(promqlSyntaxProblem(out)).toBeUndefined();
      const sel = selectors(out);
      expect(sel).toHaveLength(selectors(q).length);
      for (const s of sel) expect(s).toContain('service=~"a|b"');
    }
    expect(addMatcher('rate(x{job="a"}[5m]) offset 5m', 'service=~"s"')).toBe('rate(x{service=~"s", job="a"}[5m]) offset 5m');
    expect(addMatcher('up{}', 'service=~"s"')).toBe('up{service=~"s"}');
  });

  it('matches exactly the listed values, whatever characters they hold (checked as Prometheus anchors them)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 5 }), fc.string({ maxLength: 6 }), (values, probe) => {
        const re = new RegExp(`^(?:${values.map(regexLiteral).join('|')})$`, 'u');
        expect(re.test(probe)).toBe(values.includes(probe));
        for (const v of values) expect(re.test(v)).toBe(true);
      }),
    );
  });
});

describe('shard ownership', () => {
  it('gives every group to exactly one of COUNT replicas, and about evenly', () => {
    const groups = Array.from({ length: 3000 }, (_, i) => ({ service: `svc-${i}` }));
    const counts = [0, 0, 0];
    for (const g of groups) {
      const owners = [0, 1, 2].filter((i) => new Shard({ index: i, count: 3 }, ['service']).owns(g));
      expect(owners).toHaveLength(1);
      counts[owners[0]]++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(900);
    expect(groupShard({ service: 'x' }, ['service'], 1)).toBe(0);
  });

  it('reads INDEX/COUNT and a StatefulSet ordinal, and refuses what is wrong', () => {
    expect(parseShardFlag('2/3')).toEqual({ index: 2, count: 3 });
    expect(() => parseShardFlag('3/3')).toThrow(/index must be between 0 and 2/);
    expect(() => parseShardFlag('one/3')).toThrow(/INDEX\/COUNT/);
    expect(ordinalFromHostname('anomaly-exporter-4')).toBe(4);
    expect(ordinalFromHostname('laptop')).toBeUndefined();
    const yml = 'reader: {url: "http://p:9090", signals: {a: {query: up}}}\nsharding: {count: 3}\n';
    expect(parseConfig(yml, 'c.yml', { hostname: 'anomaly-exporter-2' }).sharding).toEqual({ count: 3, index: 2 });
    expect(parseConfig(yml, 'c.yml', { shard: '1/4' }).sharding).toEqual({ count: 4, index: 1 });
    expect(() => parseConfig(yml, 'c.yml', { hostname: 'laptop' })).toThrow(/c\.yml: sharding\.index: not set, and HOSTNAME \("laptop"\) does not end in -N/);
    expect(() => parseConfig(yml, 'c.yml', { hostname: 'anomaly-exporter-3' })).toThrow(/sharding\.index: 3 is not below sharding\.count \(3\)/);
    expect(() => parseConfig(yml, 'c.yml', { shard: '0-3' })).toThrow(ConfigError);
    // One replica is replica 0 on any host (the shipped StatefulSet config runs as is on a laptop).
    expect(parseConfig(yml.replace('count: 3', 'count: 1'), 'c.yml', { hostname: 'laptop' }).sharding).toEqual({ count: 1, index: 0 });
    expect(() => parseConfig(yml.replace('signals:', 'group_by: [], signals:'), 'c.yml', { shard: '0/3' })).toThrow(
      /sharding\.count: replicas share the groups of reader\.group_by, which is empty/,
    );
  });
});

describe('ShardReader', () => {
  /** A source holding services s0..s9, which honours `service=~` matchers the way Prometheus does, or ignores them. */
  class FakeSource implements Reader {
    readonly queries: string[] = [];
    /** Services s0..s(n-1) are present. */
    services = 10;
    constructor(private readonly labelAfterSelect = false) {}
    async queryRange(q: RangeQuery): Promise<RawSeries[]> {
      this.queries.push(q.query);
      const all = Array.from({ length: this.services }, (_, i) => `s${i}`);
      const m = /service=~"([^"]*)"/.exec(q.query);
      // A query whose group label is made after selection (label_replace) matches nothing when narrowed.
      const chosen = m ? (this.labelAfterSelect ? [] : all.filter((s) => m[1].split('|').includes(s))) : all;
      const n = Math.round((q.endSeconds - q.startSeconds) / q.stepSeconds) + 1;
      const t = Float64Array.from({ length: n }, (_, i) => q.startSeconds + i * q.stepSeconds);
      return chosen.map((service) => ({ labels: { service }, timestamps: t, values: new Float64Array(n) }));
    }
  }
  const shard = new Shard({ index: 1, count: 3 }, ['service']);
  const mine = Array.from({ length: 10 }, (_, i) => `s${i}`).filter((s) => shard.owns({ service: s }));
  const long: RangeQuery = { signal: 'lat', query: 'sum by (service) (x)', startSeconds: 0, endSeconds: 600, stepSeconds: 10 };

  it('lists the groups, then reads a long range for its own groups only; short reads reuse the list, then list again', async () => {
    const source = new FakeSource();
    const r = new ShardReader(source, shard, silentLogger());
    const got = await r.queryRange(long, new AbortController().signal);
    expect(got.map((s) => s.labels.service).sort()).toEqual(mine);
    const narrowed = `sum by (service) (x{service=~"${[...mine].sort().join('|')}"})`;
    expect(source.queries).toEqual(['count by (service) (sum by (service) (x))', narrowed]);
    // A new service this replica owns appears: short reads go on with the list they have...
    source.services = 30;
    const owned30 = Array.from({ length: 30 }, (_, i) => `s${i}`).filter((s) => shard.owns({ service: s }));
    expect(owned30.length).toBeGreaterThan(mine.length);
    source.queries.length = 0;
    for (let k = 1; k < RELIST_STEPS; k++) {
      const end = long.endSeconds + k * long.stepSeconds;
      const short = await r.queryRange({ ...long, startSeconds: end - long.stepSeconds, endSeconds: end }, new AbortController().signal);
      expect(short.map((s) => s.labels.service).sort()).toEqual(mine);
    }
    expect(new Set(source.queries)).toEqual(new Set([narrowed]));
    // ...until the list is RELIST_STEPS steps old: listed again, the new services are read too.
    source.queries.length = 0;
    const end = long.endSeconds + RELIST_STEPS * long.stepSeconds;
    const later = await r.queryRange({ ...long, startSeconds: end - long.stepSeconds, endSeconds: end }, new AbortController().signal);
    expect(later.map((s) => s.labels.service).sort()).toEqual([...owned30].sort());
    expect(source.queries[0]).toBe('count by (service) (sum by (service) (x))');
    expect(source.queries).toHaveLength(2);
  });

  it('an empty short read is only that (no new samples), not a query that cannot be narrowed', async () => {
    const source = new FakeSource();
    const r = new ShardReader(source, shard, silentLogger());
    await r.queryRange(long, new AbortController().signal);
    source.services = 0;
    expect(await r.queryRange({ ...long, startSeconds: 590 }, new AbortController().signal)).toEqual([]);
    source.services = 10;
    source.queries.length = 0;
    expect((await r.queryRange({ ...long, startSeconds: 590 }, new AbortController().signal)).map((s) => s.labels.service).sort()).toEqual(mine);
    expect(source.queries.every((q) => q.includes('service=~'))).toBe(true);
  });

  it('reads a query it cannot narrow whole, filters it, and does not try narrowing it again', async () => {
    const source = new FakeSource(true);
    const r = new ShardReader(source, shard, silentLogger());
    expect((await r.queryRange(long, new AbortController().signal)).map((s) => s.labels.service).sort()).toEqual(mine);
    source.queries.length = 0;
    expect((await r.queryRange(long, new AbortController().signal)).map((s) => s.labels.service).sort()).toEqual(mine);
    expect(source.queries).toEqual(['sum by (service) (x)']);
  });
});
