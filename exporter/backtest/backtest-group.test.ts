import { parseConfig } from '../config/config';
import { Prng } from '../../models/prng';
import { backtestGroup, groupCsv } from './backtest-group';
import { CsvError, isGroupHeader, parseCsvTable } from './csv-series';

// The value-only forest: a level held where no single signal is unusual is its case. With the
// default change columns it scores about 1.0 at the onset and 0.5 after (half the columns are then
// calm), while on ASD's servers the change columns lift the forest's F1 from 0.06 to 0.34.
const valuesOnly = parseConfig(
  'reader: {url: "http://127.0.0.1:9090", signals: {x: {query: x}}}\nscheduler: {fit_every: 1h}\nmodels: {seasonal: {}, zscore: {}, mad: {}, isolation_forest: {}, pattern: {}, isolation_forest_group: {changes: false}}\n',
  'test.yml',
);

/** A service's latency and traffic at a 5-minute step: traffic cycles daily, latency follows it; noise on both. */
function service(rows: number, seed: number): { times: Float64Array; latency: Float64Array; traffic: Float64Array } {
  const rng = new Prng(seed);
  const times = Float64Array.from({ length: rows }, (_, i) => 1_700_000_000 + i * 300);
  const traffic = Float64Array.from({ length: rows }, (_, i) => 100 + 40 * Math.sin((2 * Math.PI * i) / 288) + 4 * (rng.next() - 0.5));
  const latency = Float64Array.from(traffic, (t) => 0.1 + t / 1000 + 0.004 * (rng.next() - 0.5));
  return { times, latency, traffic };
}

describe('group backtest (multi-column CSV)', () => {
  it('scores each column as its own signal and the columns together with the group forest', async () => {
    const { times, latency, traffic } = service(1200, 1);
    // A joint anomaly: at 1,000 latency is at its daily high while traffic is at its daily low,
    // each value within its own normal range.
    for (let i = 1000; i < 1012; i++) {
      traffic[i] = 62;
      latency[i] = 0.238;
    }
    const s = await backtestGroup(
      [
        { name: 'latency', values: latency },
        { name: 'traffic', values: traffic },
      ],
      times,
      valuesOnly,
    );
    expect(s.stepSeconds).toBe(300);
    expect(s.columns).toHaveLength(2);
    // The overall score is the larger of the columns' scores, row by row.
    for (let i = 0; i < times.length; i++) expect(s.score[i]).toBe(Math.max(s.columns[0][i], s.columns[1][i]));
    // The forest warms up, then scores; it flags the joint anomaly.
    expect(s.group.subarray(0, 20).every((g) => g === 0)).toBe(true);
    expect(Math.max(...s.group.subarray(1000, 1012))).toBeGreaterThan(1);
    const csv = groupCsv(
      Array.from(times, (t) => String(t)),
      ['latency', 'traffic'],
      s,
    ).split('\n');
    expect(csv[0]).toBe('timestamp,anomaly_score,group_score,latency_score,traffic_score');
    expect(csv).toHaveLength(times.length + 2);
  });

  it('reads timestamp and metric columns, ignores a label column, and refuses names that cannot be signals', () => {
    const t = parseCsvTable('timestamp,cpu,mem,label\n1,0.5,,0\n2,0.6,0.7,1\n', 'g.csv');
    expect(t.names).toEqual(['cpu', 'mem']);
    expect(Array.from(t.columns[1])).toEqual([NaN, 0.7]);
    expect(isGroupHeader('timestamp,cpu,mem,label')).toBe(true);
    expect(isGroupHeader('timestamp,value,label')).toBe(false);
    expect(() => parseCsvTable('timestamp,cpu-load,mem\n1,2,3\n', 'g.csv')).toThrow(
      new CsvError('g.csv', 1, 'column name "cpu-load" must be letters, digits and _ (it becomes a signal name)'),
    );
    expect(() => parseCsvTable('timestamp,cpu,CPU\n1,2,3\n', 'g.csv')).toThrow(/appears twice/);
    expect(() => parseCsvTable('timestamp,cpu,mem\n1,2\n', 'g.csv')).toThrow(new CsvError('g.csv', 2, 'expected 3 columns, found 2'));
    expect(() => parseCsvTable('timestamp,cpu,mem\n1,x,2\n', 'g.csv')).toThrow(/cpu "x" is not a finite number/);
  });
});
