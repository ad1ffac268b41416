/**
 * "Not an anomaly" against the real Alertmanager: the receiver writes a silence with the
 * false-positive marker over the episode's alert and span (auth, CSRF, one per episode even under
 * parallel clicks, audited), and the exporter's poller reads it back as a mark with that exact span;
 * a silence an operator makes with amtool's marker is read the same way. Errors: no Alertmanager
 * configured (409), Alertmanager down (502, counted), unknown episode (404).
 */
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import axios from 'axios';
import { Registry } from 'prom-client';
import { silentLogger } from '../common/logger';
import { FeedbackBook } from '../exporter/feedback/feedback-book';
import { SilencePoller } from '../exporter/feedback/silence-poller';
import { SelfMetrics } from '../exporter/publish/self-metrics';
import { createReceiverApp } from '../receiver/http/receiver-app';
import { authCheck } from '../receiver/http/request-auth';
import { alert, Kit, makeReceiver, payload, T0 } from './doubles/receiver-test-kit';
import { AlertmanagerProcess, freePort, requireBinary, startAlertmanager } from './stack';

jest.setTimeout(60_000);

let am: AlertmanagerProcess;
let kit: Kit;
let server: Server;
let url: string;
let csrf: string;

beforeAll(async () => {
  am = await startAlertmanager('route: {receiver: none}\nreceivers: [{name: none}]\n');
  kit = makeReceiver(`alertmanager: {url: ${am.url}, silence_for: 2h}\n`);
  const app = createReceiverApp(kit.receiver, kit.registry, { auth: authCheck(kit.config.auth), bodyLimitBytes: kit.config.body_limit_bytes });
  server = await new Promise<Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  csrf = (await axios.get(`${url}/api/v1/csrf-token`)).data.token as string;
  kit.now.ms = Date.now();
});

afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  kit?.close();
  await am?.stop();
});

async function episode(labels: Record<string, string>): Promise<number> {
  const a = alert({ labels, startsAt: new Date(kit.now.ms - 120_000).toISOString() });
  const r = await axios.post(`${url}/webhook/alertmanager`, payload(a));
  expect(r.status).toBe(200);
  const list = (await axios.get(`${url}/api/v1/episodes`)).data.episodes as { id: number; fingerprint: string }[];
  return list.find((e) => e.fingerprint === a.fingerprint)!.id;
}

const mark = (id: number | string, headers: Record<string, string> = { 'X-CSRF-Token': csrf }, body: unknown = {}) =>
  axios.post(`${url}/api/v1/episodes/${id}/not-anomaly`, body, { headers: { 'content-type': 'application/json', ...headers }, validateStatus: () => true });

describe('not an anomaly', () => {
  it('writes one marked silence over the alert and the episode span, audited; the exporter reads it back', async () => {
    const id = await episode({ service: 'checkout', signal: 'errors' });
    // Parallel clicks make one silence.
    const [a, b] = await Promise.all([mark(id, undefined, { note: 'deploy\nnoise' }), mark(id)]);
    const ok = [a, b].filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of [a, b]) expect([200, 409]).toContain(r.status);
    const again = await mark(id);
    expect(again.status).toBe(200);
    expect(again.data).toMatchObject({ already: true, silence_id: ok[0].data.silence_id });
    const silences = (await axios.get(`${am.url}/api/v2/silences`)).data as { id: string; comment: string; matchers: { name: string; value: string }[] }[];
    expect(silences).toHaveLength(1);
    // The episode is firing: the span is open (`FROM/`), the anomaly teaches until it ends.
    expect(silences[0].comment).toMatch(/^anomaly: false-positive span=\S+\/ episode #\d+: deploy noise$/);
    expect(Object.fromEntries(silences[0].matchers.map((m) => [m.name, m.value]))).toMatchObject({
      alertname: 'AnomalousSignal',
      service: 'checkout',
      signal: 'errors',
    });
    const audit = (await axios.get(`${url}/api/v1/episodes/${id}`)).data.timeline as { kind: string; silence_id?: string }[];
    expect(audit.filter((x) => x.kind === 'marked_not_anomaly')).toHaveLength(1);
    expect(await kit.metric('remediation_not_anomaly_marks_total', { outcome: 'marked' })).toBe(1);
    // The episode page says so, with no second button.
    const page = (await axios.get(`${url}/episodes/${id}`)).data as string;
    expect(page).toContain('Marked <b>not an anomaly</b>');
    expect(page).not.toContain('data-not-anomaly=');

    // The exporter's side: the poller reads the silence as a mark with the episode's exact span.
    const registry = new Registry();
    const metrics = new SelfMetrics(registry, 'test', []);
    const book = new FeedbackBook((kind) => metrics.feedback.inc({ kind }));
    const poller = new SilencePoller(
      () => ({
        url: am.url,
        poll_every: 30_000,
        timeout: 5000,
        headers: {},
        keep_marks: 86_400_000,
        false_positive_margin: 1.25,
        lookback: 3_600_000,
        false_positive_half_life: 0,
        false_positive_time_of_day: 0,
      }),
      () => book,
      silentLogger(),
      metrics,
    );
    await poller.pollOnce();
    expect(book.all).toHaveLength(1);
    expect(book.all[0]).toMatchObject({ kind: 'false_positive', exact: true, open: true });
    expect(book.all[0].fromSeconds).toBeCloseTo((kit.now.ms - 120_000 - 5 * 60_000) / 1000, 0);
    const text = await registry.metrics();
    expect(text).toMatch(/anomaly_feedback_total\{kind="false_positive"\} 1/);
    expect(text).toMatch(/anomaly_exporter_alertmanager_up 1/);

    // An operator's own silence with the maintenance marker, made with amtool, is read too.
    execFileSync(requireBinary('amtool', 'prometheus-alertmanager'), [
      'silence',
      'add',
      `--alertmanager.url=${am.url}`,
      '--comment=anomaly: maintenance db upgrade',
      '--duration=1h',
      'service=checkout',
    ]);
    await poller.pollOnce();
    expect(book.all.map((m) => m.kind).sort()).toEqual(['false_positive', 'maintenance']);
    expect(await registry.metrics()).toMatch(/anomaly_feedback_total\{kind="maintenance"\} 1/);

    // Alertmanager gone: the marks stay, the poll is visible as down.
    const closed = await freePort();
    const gone = new SilencePoller(
      () => ({
        url: `http://127.0.0.1:${closed}`,
        poll_every: 30_000,
        timeout: 2000,
        headers: {},
        keep_marks: 86_400_000,
        false_positive_margin: 1.25,
        lookback: 0,
        false_positive_half_life: 0,
        false_positive_time_of_day: 0,
      }),
      () => book,
      silentLogger(),
      metrics,
    );
    await gone.pollOnce();
    expect(book.size).toBe(2);
    expect(await registry.metrics()).toMatch(/anomaly_exporter_alertmanager_up 0/);
  });

  it('refuses without the CSRF token, for an unknown episode, and says when Alertmanager refuses', async () => {
    const id = await episode({ service: 'cart', signal: 'latency' });
    expect((await mark(id, {})).status).toBe(403);
    expect((await mark(999_999)).status).toBe(404);
    expect((await mark(id, undefined, { note: 42 })).status).toBe(400);
    const port = await freePort();
    const down = makeReceiver(`alertmanager: {url: 'http://127.0.0.1:${port}', timeout: 2s}\n`);
    const none = makeReceiver('');
    try {
      const r = await down.receiver.notAnomaly.mark(1, 'x', '').catch((e: { status: number; message: string }) => e);
      expect(r).toMatchObject({ status: 404 });
      await down.receiver.receive(payload(alert({ startsAt: new Date(T0).toISOString() })));
      const failed = await down.receiver.notAnomaly.mark(1, 'x', '').catch((e: { status: number; message: string }) => e);
      expect(failed).toMatchObject({ status: 502 });
      expect((failed as { message: string }).message).toMatch(/Alertmanager did not take the silence/);
      const off = await none.receiver.notAnomaly.mark(1, 'x', '').catch((e: { status: number; message: string }) => e);
      expect(off).toMatchObject({ status: 409 });
    } finally {
      down.close();
      none.close();
    }
  });
});
