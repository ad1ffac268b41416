import axios from 'axios';
import { DemoService, startDemoService } from './demo-service';
import { parseFaultRequest } from './faults';

jest.setTimeout(30_000);

async function counts(url: string): Promise<{ total: Record<string, number>; errors: Record<string, number>; slow: Record<string, number> }> {
  const text = (await axios.get(`${url}/metrics`, { responseType: 'text' })).data as string;
  const total: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const slow: Record<string, number> = {};
  for (const line of text.split('\n')) {
    let m = /^http_requests_total\{service="(\w+)",route="[^"]+",code="(\d+)"\} (\S+)/.exec(line);
    if (m) {
      total[m[1]] = (total[m[1]] ?? 0) + Number(m[3]);
      if (m[2].startsWith('5')) errors[m[1]] = (errors[m[1]] ?? 0) + Number(m[3]);
    }
    // Requests slower than 250 ms.
    m = /^http_request_duration_seconds_bucket\{le="0.25",service="(\w+)",route="[^"]+"\} (\S+)/.exec(line);
    const c = /^http_request_duration_seconds_count\{service="(\w+)",route="[^"]+"\} (\S+)/.exec(line);
    if (m) slow[m[1]] = (slow[m[1]] ?? 0) - Number(m[2]);
    if (c) slow[c[1]] = (slow[c[1]] ?? 0) + Number(c[2]);
  }
  return { total, errors, slow };
}

const diff = (a: Record<string, number>, b: Record<string, number>, k: string) => (b[k] ?? 0) - (a[k] ?? 0);

describe('demo service', () => {
  let demo: DemoService;
  beforeAll(async () => {
    demo = await startDemoService({ listen: '127.0.0.1:0', ratePerService: 40, seed: 1 });
  });
  afterAll(() => demo.stop());

  it('validates fault requests with a reason', async () => {
    expect(parseFaultRequest({ service: 'nope', type: 'latency' }, ['a'], 0)).toMatch(/service must be one of a/);
    expect(parseFaultRequest({ service: 'a', type: 'fire' }, ['a'], 0)).toMatch(/type must be one of/);
    expect(parseFaultRequest({ service: 'a', type: 'errors', magnitude: 2 }, ['a'], 0)).toMatch(/ratio from 0 to 1/);
    expect(parseFaultRequest({ service: 'a', type: 'latency', duration: 'soon' }, ['a'], 0)).toMatch(/duration/);
    expect(parseFaultRequest({ service: 'a', type: 'latency', magnitude: 0.2, duration: '30s' }, ['a'], 1000)).toMatchObject({
      endsAtMs: 31_000,
      magnitude: 0.2,
    });
    const res = await axios.post(`${demo.url}/faults`, { service: 'x' }, { validateStatus: () => true });
    expect(res.status).toBe(400);
    expect(res.data.error).toContain('service must be one of checkout, catalog');
    const bad = await axios.post(`${demo.url}/faults`, '{not json', { headers: { 'Content-Type': 'application/json' }, validateStatus: () => true });
    expect(bad.status).toBe(400);
  });

  it('serves an open-loop load: a latency fault slows one service without lowering its traffic', async () => {
    const before = await counts(demo.url);
    await axios.post(`${demo.url}/faults`, { service: 'checkout', type: 'latency', magnitude: 0.3 });
    await new Promise((r) => setTimeout(r, 3000));
    const after = await counts(demo.url);
    await axios.delete(`${demo.url}/faults`);
    // 40 requests/s for 3 s, give or take the 300 ms still in flight.
    expect(diff(before.total, after.total, 'checkout')).toBeGreaterThan(90);
    expect(diff(before.slow, after.slow, 'checkout')).toBeGreaterThan(80);
    expect(diff(before.slow, after.slow, 'catalog')).toBe(0);
  });

  it('keeps its rate on a busy machine: timer ticks that fire late still send a second of load a second', async () => {
    const before = await counts(demo.url);
    const started = Date.now();
    // The event loop blocked 200 ms at a time, as a CPU-starved CI runner delays timers.
    while (Date.now() - started < 2000) {
      const busy = Date.now();
      while (Date.now() - busy < 200);
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 300));
    const after = await counts(demo.url);
    // 40 requests/s for about 2 s; a fixed credit per tick sent about a fifth of that.
    expect(diff(before.total, after.total, 'checkout')).toBeGreaterThan(60);
  });

  it("injects errors and traffic drops, and /admin/restart clears a service's faults", async () => {
    await axios.post(`${demo.url}/faults`, { service: 'catalog', type: 'errors', magnitude: 0.5 });
    await axios.post(`${demo.url}/faults`, { service: 'catalog', type: 'traffic_drop', magnitude: 0.9 });
    await axios.post(`${demo.url}/faults`, { service: 'checkout', type: 'errors', magnitude: 0.5 });
    const before = await counts(demo.url);
    await new Promise((r) => setTimeout(r, 2500));
    const after = await counts(demo.url);
    const catalogTotal = diff(before.total, after.total, 'catalog');
    const checkoutTotal = diff(before.total, after.total, 'checkout');
    expect(catalogTotal).toBeLessThan(checkoutTotal / 3);
    expect(diff(before.errors, after.errors, 'checkout') / checkoutTotal).toBeGreaterThan(0.3);

    const res = await axios.post(`${demo.url}/admin/restart`, { service: 'catalog' });
    expect(res.data).toEqual({ restarted: 'catalog', faults_cleared: 2 });
    const left = (await axios.get(`${demo.url}/faults`)).data.faults as { service: string }[];
    expect(left.map((f) => f.service)).toEqual(['checkout']);
    expect((await axios.post(`${demo.url}/admin/restart`, {}, { validateStatus: () => true })).status).toBe(400);
    await axios.delete(`${demo.url}/faults`);
  });

  it('a POST without Content-Type: application/json is told which header to send (415)', async () => {
    const res = await axios.post(`${demo.url}/faults`, '{"service":"checkout","type":"latency"}', {
      headers: { 'Content-Type': '' },
      transformRequest: [(d) => d],
      validateStatus: () => true,
    });
    expect(res.status).toBe(415);
    expect(res.data.error).toMatch(/^send the fault as JSON with the header Content-Type: application\/json \(got no Content-Type\)/);
    expect(parseFaultRequest([1], ['a'], 0)).toMatch(/^expected a JSON object, e.g. \{"service"/);
  });

  it('traffic_surge multiplies the load, and a restart does not clear it (it is outside the service)', async () => {
    expect(parseFaultRequest({ service: 'a', type: 'traffic_surge', magnitude: 0.5 }, ['a'], 0)).toMatch(/multiple of the load, from 1 to 20/);
    await axios.post(`${demo.url}/faults`, { service: 'catalog', type: 'traffic_surge', magnitude: 4 });
    await axios.post(`${demo.url}/faults`, { service: 'catalog', type: 'latency', magnitude: 0.01 });
    const before = await counts(demo.url);
    await new Promise((r) => setTimeout(r, 2500));
    const after = await counts(demo.url);
    expect(diff(before.total, after.total, 'catalog')).toBeGreaterThan(3 * diff(before.total, after.total, 'checkout'));
    const res = await axios.post(`${demo.url}/admin/restart`, { service: 'catalog' });
    expect(res.data).toEqual({ restarted: 'catalog', faults_cleared: 1 });
    expect((await axios.get(`${demo.url}/faults`)).data.faults.map((f: { type: string }) => f.type)).toEqual(['traffic_surge']);
    await axios.delete(`${demo.url}/faults`);
  });

  it('ends a fault after its duration', async () => {
    await axios.post(`${demo.url}/faults`, { service: 'checkout', type: 'latency', duration: 0.2 });
    expect((await axios.get(`${demo.url}/faults`)).data.faults).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    expect((await axios.get(`${demo.url}/faults`)).data.faults).toHaveLength(0);
  });
});
