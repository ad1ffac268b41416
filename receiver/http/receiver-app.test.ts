/** The receiver over HTTP: auth, unusable requests (4xx with a reason, nothing changed), the APIs. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { authCheck } from './request-auth';
import { alert, Kit, makeReceiver, payload, startTarget } from '../../test/doubles/receiver-test-kit';
import { createReceiverApp } from './receiver-app';

type Target = Awaited<ReturnType<typeof startTarget>>;
let target: Target;
let kit: Kit;
let server: Server;
let url: string;
let secrets: string;
const TOKEN = 's3cret-token';

beforeAll(async () => {
  target = await startTarget();
  secrets = mkdtempSync(join(tmpdir(), 'ae-secrets-'));
  writeFileSync(join(secrets, 'token'), `${TOKEN}\n`);
  kit = makeReceiver(`mode: live
auth: {type: bearer, token: {file: ${join(secrets, 'token')}}}
body_limit_bytes: 4096
http_allowlist: [${target.host}]
runbooks:
  - name: restart
    match: ['alertname="AnomalousSignal"']
    steps:
      - {type: http, url: 'http://${target.host}/admin/restart?service={{ labels.service }}'}
`);
  const app = createReceiverApp(kit.receiver, kit.registry, { auth: authCheck(kit.config.auth), bodyLimitBytes: kit.config.body_limit_bytes });
  server = await new Promise<Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await kit.receiver.idle();
  kit.close();
  await target.stop();
  rmSync(secrets, { recursive: true, force: true });
});

const auth = { Authorization: `Bearer ${TOKEN}` };
const post = (body: unknown, headers: Record<string, string> = auth) =>
  axios.post(`${url}/webhook/alertmanager`, typeof body === 'string' ? body : JSON.stringify(body), {
    headers: { 'content-type': 'application/json', ...headers },
    transformRequest: [(d: unknown) => d], // send the text as it is, broken JSON included
    validateStatus: () => true,
  });

describe('receiver HTTP API', () => {
  it.each([
    ['no Authorization header', {}, 401, 'missing Authorization header (bearer token required)'],
    ['a wrong token', { Authorization: 'Bearer nope' }, 401, 'wrong bearer token'],
    ['basic instead of bearer', { Authorization: 'Basic YTpi' }, 401, 'expected Authorization: Bearer <token>'],
  ])('refuses %s with %s and a reason, and stores nothing', async (_name, headers, status, reason) => {
    const r = await post(payload(alert()), headers as Record<string, string>);
    expect([r.status, r.data.error]).toEqual([status, reason]);
    expect(kit.receiver.store.episodes.list()).toEqual([]);
  });

  it.each([
    ['bad JSON', '{"alerts": [', 400, /^body is not valid JSON/],
    ['a body over the limit', JSON.stringify(payload(alert({ annotations: { description: 'x'.repeat(5000) } }))), 413, /^body larger than 4096 bytes$/],
    ['no alerts array', { version: '4' }, 400, /^"alerts" is missing or not an array$/],
  ])('answers %s with %s and a reason, and stores nothing', async (_name, body, status, reason) => {
    const r = await post(body);
    expect(r.status).toBe(status);
    expect(r.data.error).toMatch(reason);
    expect(kit.receiver.store.episodes.list()).toEqual([]);
  });

  it('acknowledges a good request with its decisions, then runs the action', async () => {
    const before = target.requests.length;
    const r = await post(payload(alert({ labels: { service: 'checkout' } })));
    expect(r.status).toBe(200);
    expect(r.data.decisions[0]).toMatchObject({ decision: 'executed', runbook: 'restart' });
    await kit.receiver.idle();
    expect(target.requests.slice(before).map((x) => `${x.method} ${x.url}`)).toEqual(['POST /admin/restart?service=checkout']);
  });

  it('serves episodes with filters, one episode with its timeline, and the audit log as JSON lines', async () => {
    const list = await axios.get(`${url}/api/v1/episodes`, { headers: auth, params: { status: 'firing', runbook: 'restart', since: '2026-01-01T00:00:00Z' } });
    expect(list.data.episodes).toHaveLength(1);
    const id = list.data.episodes[0].id;
    expect((await axios.get(`${url}/api/v1/episodes`, { headers: auth, params: { status: 'resolved' } })).data.episodes).toEqual([]);
    const one = await axios.get(`${url}/api/v1/episodes/${id}`, { headers: auth });
    expect(one.data.timeline.map((e: { kind: string }) => e.kind)).toEqual(['episode_opened', 'decision', 'action_started', 'action_succeeded']);
    expect(one.data.actions[0]).toMatchObject({ outcome: 'succeeded', target: 'checkout' });
    const audit = await axios.get(`${url}/api/v1/audit`, { headers: auth, responseType: 'text' });
    expect(audit.headers['content-type']).toMatch(/application\/x-ndjson/);
    const lines = (audit.data as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string });
    expect(lines.map((l) => l.kind)).toEqual(['episode_opened', 'decision', 'action_started', 'action_succeeded']);
    expect((await axios.get(`${url}/api/v1/episodes/999`, { headers: auth, validateStatus: () => true })).status).toBe(404);
    expect((await axios.get(`${url}/api/v1/episodes`, { validateStatus: () => true })).status).toBe(401);
    expect((await axios.get(`${url}/api/v1/episodes`, { headers: auth, params: { status: 'bogus' }, validateStatus: () => true })).status).toBe(400);
  });

  it("links an alert's absolute runbook_url and dashboard on the episode page, and nothing else", async () => {
    const a = alert({
      labels: { alertname: 'Other' },
      annotations: { runbook_url: 'https://anomaly.example.org/runbooks#anomaloussignal', dashboard: 'javascript:alert(1)', note: 'docs/runbooks.md' },
    });
    const r = await post(payload(a));
    const id = (r.data as { decisions: { episodeId: number }[] }).decisions[0].episodeId;
    const page = (await axios.get(`${url}/episodes/${id}`, { headers: auth })).data as string;
    expect(page).toContain('<a href="https://anomaly.example.org/runbooks#anomaloussignal" rel="noreferrer">');
    expect(page).not.toContain('href="javascript:');
    expect(page).not.toContain('href="docs/runbooks.md"');
    // Closed again, so the other cases count the episodes they expect.
    expect((await post(payload({ ...a, status: 'resolved' }))).status).toBe(200);
  });

  it('serves /metrics and /healthz without auth, with the DESIGN.md metric names', async () => {
    expect((await axios.get(`${url}/healthz`)).status).toBe(200);
    const text = (await axios.get(`${url}/metrics`, { responseType: 'text' })).data as string;
    for (const name of [
      'remediation_alerts_received_total',
      'remediation_alerts_rejected_total',
      'remediation_decisions_total',
      'remediation_actions_total',
      'remediation_action_failures_total',
      'remediation_action_duration_seconds',
      'remediation_time_to_action_seconds',
      'remediation_time_to_resolve_seconds',
      'remediation_episodes_open',
    ]) {
      expect([name, text.includes(`# TYPE ${name} `)]).toEqual([name, true]);
    }
    expect(text).toContain('remediation_webhook_requests_total{code="401"} 3');
    expect(text).toContain('remediation_episodes_open 1');
    expect(text).toMatch(/remediation_time_to_action_seconds_bucket\{le="3600",runbook="restart"\} 1/);
  });

  it('answers an approval request for a missing approval with 404 and a bad body with 400', async () => {
    expect((await axios.post(`${url}/api/v1/approvals/77`, { decision: 'approve' }, { headers: auth, validateStatus: () => true })).status).toBe(404);
    const bad = await axios.post(`${url}/api/v1/approvals/77`, { decision: 'maybe' }, { headers: auth, validateStatus: () => true });
    expect([bad.status, bad.data.error]).toEqual([400, 'body must be {"decision": "approve"} or {"decision": "reject"}']);
  });

  it("the list's decision column shows the decision that acted, not Alertmanager's repeats (duplicate)", async () => {
    const a = alert({ labels: { service: 'repeated' } });
    const first = await post(payload(a));
    expect(first.data.decisions[0].decision).toBe('executed');
    expect((await post(payload(a))).data.decisions[0].decision).toBe('duplicate');
    await kit.receiver.idle();
    const id = (first.data as { decisions: { episodeId: number }[] }).decisions[0].episodeId;
    const page = (await axios.get(`${url}/`, { headers: auth })).data as string;
    const row = page.split('<tr class="episode">').find((r) => r.includes(`href="/episodes/${id}"`))!;
    expect(row).toContain('<td>executed</td>');
    expect(row).not.toContain('duplicate');
    expect((await post(payload({ ...a, status: 'resolved' }))).status).toBe(200);
  });
});
