/**
 * Episodes and the store: repeated and retried deliveries, out-of-order resolved/firing, a
 * restart between firing and resolved, an action cut by a restart, approvals, the source check.
 */
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { silentLogger } from '../common/logger';
import { Receiver } from './receiver';
import { alert, makeReceiver, payload, startTarget, T0 } from '../test/doubles/receiver-test-kit';

type Target = Awaited<ReturnType<typeof startTarget>>;
let target: Target;
let prom: { server: Server; url: string; lost: boolean };

beforeAll(async () => {
  target = await startTarget();
  // Answers the anomaly-source query: a non-empty vector when `lost`.
  prom = { server: createServer(), url: '', lost: false };
  prom.server.on('request', (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: prom.lost ? [{ metric: {}, value: [T0 / 1000, '0'] }] : [] } }));
  });
  await new Promise<void>((r) => prom.server.listen(0, '127.0.0.1', r));
  prom.url = `http://127.0.0.1:${(prom.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await target.stop();
  prom.server.close();
});

const live = () => `mode: live
http_allowlist: [${target.host}]
prometheus: {url: ${prom.url}}
runbooks:
  - name: restart
    match: ['alertname="AnomalousSignal"']
    steps:
      - {type: http, url: 'http://${target.host}/admin/restart?service={{ labels.service }}'}
`;

describe('Receiver episodes', () => {
  it('acts once for an alert delivered again, retried, and repeated inside one group', async () => {
    const kit = makeReceiver(live());
    try {
      const a = alert();
      const before = target.requests.length;
      for (let i = 0; i < 3; i++) {
        const r = await kit.receiver.receive(payload(a, a));
        kit.receiver.startActions(r.actions);
      }
      await kit.receiver.idle();
      expect(target.requests.length - before).toBe(1);
      const episodes = kit.receiver.store.episodes.list();
      expect(episodes).toHaveLength(1);
      expect(kit.receiver.store.episodes.decisionsOf(episodes[0].id).map((d) => d.decision)).toEqual(['executed', 'duplicate', 'duplicate']);
      expect(kit.receiver.store.actions.of(episodes[0].id).map((x) => x.outcome)).toEqual(['succeeded']);
      expect(await kit.metric('remediation_actions_total', { runbook: 'restart' })).toBe(1);
    } finally {
      kit.close();
    }
  });

  it('takes the same alert with startsAt written in another time zone as the same episode, and acts once', async () => {
    const kit = makeReceiver(live());
    try {
      const before = target.requests.length;
      const a = alert({ startsAt: '2026-11-23T10:00:00Z' });
      for (const startsAt of ['2026-11-23T10:00:00Z', '2026-11-23T11:00:00+01:00', '2026-11-23T10:00:00.000000000Z']) {
        const r = await kit.receiver.receive(payload({ ...a, startsAt }));
        kit.receiver.startActions(r.actions);
      }
      await kit.receiver.idle();
      expect(kit.receiver.store.episodes.list()).toHaveLength(1);
      expect(target.requests.length - before).toBe(1);
    } finally {
      kit.close();
    }
  });

  it('closes the episode on resolve and records the time to resolve; a new startsAt is a new episode', async () => {
    const kit = makeReceiver(live());
    try {
      const a = alert();
      await kit.receiver.receive(payload(a));
      kit.now.ms = T0 + 300_000;
      const r = await kit.receiver.receive(payload({ ...a, status: 'resolved' }));
      expect(r.resolved).toEqual([{ episodeId: 1, kind: 'recovered', seconds: 300 }]);
      expect(kit.receiver.store.episodes.get(1)).toMatchObject({ status: 'resolved', resolveKind: 'recovered' });
      // The same alert firing again later is a new occurrence (new startsAt): a new episode.
      await kit.receiver.receive(payload({ ...a, startsAt: new Date(T0 + 600_000).toISOString() }));
      expect(kit.receiver.store.episodes.list().map((e) => e.status)).toEqual(['firing', 'resolved']);
      const text = await kit.registry.metrics();
      expect(text).toContain('remediation_time_to_resolve_seconds_count{kind="recovered"} 1');
      expect(text).toContain('remediation_time_to_resolve_seconds_bucket{le="300",kind="recovered"} 1');
    } finally {
      kit.close();
    }
  });

  it('records a resolve while the anomaly source was lost as source_lost, not as a recovery', async () => {
    const kit = makeReceiver(live());
    try {
      const a = alert();
      await kit.receiver.receive(payload(a));
      prom.lost = true;
      const r = await kit.receiver.receive(payload({ ...a, status: 'resolved' }));
      prom.lost = false;
      expect(r.resolved[0].kind).toBe('source_lost');
      expect(await kit.metric('remediation_time_to_resolve_seconds_count', { kind: 'recovered' })).toBe(0);
      // A classic alert (not category="anomaly") is not checked against the source.
      prom.lost = true;
      const b = alert({ labels: { alertname: 'HighErrorRatio', category: 'errors' } });
      await kit.receiver.receive(payload(b));
      expect((await kit.receiver.receive(payload({ ...b, status: 'resolved' }))).resolved[0].kind).toBe('recovered');
      prom.lost = false;
    } finally {
      kit.close();
    }
  });

  it('takes a resolved that arrives before its firing, and never acts on the late firing', async () => {
    const kit = makeReceiver(live());
    try {
      const a = alert();
      const before = target.requests.length;
      const r1 = await kit.receiver.receive(payload({ ...a, status: 'resolved' }));
      expect(r1.resolved).toHaveLength(1);
      const r2 = await kit.receiver.receive(payload(a));
      kit.receiver.startActions(r2.actions);
      await kit.receiver.idle();
      expect(r2.decisions[0]).toMatchObject({ decision: 'duplicate' });
      expect(r2.decisions[0].reason).toMatch(/already resolved: a late firing never acts/);
      expect(target.requests.length).toBe(before);
      const kinds = [...kit.receiver.store.auditLog.iterate()].map((e) => e.kind);
      expect(kinds).toEqual(['resolved_without_firing', 'episode_resolved', 'duplicate_delivery']);
    } finally {
      kit.close();
    }
  });

  it('survives a restart between firing and resolved, and marks an action cut by a restart outcome_unknown, never retried', async () => {
    const kit = makeReceiver(live());
    const a = alert();
    const r = await kit.receiver.receive(payload(a));
    // The process dies after the ack, before the action finished: its row stays `running`.
    expect(r.actions).toHaveLength(1);
    r.actions[0].release();
    kit.receiver.close();
    const again = new Receiver(kit.config, new Registry(), silentLogger(), () => T0 + 120_000);
    try {
      const actions = again.store.actions.of(1);
      expect(actions.map((x) => x.outcome)).toEqual(['outcome_unknown']);
      expect(actions[0].detail).toMatch(/not retried/);
      // The retried delivery after the restart does not act again.
      const retry = await again.receive(payload(a));
      expect(retry.decisions[0].decision).toBe('duplicate');
      expect(retry.actions).toEqual([]);
      const resolved = await again.receive(payload({ ...a, status: 'resolved' }));
      expect(resolved.resolved).toEqual([{ episodeId: 1, kind: 'recovered', seconds: 120 }]);
    } finally {
      again.close();
      kit.close();
    }
  });

  it('approval mode: waits, then acts on approve; a rejection and an expiry are refusals', async () => {
    const kit = makeReceiver(live().replace('mode: live', 'mode: approval'));
    try {
      const before = target.requests.length;
      const r = await kit.receiver.receive(payload(alert(), alert({ labels: { service: 'catalog' } }), alert({ labels: { service: 'search' } })));
      expect(r.decisions.map((d) => d.decision)).toEqual(['awaiting_approval', 'awaiting_approval', 'awaiting_approval']);
      expect(target.requests.length).toBe(before);
      const [a1, a2, a3] = kit.receiver.store.approvals.list('pending');
      expect(await kit.receiver.decideApproval(a1.id, 'approve', 'alice')).toMatchObject({ status: 'approved', decision: 'executed' });
      await kit.receiver.idle();
      expect(target.requests.length).toBe(before + 1);
      expect(await kit.receiver.decideApproval(a2.id, 'reject', 'bob')).toEqual({ status: 'rejected' });
      await expect(kit.receiver.decideApproval(a2.id, 'approve', 'bob')).rejects.toThrow(/already rejected/);
      kit.now.ms += 16 * 60_000; // past the 15 m approval timeout
      await expect(kit.receiver.decideApproval(a3.id, 'approve', 'carol')).rejects.toThrow(/expired/);
      expect(kit.receiver.store.episodes.decisionsOf(a3.episodeId).map((d) => [d.decision, d.reason])).toEqual([
        ['awaiting_approval', 'runbook restart on search waits for approval'],
        ['refused', 'approval expired'],
      ]);
      expect(await kit.metric('remediation_gate_refusals_total', { gate: 'approval' })).toBe(1);
    } finally {
      kit.close();
    }
  });

  it('keeps going when the store cannot write (a full disk): the expiry timer logs and counts, and expires on a later tick', async () => {
    const kit = makeReceiver(live().replace('mode: live', 'mode: approval'));
    try {
      await kit.receiver.receive(payload(alert()));
      kit.now.ms += 16 * 60_000; // past the 15 m approval timeout
      const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      const spy = jest.spyOn(kit.receiver.store, 'transaction').mockImplementation(() => {
        throw full;
      });
      expect(() => kit.receiver.expireApprovalsOnTimer()).not.toThrow();
      expect(() => kit.receiver.expireApprovalsOnTimer()).not.toThrow();
      expect(await kit.metric('remediation_store_errors_total', { operation: 'expire_approvals' })).toBe(2);
      expect(kit.receiver.store.approvals.list('pending')).toHaveLength(1);
      spy.mockRestore();
      kit.receiver.expireApprovalsOnTimer();
      expect(kit.receiver.store.approvals.list('pending')).toHaveLength(0);
    } finally {
      kit.close();
    }
  });

  it('stops a runbook at its first failed step, records it and counts the failure; notify sends alert and decision', async () => {
    const hook = await startTarget();
    process.env.TEST_NOTIFY_URL = `${hook.url}/notify`;
    const kit = makeReceiver(`mode: live
external_url: https://receiver.example.org/
http_allowlist: [${target.host}]
runbooks:
  - name: notify-then-fail
    match: ['alertname="AnomalousSignal"']
    steps:
      - {type: notify, kind: webhook, url: {env: TEST_NOTIFY_URL}}
      - {type: notify, kind: slack, url: {env: TEST_NOTIFY_URL}}
      - {type: http, url: 'http://${target.host}/missing', method: GET}
      - {type: exec, argv: [/bin/false]}
      - {type: log, message: never reached}
`);
    try {
      const r = await kit.receiver.receive(payload(alert()));
      kit.receiver.startActions(r.actions);
      await kit.receiver.idle();
      const [action] = kit.receiver.store.actions.of(1);
      expect(action.outcome).toBe('failed');
      expect(action.detail).toMatch(
        /^notify: webhook notification → 200; notify: slack notification → 200; http: GET http:\/\/127\.0\.0\.1:\d+\/missing → 200/,
      );
      const [webhook, slack] = hook.requests.map((x) => JSON.parse(x.body.toString('utf8')) as Record<string, unknown>);
      expect(webhook).toMatchObject({ runbook: 'notify-then-fail', episodeId: 1, decision: 'executed', alert: { labels: { service: 'checkout' } } });
      expect(slack.text).toMatch(/^\[executed\] AnomalousSignal checkout: checkout latency anomalous \(runbook notify-then-fail, episode 1: /);
      // Block Kit, as the local endpoint received it: header, a coloured attachment, a link to the episode.
      expect(slack.blocks).toEqual([{ type: 'header', text: { type: 'plain_text', text: '[executed] AnomalousSignal · checkout' } }]);
      const [att] = slack.attachments as { color: string; blocks: { type: string; elements?: { url: string }[] }[] }[];
      expect(att.color).toBe('#d29922');
      expect(att.blocks.find((b) => b.type === 'actions')!.elements!.map((e) => e.url)).toEqual(['https://receiver.example.org/episodes/1']);
      // The secret URL is not in the audit log.
      expect(JSON.stringify([...kit.receiver.store.auditLog.iterate()])).not.toContain('/notify');
      expect(await kit.metric('remediation_action_failures_total', { runbook: 'notify-then-fail' })).toBe(1);
      const steps = [...kit.receiver.store.auditLog.iterate()].find((e) => e.kind === 'action_failed')!.detail.steps as { type: string; ok: boolean }[];
      expect(steps.map((x) => `${x.type}:${x.ok}`)).toEqual(['notify:true', 'notify:true', 'http:true', 'exec:false']);
    } finally {
      delete process.env.TEST_NOTIFY_URL;
      await hook.stop();
      kit.close();
    }
  });

  it('records a bad alert in a good group as rejected and processes the rest', async () => {
    const kit = makeReceiver(live());
    try {
      const r = await kit.receiver.receive({ alerts: [alert(), { status: 'firing', labels: { alertname: 'X' } }] });
      expect([r.received, r.rejected]).toEqual([1, 1]);
      const rejected = [...kit.receiver.store.auditLog.iterate()].filter((e) => e.kind === 'alert_rejected');
      expect(rejected[0].detail).toMatchObject({ index: 1, reason: 'startsAt is missing' });
      expect(await kit.metric('remediation_alerts_rejected_total')).toBe(1);
      expect(await kit.metric('remediation_alerts_received_total')).toBe(2);
      await kit.receiver.idle();
    } finally {
      kit.close();
    }
  });
});
