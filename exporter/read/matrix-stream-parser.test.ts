import fc from 'fast-check';
import { MatrixStreamParser, parseQueryRangeBody } from './matrix-stream-parser';
import { RawSeries, ReaderError } from './reader';

/**
 * The meaning the parser must keep: the reader before streaming, JSON.parse of the whole body and
 * the checks it made, written out here again as the oracle.
 */
function oracle(body: string, signal: string): RawSeries[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body.charCodeAt(0) === 0xfeff ? body.slice(1) : body);
  } catch {
    throw new ReaderError('parse', 'not JSON');
  }
  const d = doc as { status?: unknown; errorType?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } };
  if (d?.status === 'error') throw new ReaderError('promql', `${String(d.errorType)}: ${String(d.error)}`);
  if (d?.status !== 'success' || !d.data || !Array.isArray(d.data.result)) throw new ReaderError('parse', 'no data.result');
  if (d.data.resultType !== 'matrix') throw new ReaderError('promql', 'not a matrix');
  return (d.data.result as { metric?: Record<string, unknown>; values?: unknown[] }[]).map((item) => {
    if (!item || typeof item !== 'object' || !Array.isArray(item.values)) throw new ReaderError('parse', `signal ${signal}: malformed series`);
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(item.metric ?? {})) labels[k] = String(v);
    const ts: number[] = [];
    const vs: number[] = [];
    for (const pair of item.values) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'number' || typeof pair[1] !== 'string')
        throw new ReaderError('parse', 'malformed sample');
      const text = pair[1];
      const v = text === '+Inf' || text === 'Inf' ? Infinity : text === '-Inf' ? -Infinity : text === 'NaN' ? NaN : Number(text);
      if (Number.isNaN(v) && text !== 'NaN') throw new ReaderError('parse', 'not a number');
      ts.push(pair[0]);
      vs.push(v);
    }
    return { labels, timestamps: Float64Array.from(ts), values: Float64Array.from(vs) };
  });
}

/** The parser fed `body` in the given chunk sizes (cycled). */
function streamed(body: Buffer, sizes: number[]): RawSeries[] {
  const p = new MatrixStreamParser('x');
  for (let o = 0, k = 0; o < body.length; k++) {
    const n = Math.max(1, sizes[k % sizes.length]);
    p.write(body.subarray(o, o + n));
    o += n;
  }
  return p.end();
}

type Outcome = { ok: true; series: { labels: Record<string, string>; t: number[]; v: number[] }[] } | { ok: false; kind: string };

function outcome(fn: () => RawSeries[]): Outcome {
  try {
    // Times -0 and 0 are one instant (series on them share one grid); values keep their sign.
    const series = fn().map((s) => ({ labels: { ...s.labels }, t: Array.from(s.timestamps, (t) => t + 0), v: Array.from(s.values) }));
    return { ok: true, series };
  } catch (err) {
    if (!(err instanceof ReaderError)) throw err;
    return { ok: false, kind: err.kind };
  }
}

// ---- Documents as Prometheus, VictoriaMetrics, proxies and hand-written fakes write them ----

const ws = fc.constantFrom('', '', '', ' ', '\n', '\t ', '\r\n  ');
const labelText = fc.oneof(
  fc.constantFrom('api', 'svc-1', '', 'a"b', 'back\\slash', 'ünï', '\u2028', '{', '}', '[', ']', ',', ':', 'result', 'data'),
  fc.string({ maxLength: 8 }),
);
const timeText = fc.oneof(
  fc.integer({ min: -2e9, max: 2e9 }).map(String),
  fc.double({ min: -2e9, max: 2e9, noNaN: true }).map((x) => JSON.stringify(x)),
  fc.integer({ min: 1_600_000_000_000, max: 1_800_000_000_000 }).map((ms) => String(ms / 1000)),
  fc.constantFrom('1.7e9', '1E3', '-0', '0', '0.5', '12345678901234567890', '1.00000000000000000001'),
);
const valueText = fc.oneof(
  fc.double().map((x) => (Number.isFinite(x) ? String(x) : x > 0 ? '+Inf' : x < 0 ? '-Inf' : 'NaN')),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => x.toFixed(6)),
  fc.integer().map(String),
  fc.constantFrom('NaN', '+Inf', '-Inf', 'Inf', 'Infinity', '1.', '+5', '-.5', ' 3 ', '0x1f', '', '1e-05', '0.000000000000000000000001', '007', '1\\u0030'),
);

interface Doc {
  series: { labels: [string, string][]; pairs: [string, string][]; valuesFirst: boolean; extra?: string }[];
  statusFirst: boolean;
  extraEnvelope: string;
  resultType: string;
  ws: string[];
}

const doc = fc.record<Doc>({
  series: fc.array(
    fc.record({
      labels: fc.array(fc.tuple(labelText, labelText), { maxLength: 4 }),
      pairs: fc.array(fc.tuple(timeText, valueText), { maxLength: 12 }),
      valuesFirst: fc.boolean(),
      extra: fc.option(fc.constantFrom('"histograms":[]', '"value":[1,"2"]'), { nil: undefined, freq: 10 }),
    }),
    { maxLength: 6 },
  ),
  statusFirst: fc.boolean(),
  extraEnvelope: fc.constantFrom('', '"isPartial":false', '"warnings":["a [ b", "{"]', '"stats":{"seriesFetched":"3","result":[1]}'),
  resultType: fc.constantFrom('matrix', 'matrix', 'matrix', 'vector'),
  ws: fc.array(ws, { minLength: 32, maxLength: 32 }),
});

/** Renders a document with whitespace between every token. */
function render(d: Doc): string {
  let k = 0;
  const w = () => d.ws[k++ % d.ws.length];
  const str = (s: string) => JSON.stringify(s);
  const series = d.series.map((s) => {
    const metric = `{${w()}${s.labels.map(([a, b]) => `${str(a)}${w()}:${w()}${str(b)}`).join(`,${w()}`)}${w()}}`;
    // Value texts holding a JSON escape are written raw, so the escape reaches the parser.
    const values = `[${w()}${s.pairs.map(([t, v]) => `[${w()}${t}${w()},${w()}"${v.includes('\\u') ? v : JSON.stringify(v).slice(1, -1)}"${w()}]`).join(`,${w()}`)}${w()}]`;
    const fields = [`"metric"${w()}:${w()}${metric}`, `"values"${w()}:${w()}${values}`];
    if (s.valuesFirst) fields.reverse();
    if (s.extra) fields.push(s.extra);
    return `{${w()}${fields.join(`,${w()}`)}${w()}}`;
  });
  const data = `{${w()}"resultType"${w()}:${w()}"${d.resultType}"${w()},${w()}"result"${w()}:${w()}[${w()}${series.join(`${w()},${w()}`)}${w()}]${w()}}`;
  const members = [`"status"${w()}:${w()}"success"`, `"data"${w()}:${w()}${data}`];
  if (!d.statusFirst) members.reverse();
  if (d.extraEnvelope) members.push(d.extraEnvelope);
  return `${w()}{${w()}${members.join(`,${w()}`)}${w()}}${w()}`;
}

const chunkSizes = fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 });

describe('MatrixStreamParser', () => {
  it('means what JSON.parse of the whole answer means, however the answer is written and however it is cut into chunks', () => {
    fc.assert(
      fc.property(doc, chunkSizes, (d, sizes) => {
        const body = render(d);
        const expected = outcome(() => oracle(body, 'x'));
        expect(outcome(() => streamed(Buffer.from(body), sizes))).toEqual(expected);
      }),
      { numRuns: 600 },
    );
  });

  it('fails where JSON.parse fails, and agrees where it does not, on answers with one byte changed', () => {
    const noise = fc.constantFrom('{', '}', '[', ']', '"', '\\', ',', ':', ' ', 'x', '1', '.', '-', 'e');
    fc.assert(
      fc.property(doc, fc.nat(), fc.constantFrom('delete', 'insert', 'replace'), noise, chunkSizes, (d, at, op, c, sizes) => {
        const body = render(d);
        const i = at % (body.length + 1);
        const mutated =
          op === 'delete'
            ? body.slice(0, i) + body.slice(i + 1)
            : op === 'insert'
              ? body.slice(0, i) + c + body.slice(i)
              : body.slice(0, i) + c + body.slice(i + 1);
        const expected = outcome(() => oracle(mutated, 'x'));
        const got = outcome(() => streamed(Buffer.from(mutated), sizes));
        expect(got.ok).toBe(expected.ok);
        expect(got).toEqual(expected);
      }),
      { numRuns: 1500 },
    );
  });

  it('gives series on the same sample times one shared timestamps array', () => {
    const body = JSON.stringify({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: ['a', 'b', 'c'].map((s, k) => ({
          metric: { s },
          values:
            k === 2
              ? [[1, '1']]
              : [
                  [1, '1'],
                  [2, '2'],
                ],
        })),
      },
    });
    const [a, b, c] = streamed(Buffer.from(body), [7]);
    expect(a.timestamps).toBe(b.timestamps);
    expect(c.timestamps).not.toBe(a.timestamps);
    expect(Array.from(b.values)).toEqual([1, 2]);
  });

  it('names the signal in its errors and puts a PromQL error or a wrong result type before a bad series', () => {
    expect(() => parseQueryRangeBody('<html>proxy error</html>', 'latency')).toThrow(/^signal latency: response is not JSON \(starts with "<html>proxy/);
    const vector = '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2"]}]}}';
    expect(() => parseQueryRangeBody(vector, 'latency')).toThrow('signal latency: expected a range vector result (matrix), got vector');
    const bad = '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"abc"]]}]}}';
    expect(() => parseQueryRangeBody(bad, 'latency')).toThrow(/sample value "abc" is not a number/);
    const truncated = '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]';
    expect(() => parseQueryRangeBody(truncated, 'latency')).toThrow(/signal latency: response is not JSON/);
  });

  it('reads a document whose result key it does not recognise (an escaped key) the slow way, to the same result', () => {
    const body = '{"status":"success","data":{"resultType":"matrix","resul\\u0074":[{"metric":{"a":"1"},"values":[[1,"2"]]}]}}';
    const [s] = parseQueryRangeBody(body, 'x');
    expect(s.labels).toEqual({ a: '1' });
    expect(Array.from(s.values)).toEqual([2]);
  });

  it('refuses a document with two data.result arrays rather than read them both', () => {
    const body = '{"status":"success","data":{"resultType":"matrix","result":[],"result":[{"metric":{},"values":[[1,"2"]]}]}}';
    expect(() => parseQueryRangeBody(body, 'x')).toThrow(ReaderError);
  });
});
