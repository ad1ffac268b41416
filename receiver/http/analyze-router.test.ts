/**
 * On-demand analysis over HTTP: an Alertmanager alert or a service and a time in, the incident
 * analysis out; bad requests get 400 with the reason; a burst waits in the queue (two at a time,
 * visible at /api/v1/queue) and past its limit gets 429; a known alert gets its episode's analysis.
 */
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import axios from 'axios';
import { authCheck } from './request-auth';
import { alert, Kit, makeReceiver, payload, T0 } from '../../test/doubles/receiver-test-kit';
import { FakeRangePrometheus, startFakeRangePrometheus } from '../../test/doubles/fake-range-prometheus';
import { createReceiverApp } from './receiver-app';

let prom: FakeRangePrometheus;
let kit: Kit;
let server: Server;
let url: string;

beforeAll(async () => {
  prom = await startFakeRangePrometheus(T0 / 1000);
  kit = makeReceiver(`prometheus: {url: ${prom.url}}\n`);
  kit.now.ms = T0 + 10 * 60_000;
  const app = createReceiverApp(kit.receiver, kit.registry, { auth: authCheck(kit.config.auth), bodyLimitBytes: kit.config.body_limit_bytes });
  server = await new Promise<Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  kit.close();
  await prom.stop();
});

const analyze = (body: unknown, headers: Record<string, string> = {}) =>
  axios.post(`${url}/api/v1/analyze`, body, { headers: { 'Content-Type': 'application/json', ...headers }, validateStatus: () => true });

describe('POST /api/v1/analyze', () => {
  it('analyses a service at a time: signals with units, onset, baseline and peak; no episode', async () => {
    const r = await analyze({ service: 'checkout', time: new Date(T0).toISOString() });
    expect(r.status).toBe(200);
    expect(r.data.episode_id).toBeNull();
    expect(r.data.group).toEqual({ service: 'checkout' });
    expect(r.data.signals[0]).toMatchObject({ signal: 'latency', unit: 'seconds', baseline: 0.5, peak: 2 });
    expect(r.data.alert.started_at).toBe(new Date(T0).toISOString());
    expect(typeof r.data.summary).toBe('string');
  });

  it('analyses an alert in Alertmanager format, and a known alert gets its episode', async () => {
    const a = alert({ labels: { service: 'checkout' } });
    const fresh = await analyze({ alert: a });
    expect(fresh.status).toBe(200);
    expect(fresh.data.episode_id).toBeNull();
    expect(fresh.data.alert.name).toBe('AnomalousSignal');
    await kit.receiver.receive(payload(a));
    const known = await analyze(a);
    expect(known.status).toBe(200);
    expect(known.data.episode_id).toEqual(expect.any(Number));
    expect(known.data.remediation.decision).toBe('no_runbook');
  });

  it.each([
    ['not an object', [1, 2], /JSON object/],
    ['a whole webhook payload', { alerts: [] }, /one alert/],
    ['no labels', { time: '2026-11-23T10:00:00Z' }, /labels/],
    ['a bad time', { service: 'checkout', time: 'yesterday' }, /RFC 3339/],
    ['a future time', { service: 'checkout', time: '2030-01-01T00:00:00Z' }, /future/],
    ['a label that is not a string', { labels: { service: 1 } }, /labels.service is not a string/],
  ])('refuses %s with 400 and the reason', async (_what, body, reason) => {
    const r = await analyze(body);
    expect(r.status).toBe(400);
    expect(r.data.error).toMatch(reason);
  });

  it('refuses a form post from another site (415) and a cross-site fetch (403)', async () => {
    const form = await axios.post(`${url}/api/v1/analyze`, 'service=checkout', { headers: { 'Content-Type': 'text/plain' }, validateStatus: () => true });
    expect(form.status).toBe(415);
    expect((await analyze({ service: 'checkout' }, { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
  });

  it('runs a burst two at a time, shows it in /api/v1/queue, and answers 429 past 20 waiting', async () => {
    prom.delayMs = 300;
    try {
      const burst = Array.from({ length: 24 }, (_, i) => analyze({ service: `svc${i}`, time: new Date(T0).toISOString() }));
      await new Promise((r) => setTimeout(r, 150));
      const q = (await axios.get(`${url}/api/v1/queue`)).data;
      expect(q.analyses.running).toHaveLength(2);
      expect(q.analyses.pending).toHaveLength(20);
      expect(q.analyses.running[0]).toMatchObject({ kind: 'analyze', state: 'running', subject: { service: 'svc0' } });
      expect(q.actions_running).toEqual([]);
      // The receiver's page shows the same work.
      const page = (await axios.get(`${url}/`)).data as string;
      expect(page).toContain('<table id="work">');
      expect(page.match(/<td>analysis<\/td>/g)).toHaveLength(22);
      const answers = await Promise.all(burst);
      expect(answers.filter((a) => a.status === 429)).toHaveLength(2);
      expect(answers.filter((a) => a.status === 429)[0].data.error).toMatch(/20 analyses are waiting/);
      expect(answers.filter((a) => a.status === 200)).toHaveLength(22);
      const after = (await axios.get(`${url}/api/v1/queue`)).data;
      expect(after.analyses.pending).toEqual([]);
      expect(after.analyses.running).toEqual([]);
      expect(after.analyses.finished[0].state).toBe('done');
    } finally {
      prom.delayMs = 0;
    }
  });
});
