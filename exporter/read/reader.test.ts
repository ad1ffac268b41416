import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import fc from 'fast-check';
import nock from 'nock';
import { PrometheusReader } from './prometheus-reader';
import { parseQueryRangeBody, parseSampleValue } from './matrix-stream-parser';
import { keepNamesWhenMixed, shareTimestamps } from './query-range-response';
import { splitRange } from './range-split';
import { isSourceDown, ReaderError, readFailureKind } from './reader';

const URL = 'http://prom.test:9090';
const q = { signal: 'latency', query: 'up', startSeconds: 1000, endSeconds: 1060, stepSeconds: 15 };
const matrix = (values: [number, string][], metric: Record<string, string> = { service: 'a' }) =>
  JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { __name__: 'x', ...metric }, values }] } });

function reader(extra: Partial<ConstructorParameters<typeof PrometheusReader>[0]> = {}) {
  return new PrometheusReader({
    url: URL,
    timeoutMs: 500,
    retries: 2,
    headers: {},
    acceptEncoding: 'identity',
    maxPointsPerQuery: 11000,
    backoffMs: 1,
    ...extra,
  });
}

afterEach(() => nock.cleanAll());
afterAll(() => nock.restore());

describe('splitRange', () => {
  it('covers every point exactly once, in pieces of at most maxPoints', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 0, max: 50_000 }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 1, max: 12_000 }),
        (start, n, step, max) => {
          const end = start + n * step;
          const pieces = splitRange(start, end, step, max);
          // Up to 50,001 pieces a run: checked with plain comparisons, the first wrong piece reported.
          let expected = start;
          let wrong: string | undefined;
          for (const [a, b] of pieces) {
            const points = (b - a) / step + 1;
            if (a !== expected || points < 1 || points > max) {
              wrong = `piece [${a}, ${b}]: expected it to start at ${expected} with 1..${max} points, it has ${points}`;
              break;
            }
            expected = b + step;
          }
          expect(wrong).toBeUndefined();
          expect(expected - step).toBe(end);
        },
      ),
    );
  });
});

describe('query_range parsing', () => {
  it('reads NaN, +Inf and -Inf as the special floats and drops a single __name__', () => {
    const [[s]] = keepNamesWhenMixed([
      parseQueryRangeBody(
        matrix([
          [1, '1.5'],
          [2, 'NaN'],
          [3, '+Inf'],
          [4, '-Inf'],
        ]),
        'x',
      ),
    ]);
    expect(Array.from(s.values)).toEqual([1.5, NaN, Infinity, -Infinity]);
    expect(s.labels).toEqual({ service: 'a' });
    expect(parseSampleValue('1e-3')).toBe(0.001);
  });

  it('reports the server error of a failed query with the signal name', () => {
    const body = JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 5' });
    expect(() => parseQueryRangeBody(body, 'latency')).toThrow('signal latency: bad_data: parse error at char 5');
  });

  it('rejects garbage clearly', () => {
    expect(() => parseQueryRangeBody('<html>oops', 'x')).toThrow(/not JSON/);
    expect(() => parseQueryRangeBody('{"status":"success","data":{}}', 'x')).toThrow(/no data.result/);
    expect(() => parseQueryRangeBody(matrix([[1, 'abc']]), 'x')).toThrow(/not a number/);
  });
});

describe('PrometheusReader', () => {
  it('tells the source time and the parse time apart (query_duration_seconds vs parse_duration_seconds)', async () => {
    const values: [number, string][] = Array.from({ length: 20_000 }, (_, i) => [1000 + i, String(i * 0.5)]);
    const body = JSON.stringify({
      status: 'success',
      data: { resultType: 'matrix', result: Array.from({ length: 10 }, (_, k) => ({ metric: { series: `s${k}` }, values })) },
    });
    nock(URL).post('/api/v1/query_range').delay(300).reply(200, body);
    let timing: { sourceSeconds: number; parseSeconds: number } | undefined;
    const series = await reader({ maxPointsPerQuery: 1_000_000 }).queryRange(
      { ...q, startSeconds: 1000, endSeconds: 20_999, stepSeconds: 1, onTiming: (t) => (timing = t) },
      new AbortController().signal,
    );
    expect(series).toHaveLength(10);
    expect(timing!.sourceSeconds).toBeGreaterThanOrEqual(0.29);
    expect(timing!.parseSeconds).toBeGreaterThan(0);
    expect(timing!.parseSeconds).toBeLessThan(timing!.sourceSeconds);
  });

  it('reports the timing of a failed read too', async () => {
    nock(URL).post('/api/v1/query_range').reply(200, '{"status": "success", "data": [');
    let timing: { sourceSeconds: number; parseSeconds: number } | undefined;
    await expect(reader().queryRange({ ...q, onTiming: (t) => (timing = t) }, new AbortController().signal)).rejects.toThrow(/no data.result|not JSON/);
    expect(timing).toBeDefined();
  });

  it('keeps the metric name (as `name`) when one answer holds several, alike across the pieces of a split range', async () => {
    const two = (t: number) =>
      JSON.stringify({
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            { metric: { __name__: 'requests_total', service: 'a' }, values: [[t, '1']] },
            { metric: { __name__: 'errors_total', service: 'a' }, values: [[t, '2']] },
            { metric: { __name__: 'errors_total', service: 'b', name: 'taken' }, values: [[t, '3']] },
          ],
        },
      });
    // Two pieces (maxPointsPerQuery 3 over 5 points); the second holds only one name.
    const one = JSON.stringify({
      status: 'success',
      data: { resultType: 'matrix', result: [{ metric: { __name__: 'errors_total', service: 'a' }, values: [[1060, '4']] }] },
    });
    nock(URL).post('/api/v1/query_range').reply(200, two(1000)).post('/api/v1/query_range').reply(200, one);
    const series = await reader({ maxPointsPerQuery: 3 }).queryRange(q, new AbortController().signal);
    expect(series.map((s) => [s.labels, Array.from(s.values)])).toEqual([
      [{ service: 'a', name: 'requests_total' }, [1]],
      [{ service: 'a', name: 'errors_total' }, [2, 4]],
      [{ service: 'b', name: 'taken', metric_name: 'errors_total' }, [3]],
    ]);
  });

  it('posts the query form with identity encoding, auth and extra headers', async () => {
    const scope = nock(URL, { reqheaders: { 'accept-encoding': 'identity', authorization: 'Bearer s3cret', 'x-scope-orgid': 'tenant-1' } })
      .post('/api/v1/query_range', (body) => body.query === 'up' && body.start === '1000' && body.end === '1060' && body.step === '15')
      .reply(200, matrix([[1000, '1']]));
    const r = reader({ bearerToken: 's3cret', headers: { 'X-Scope-OrgID': 'tenant-1' } });
    const out = await r.queryRange(q, new AbortController().signal);
    expect(out).toHaveLength(1);
    expect(scope.isDone()).toBe(true);
  });

  it('retries a 500 with backoff and then succeeds', async () => {
    nock(URL)
      .post('/api/v1/query_range')
      .reply(500, 'boom')
      .post('/api/v1/query_range')
      .reply(200, matrix([[1000, '2']]));
    const out = await reader().queryRange(q, new AbortController().signal);
    expect(out[0].values[0]).toBe(2);
  });

  it('gives up after its retries on a persistent 503, as a source-down error', async () => {
    nock(URL).post('/api/v1/query_range').times(3).reply(503, 'unavailable');
    const err = await reader()
      .queryRange(q, new AbortController().signal)
      .catch((e) => e);
    expect(err).toBeInstanceOf(ReaderError);
    expect(err.kind).toBe('http');
    expect(isSourceDown(readFailureKind(err))).toBe(true);
    expect(nock.isDone()).toBe(true);
  });

  it('does not retry a 400 and keeps the PromQL error message', async () => {
    const scope = nock(URL).post('/api/v1/query_range').reply(400, { status: 'error', errorType: 'bad_data', error: '1:5: parse error: unexpected "}"' });
    const err = await reader()
      .queryRange(q, new AbortController().signal)
      .catch((e) => e);
    expect(err.kind).toBe('promql');
    expect(err.message).toContain('signal latency');
    expect(err.message).toContain('parse error: unexpected');
    expect(isSourceDown(readFailureKind(err))).toBe(false);
    expect(scope.isDone()).toBe(true);
  });

  it('reports malformed JSON as a parse error', async () => {
    nock(URL).post('/api/v1/query_range').reply(200, '{"status": "success", "data": [');
    const err = await reader()
      .queryRange(q, new AbortController().signal)
      .catch((e) => e);
    expect(err.kind).toBe('parse');
  });

  it('times out a slow server and retries', async () => {
    nock(URL).post('/api/v1/query_range').times(3).delay(2000).reply(200, matrix([]));
    const started = Date.now();
    const err = await reader({ timeoutMs: 100 })
      .queryRange(q, new AbortController().signal)
      .catch((e) => e);
    expect(err.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('cuts a source that drips its answer at the deadline, not after it (a real server on loopback)', async () => {
    nock.enableNetConnect('127.0.0.1');
    // Sends a byte every 100 ms for ever: an idle timeout would never fire.
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"status":"success","data":{"resultType":"matrix","result":[');
      const t = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(t));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const started = Date.now();
      const err = await reader({ url, timeoutMs: 600, retries: 0 })
        .queryRange(q, new AbortController().signal)
        .catch((e) => e);
      expect(err.kind).toBe('timeout');
      expect(err.message).toMatch(/signal latency: no complete answer within 600 ms/);
      expect(isSourceDown(readFailureKind(err))).toBe(true);
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('reads an answer larger than max_response_bytes in halves, remembers the size, and refuses only a single step too large', async () => {
    // The source answers 40 series per requested point: about 1,200 bytes a point.
    const requested: number[] = [];
    const answer = (body: string) => {
      const p = new URLSearchParams(body);
      const [start, end, step] = ['start', 'end', 'step'].map((k) => Number(p.get(k)));
      requested.push((end - start) / step + 1);
      const values: [number, string][] = [];
      for (let t = start; t <= end; t += step) values.push([t, String(t)]);
      return JSON.stringify({
        status: 'success',
        data: { resultType: 'matrix', result: Array.from({ length: 40 }, (_, k) => ({ metric: { s: `s${k}` }, values })) },
      });
    };
    nock(URL)
      .post('/api/v1/query_range')
      .times(20)
      .reply(200, (_uri, body) => answer(String(body)));
    const r = reader({ maxResponseBytes: 6_000, retries: 0 });
    const long = { ...q, startSeconds: 1000, endSeconds: 1000 + 15 * 15, stepSeconds: 15 }; // 16 points
    const series = await r.queryRange(long, new AbortController().signal);
    expect(series).toHaveLength(40);
    expect(Array.from(series[7].values)).toEqual(Array.from({ length: 16 }, (_, i) => 1000 + i * 15));
    // 16 points refused, then halves until they fit (8 points here).
    expect(requested).toEqual([16, 8, 8]);
    // The next read splits at 8 at once: no refused answer first.
    requested.length = 0;
    await r.queryRange(long, new AbortController().signal);
    expect(requested).toEqual([8, 8]);
    nock.cleanAll();
    const big = matrix(Array.from({ length: 5000 }, (_, i) => [1000 + i, '1'] as [number, string]));
    nock(URL).post('/api/v1/query_range').reply(200, big);
    const tooLarge = await reader({ maxResponseBytes: 10_000, retries: 0 })
      .queryRange({ ...q, endSeconds: q.startSeconds }, new AbortController().signal)
      .catch((e) => e);
    expect(tooLarge.kind).toBe('too_large');
    expect(tooLarge.message).toMatch(
      /^signal latency: the answer for a single step is larger than reader.max_response_bytes \(10000 bytes\): raise it, or narrow the query/,
    );
    expect(isSourceDown(readFailureKind(tooLarge))).toBe(false);
  });

  it('refuses an answer with more series than max_series, naming the signal', async () => {
    const many = JSON.stringify({
      status: 'success',
      data: { resultType: 'matrix', result: Array.from({ length: 4 }, (_, i) => ({ metric: { service: `s${i}` }, values: [[1000, '1']] })) },
    });
    nock(URL).post('/api/v1/query_range').reply(200, many);
    const tooMany = await reader({ maxSeries: 3, retries: 0 })
      .queryRange(q, new AbortController().signal)
      .catch((e) => e);
    expect(tooMany.kind).toBe('too_many_series');
    expect(tooMany.message).toMatch(/^signal latency: more than 3 series \(reader.max_series\): refused/);
    nock(URL).post('/api/v1/query_range').reply(200, many);
    expect(await reader({ maxSeries: 4 }).queryRange(q, new AbortController().signal)).toHaveLength(4);
  });

  it('abandons an answer at the first series past the limit, before the rest is read', async () => {
    // A source whose answer never ends: 1,000 points a series, series after series, written
    // only as the reader takes them (backpressure). Reading it whole would never finish.
    let written = 0;
    let closed = false;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"status":"success","data":{"resultType":"matrix","result":[');
      const values = JSON.stringify(Array.from({ length: 1000 }, (_, i) => [1000 + i * 15, '1.5']));
      let i = 0;
      const more = () => {
        while (!closed) {
          const chunk = `${i ? ',' : ''}{"metric":{"service":"s${i++}"},"values":${values}}`;
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
      };
      res.on('close', () => (closed = true));
      more();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const err = await reader({ url, timeoutMs: 10_000, retries: 0, maxSeries: 10_000 })
        .queryRange({ ...q, maxSeries: 50, limitName: 'the Analyse limit' }, new AbortController().signal)
        .catch((e) => e);
      expect(err.kind).toBe('too_many_series');
      expect(err.message).toMatch(/^signal latency: more than 50 series \(the Analyse limit\): refused/);
      await new Promise((r) => setTimeout(r, 50));
      expect(closed).toBe(true);
      // 51 series are about 1 MB; socket buffers add a few more, never the endless rest.
      expect(written).toBeLessThan(16 * 1024 * 1024);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('counts only the series a replica keeps against the limit, as they stream', async () => {
    const many = JSON.stringify({
      status: 'success',
      data: { resultType: 'matrix', result: Array.from({ length: 10 }, (_, i) => ({ metric: { service: `s${i}` }, values: [[1000, '1']] })) },
    });
    nock(URL).post('/api/v1/query_range').reply(200, many);
    const keep = (l: Record<string, string>) => Number(l.service.slice(1)) % 2 === 0;
    const kept = await reader({ maxSeries: 5 }).queryRange({ ...q, keep }, new AbortController().signal);
    expect(kept.map((s) => s.labels.service)).toEqual(['s0', 's2', 's4', 's6', 's8']);
  });

  describe('redirects', () => {
    interface Seen {
      method: string;
      path: string;
      authorization?: string;
      tenant?: string;
    }
    /** A local server: `answer` decides per request; every request is recorded. */
    async function server(answer: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) {
      const seen: Seen[] = [];
      const s = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          seen.push({
            method: req.method ?? '',
            path: req.url ?? '',
            authorization: req.headers.authorization,
            tenant: req.headers['x-scope-orgid'] as string,
          });
          answer(req, res);
        });
      });
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen, close: () => s.close() };
    }
    const ok = (_req: unknown, res: import('node:http').ServerResponse) =>
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(matrix([[1000, '1']]));

    beforeEach(() => nock.enableNetConnect('127.0.0.1'));

    it('follows a redirect to another host without the credentials or the headers', async () => {
      const other = await server(ok);
      const first = await server((req, res) => res.writeHead(307, { Location: `${other.url}${req.url}` }).end());
      try {
        const r = reader({ url: first.url, retries: 0, bearerToken: 's3cret', headers: { 'X-Scope-OrgID': 'tenant-1' } });
        expect(await r.queryRange(q, new AbortController().signal)).toHaveLength(1);
        expect(first.seen[0]).toMatchObject({ method: 'POST', authorization: 'Bearer s3cret', tenant: 'tenant-1' });
        expect(other.seen).toEqual([{ method: 'POST', path: '/api/v1/query_range', authorization: undefined, tenant: undefined }]);
      } finally {
        first.close();
        other.close();
      }
    });

    it('remembers a permanent redirect on the same origin (no second POST to the old path); 302 becomes a GET', async () => {
      const s = await server((req, res) => {
        if (req.url === '/api/v1/query_range') return void res.writeHead(308, { Location: '/prom/api/v1/query_range' }).end();
        if (req.url === '/prom/api/v1/query_range') return void res.writeHead(302, { Location: '/final' }).end();
        ok(req, res);
      });
      try {
        const r = reader({ url: s.url, retries: 0, basic: { username: 'u', password: 'p' } });
        await r.queryRange(q, new AbortController().signal);
        await r.queryRange(q, new AbortController().signal);
        expect(s.seen.map((x) => `${x.method} ${x.path.split('?')[0]}`)).toEqual([
          'POST /api/v1/query_range',
          'POST /prom/api/v1/query_range',
          'GET /final',
          'POST /prom/api/v1/query_range',
          'GET /final',
        ]);
        // Same origin: the credentials go along; the GET carries the form in its URL.
        expect(s.seen.every((x) => x.authorization === `Basic ${Buffer.from('u:p').toString('base64')}`)).toBe(true);
        expect(s.seen[2].path).toMatch(/^\/final\?query=up&start=1000/);
      } finally {
        s.close();
      }
    });

    it('follow_redirects false: the read fails naming where it pointed; a loop stops after 10', async () => {
      const s = await server((req, res) => res.writeHead(307, { Location: req.url === '/loop' ? '/loop' : '/elsewhere' }).end());
      try {
        const refused = await reader({ url: s.url, retries: 0, followRedirects: false })
          .queryRange(q, new AbortController().signal)
          .catch((e) => e);
        expect(refused.message).toMatch(/HTTP 307 redirect to http:\/\/127\.0\.0\.1:\d+\/elsewhere: not followed \(follow_redirects: false\)/);
        const loop = await reader({ url: `${s.url}/loop`, retries: 0 })
          .queryRange(q, new AbortController().signal)
          .catch((e) => e);
        expect(loop.message).toMatch(/more than 10 redirects/);
      } finally {
        s.close();
      }
    });
  });

  it('reports a refused connection as a network error', async () => {
    nock.enableNetConnect('127.0.0.1');
    const r = new PrometheusReader({ url: 'http://127.0.0.1:1', timeoutMs: 500, retries: 0, headers: {}, acceptEncoding: 'identity', maxPointsPerQuery: 100 });
    const err = await r.queryRange(q, new AbortController().signal).catch((e) => e);
    expect(err.kind).toBe('network');
    expect(isSourceDown(readFailureKind(err))).toBe(true);
  });

  it('aborts an in-flight request when its signal fires', async () => {
    nock(URL).post('/api/v1/query_range').delay(5000).reply(200, matrix([]));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const started = Date.now();
    const err = await reader({ timeoutMs: 10_000 })
      .queryRange(q, ac.signal)
      .catch((e) => e);
    expect(err.kind).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('fails at once, as aborted, when its signal has already fired', async () => {
    nock(URL).post('/api/v1/query_range').delay(5000).reply(200, matrix([]));
    const ac = new AbortController();
    ac.abort();
    const started = Date.now();
    const err = await reader({ timeoutMs: 10_000 })
      .queryRange(q, ac.signal)
      .catch((e) => e);
    expect(err.kind).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('splits a long range and joins the pieces per series', async () => {
    const bodies: Record<string, string>[] = [];
    nock(URL)
      .post('/api/v1/query_range', (b) => (bodies.push(b), true))
      .times(3)
      .reply(200, (_uri, body) => {
        const b = Object.fromEntries(new URLSearchParams(body as string));
        const values: [number, string][] = [];
        for (let t = Number(b.start); t <= Number(b.end); t += Number(b.step)) values.push([t, String(t)]);
        return matrix(values);
      });
    const out = await reader({ maxPointsPerQuery: 2 }).queryRange(q, new AbortController().signal);
    expect(bodies.map((b) => [b.start, b.end])).toEqual([
      ['1000', '1015'],
      ['1030', '1045'],
      ['1060', '1060'],
    ]);
    expect(Array.from(out[0].timestamps)).toEqual([1000, 1015, 1030, 1045, 1060]);
  });
});

describe('shareTimestamps', () => {
  const s = (labels: Record<string, string>, ts: number[]) => ({ labels, timestamps: Float64Array.from(ts), values: Float64Array.from(ts, (t) => t * 2) });

  it('gives series with the same sample times one timestamps array, and keeps the others and every value', () => {
    const input = [s({ a: '1' }, [10, 20, 30]), s({ a: '2' }, [10, 20, 30]), s({ a: '3' }, [10, 30]), s({ a: '4' }, [10, 30])];
    const out = shareTimestamps(input);
    expect(out[1].timestamps).toBe(out[0].timestamps);
    expect(out[3].timestamps).toBe(out[2].timestamps);
    expect(out[2].timestamps).not.toBe(out[0].timestamps);
    expect(out.map((x) => [x.labels.a, Array.from(x.timestamps), Array.from(x.values)])).toEqual(
      input.map((x) => [x.labels.a, Array.from(x.timestamps), Array.from(x.values)]),
    );
  });
});
