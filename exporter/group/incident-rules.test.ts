import { classifyIncident, SignalState } from './incident-rules';
import { correlate } from './correlation';

const s = (signal: string, anomalous: boolean, onsetSeconds?: number, direction: 'up' | 'down' = 'up'): SignalState => ({
  signal,
  kind: signal as SignalState['kind'],
  anomalous,
  onsetSeconds,
  direction,
});

describe('incident rules', () => {
  it('is silent when nothing is anomalous', () => {
    expect(classifyIncident([s('latency', false), s('traffic', false)])).toBeUndefined();
  });

  it('latency first, errors after, traffic normal: a slow dependency', () => {
    const r = classifyIncident([s('latency', true, 1000), s('errors', true, 1040), s('traffic', false)]);
    expect(r).toEqual({
      pattern: 'slow_dependency',
      firstSignal: 'latency',
      hint: 'latency rose 40 s before errors; traffic normal: likely a slow dependency, not load',
    });
  });

  it('traffic up first: a load surge, whatever follows', () => {
    expect(classifyIncident([s('traffic', true, 10), s('latency', true, 30), s('errors', true, 50)])).toMatchObject({
      pattern: 'load_surge',
      firstSignal: 'traffic',
    });
  });

  it('traffic down: a traffic drop', () => {
    expect(classifyIncident([s('traffic', true, 10, 'down'), s('latency', false)])).toMatchObject({
      pattern: 'traffic_drop',
      hint: 'traffic fell: likely clients cannot reach the service or upstream stopped sending',
    });
  });

  it('errors alone: an error burst', () => {
    expect(classifyIncident([s('errors', true, 5), s('latency', false), s('traffic', false)])).toMatchObject({ pattern: 'error_burst', firstSignal: 'errors' });
  });

  it('signals of other kinds: unclassified, but still ordered by onset', () => {
    const r = classifyIncident([
      { signal: 'queue_depth', kind: 'other', anomalous: true, onsetSeconds: 20, direction: 'up' },
      { signal: 'cpu', kind: 'other', anomalous: true, onsetSeconds: 5, direction: 'up' },
    ]);
    expect(r).toMatchObject({ pattern: 'unclassified', firstSignal: 'cpu', hint: 'cpu rose 15 s before queue_depth: no known pattern' });
  });
});

describe('correlate', () => {
  const ts = Array.from({ length: 30 }, (_, i) => i * 60);
  it('joins on time and gives ±1 for (anti)linear series', () => {
    const a = { ts, values: ts.map((t) => t * 2) };
    const b = { ts: ts.slice(5), values: ts.slice(5).map((t) => 100 - t) };
    expect(correlate(a, b, 'pearson', 10)).toBeCloseTo(-1);
    expect(correlate(a, { ts, values: ts.map((t) => t ** 3) }, 'spearman', 10)).toBeCloseTo(1);
  });
  it('gives nothing with too few shared samples or a constant side', () => {
    const a = { ts, values: ts.map((t) => t) };
    expect(correlate(a, { ts: ts.slice(0, 5), values: [1, 2, 3, 4, 5] }, 'pearson', 10)).toBeUndefined();
    expect(correlate(a, { ts, values: ts.map(() => 7) }, 'pearson', 10)).toBeUndefined();
  });
});
