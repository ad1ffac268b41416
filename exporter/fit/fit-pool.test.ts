import { Prng, SeriesModel } from '../../models';
import { parseConfig } from '../config/config';
import { FitPool } from './fit-pool';
import { seriesModelConfig } from '../config/model-config';

// Every per-series model, the ones off by default included: each one's fit crosses the thread.
const config = parseConfig(
  'reader:\n  url: http://x:1\n  signals:\n    s: {query: up}\nmodels: {seasonal: {}, zscore: {}, mad: {}, isolation_forest: {}, pattern: {}, jump: {}}\n',
  't.yml',
);
const modelConfig = seriesModelConfig(config, config.reader.signals.s);

function values(seed: number, n = 600): Float64Array {
  const rng = new Prng(seed);
  return Float64Array.from({ length: n }, (_, i) => 10 + Math.sin(i / 30) + rng.next());
}

describe('FitPool', () => {
  let pool: FitPool;
  beforeAll(() => {
    pool = new FitPool(2);
  });
  afterAll(() => pool.close());

  it('runs real worker threads, from the TypeScript sources when there is no build', () => {
    expect(pool.size).toBe(2);
  });

  it('fits on workers to exactly the scores of a fit on this thread, in job order', async () => {
    const jobs = Array.from({ length: 70 }, (_, k) => ({ key: `s${k}`, values: values(k) }));
    const results = await pool.fit(modelConfig, jobs, 1234);
    expect(results.map((r) => r.key)).toEqual(jobs.map((j) => j.key));
    const probe = Float64Array.from([10, 12.5, 30, 9.2]);
    for (const k of [0, 33, 69]) {
      const here = new SeriesModel(modelConfig);
      here.fit(values(k), 1234);
      const there = SeriesModel.load(results[k].state!, modelConfig);
      expect(Array.from(there.score(probe).ensemble)).toEqual(Array.from(here.score(probe).ensemble));
    }
  });

  it('reports a series that is too short as warming up, not as an error', async () => {
    const [r] = await pool.fit(modelConfig, [{ key: 'short', values: values(1, 5) }], 0);
    expect(r.error).toBeUndefined();
    expect(r.outcome?.warmingUp.sort()).toEqual(['isolation_forest', 'jump', 'mad', 'pattern', 'zscore']);
  });

  it('stops idle workers, so their heaps go back to the system between refits, and starts them again for the next fit', async () => {
    const idle = new FitPool(2, 200);
    try {
      expect(idle.running).toBe(0);
      const jobs = Array.from({ length: 40 }, (_, k) => ({ key: `s${k}`, values: values(k) }));
      const first = await idle.fit(modelConfig, jobs, 1);
      expect(idle.running).toBe(2);
      await new Promise((r) => setTimeout(r, 600));
      expect(idle.running).toBe(0);
      const second = await idle.fit(modelConfig, jobs, 1);
      expect(idle.startedWorkers).toBe(4);
      expect(second.map((r) => r.state !== undefined)).toEqual(first.map((r) => r.state !== undefined));
      expect(second.every((r) => r.state)).toBe(true);
    } finally {
      await idle.close();
    }
  });

  it('fits on the calling thread when asked for no workers', async () => {
    const local = new FitPool(0);
    expect(local.size).toBe(0);
    const [r] = await local.fit(modelConfig, [{ key: 'a', values: values(2) }], 0);
    expect(r.outcome?.fitted.sort()).toEqual(['isolation_forest', 'jump', 'mad', 'pattern', 'zscore']);
  });
});
