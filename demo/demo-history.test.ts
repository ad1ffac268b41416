import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoHistory } from './demo-history';
import { requireBinary } from './local-stack';

const opts = {
  fromSeconds: 1_700_000_000,
  toSeconds: 1_700_000_599,
  stepSeconds: 1,
  ratePerService: 20,
  targetLabels: { job: 'demo', instance: '127.0.0.1:1234' },
  seed: 7,
};

function samples(text: string, prefix: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const close = line.lastIndexOf('}');
    const key = line.slice(0, close + 1);
    const [value] = line.slice(close + 2).split(' ');
    if (!out.has(key)) out.set(key, []);
    out.get(key)!.push(Number(value));
  }
  return out;
}

describe('demo history (backfill)', () => {
  const text = demoHistory(opts);

  it("sends the load generator's rate: 20 requests per second per service, counters never falling", () => {
    const requests = samples(text, 'http_requests_total{');
    const perService = new Map<string, number>();
    for (const [key, values] of requests) {
      for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
      expect(values).toHaveLength(600);
      expect(key).toContain('job="demo",instance="127.0.0.1:1234"');
      const service = /service="(\w+)"/.exec(key)![1];
      perService.set(service, (perService.get(service) ?? 0) + values[values.length - 1]);
    }
    expect([...perService.keys()].sort()).toEqual(['catalog', 'checkout']);
    for (const total of perService.values()) expect(total / 600).toBeCloseTo(20, 0);
  });

  it('keeps each histogram consistent: buckets rise with le and +Inf equals the count', () => {
    const buckets = samples(text, 'http_request_duration_seconds_bucket{');
    const counts = samples(text, 'http_request_duration_seconds_count{');
    for (const [key, count] of counts) {
      const base = key.slice('http_request_duration_seconds_count{'.length, -1);
      expect(buckets.get(`http_request_duration_seconds_bucket{${base},le="+Inf"}`)).toEqual(count);
      const le005 = buckets.get(`http_request_duration_seconds_bucket{${base},le="0.05"}`)!;
      const le001 = buckets.get(`http_request_duration_seconds_bucket{${base},le="0.01"}`)!;
      expect(le001[599]).toBeLessThanOrEqual(le005[599]);
      // Most requests of both services take under 50 ms, as in the live service.
      expect(le005[599] / count[599]).toBeGreaterThan(0.9);
    }
  });

  it('is accepted by promtool tsdb create-blocks-from openmetrics', () => {
    const promtool = requireBinary('promtool', 'prometheus');
    const dir = mkdtempSync(join(tmpdir(), 'ae-hist-'));
    writeFileSync(join(dir, 'h.om'), text);
    execFileSync(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'h.om'), join(dir, 'data')], { stdio: 'pipe' });
    expect(readdirSync(join(dir, 'data')).length).toBeGreaterThan(0);
  });
});
