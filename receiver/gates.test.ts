/**
 * Every gate: a case it allows, a case it refuses, the reason in the audit log and the refusal
 * counted in remediation_gate_refusals_total. Through the whole receiver (intake, store, metrics).
 */
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { firingOnlyGate } from './gates/firing-only-gate';
import { onePerEpisodeGate } from './gates/one-per-episode-gate';
import { WebhookAlert } from './alertmanager-payload';
import { EpisodeRow } from './store/receiver-store';
import { parseReceiverConfig } from './receiver-config';
import { alert, Kit, makeReceiver, payload, startTarget, T0 } from '../test/doubles/receiver-test-kit';

type Target = Awaited<ReturnType<typeof startTarget>>;
let target: Target;
let slow: Target;
let prom: { server: Server; url: string; value: string | null };

beforeAll(async () => {
  target = await startTarget();
  slow = await startTarget(400);
  // Answers instant queries with `prom.value` (null: an empty vector); stands in for Prometheus so
  // the confirmation gate's logic can be driven row by row (the end-to-end test uses the real one).
  prom = { server: createServer(), url: '', value: '2.5' };
  prom.server.on('request', (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        status: 'success',
        data: { resultType: 'vector', result: prom.value === null ? [] : [{ metric: {}, value: [T0 / 1000, prom.value] }] },
      }),
    );
  });
  await new Promise<void>((r) => prom.server.listen(0, '127.0.0.1', r));
  prom.url = `http://127.0.0.1:${(prom.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await target.stop();
  await slow.stop();
  prom.server.close();
});

function runbookYaml(extra = '', host = target.host): string {
  return `mode: live
http_allowlist: [${host}]
prometheus: {url: ${prom.url}}
runbooks:
  - name: restart
    match: ['alertname="AnomalousSignal"']
    label_allowlist: {service: [checkout, catalog, search]}
    cooldown: 10m
${extra}
    steps:
      - {type: http, url: 'http://${host}/admin/restart?service={{ labels.service }}'}
`;
}

async function send(kit: Kit, ...alerts: ReturnType<typeof alert>[]) {
  const r = await kit.receiver.receive(payload(...alerts));
  kit.receiver.startActions(r.actions);
  await kit.receiver.idle();
  return r;
}

interface Row {
  gate: string;
  config: string;
  /** Alerts sent before the probe (they may act). */
  before?: () => ReturnType<typeof alert>[];
  allowed: ReturnType<typeof alert>;
  refused: ReturnType<typeof alert>;
  reason: RegExp;
  setup?: (kit: Kit, phase: 'allowed' | 'refused') => void;
  host?: () => string;
}

const rows: Row[] = [
  {
    gate: 'severity',
    config: '',
    allowed: alert(),
    refused: alert({ labels: { severity: 'info' } }),
    reason: /severity "info" is not in the runbook's severities \(warning, critical\)/,
  },
  {
    gate: 'label_allowlist',
    config: '',
    allowed: alert(),
    refused: alert({ labels: { service: 'payments' } }),
    reason: /label service="payments" is not in the allowlist/,
  },
  {
    gate: 'maintenance',
    config: '',
    allowed: alert({ labels: { service: 'catalog' } }),
    refused: alert(),
    reason: /in maintenance window .*: database upgrade/,
  },
  {
    gate: 'cooldown',
    config: '',
    before: () => [alert()],
    allowed: alert({ labels: { service: 'catalog' } }),
    refused: alert(),
    reason: /runbook restart acted on checkout 0 s ago; cooldown is 600 s/,
  },
  {
    gate: 'rate_limit',
    config: '    rate_limit: {max: 1, per: 1h}\n',
    allowed: alert(),
    refused: alert({ labels: { service: 'catalog' } }),
    reason: /runbook restart ran 1 actions in the last 3600 s; the limit is 1/,
  },
  {
    gate: 'global_rate_limit',
    config: '',
    allowed: alert(),
    refused: alert({ labels: { service: 'catalog' } }),
    reason: /1 actions in the last 3600 s across runbooks; the global limit is 1/,
  },
  {
    gate: 'blast_radius',
    config: '    max_targets: {max: 2, per: 1h}\n',
    before: () => [alert({ labels: { service: 'checkout' } })],
    allowed: alert({ labels: { service: 'catalog' } }),
    refused: alert({ labels: { service: 'search' } }),
    reason: /already acted on 2 targets \(.*\) in the last 3600 s; the cap is 2/,
  },
  {
    gate: 'confirmation',
    config: '    confirm: {min_score: 1}\n',
    allowed: alert(),
    refused: alert({ labels: { service: 'catalog' } }),
    reason: /score 0\.40 is not above 1 now \(max\(max_over_time\(anomaly_score\{model="ensemble",service="catalog",signal="latency"\}\[10m\]\)\)\)/,
    setup: (_kit, phase) => {
      prom.value = phase === 'allowed' ? '2.5' : '0.4';
    },
  },
];

describe('gates', () => {
  it.each(rows.map((r) => [r.gate, r] as const))('%s: allows one, refuses one with its reason in the audit log, counts it', async (_name, row) => {
    let cfg = runbookYaml(row.config, row.host?.());
    if (row.gate === 'global_rate_limit') cfg = `limits: {global_rate: {max: 1, per: 1h}}\n${cfg}`;
    if (row.gate === 'maintenance')
      cfg = `maintenance: [{match: ['service="checkout"'], start: "2026-11-23T09:00:00Z", end: "2026-11-23T12:00:00Z", reason: database upgrade}]\n${cfg}`;
    const kit = makeReceiver(cfg);
    try {
      for (const a of row.before?.() ?? []) await send(kit, a);
      row.setup?.(kit, 'allowed');
      const ok = await send(kit, row.allowed);
      expect(ok.decisions[0]).toMatchObject({ decision: 'executed', gate: null });
      row.setup?.(kit, 'refused');
      const no = await send(kit, row.refused);
      expect(no.decisions[0]).toMatchObject({ decision: 'refused', gate: row.gate });
      expect(no.decisions[0].reason).toMatch(row.reason);
      const audit = [...kit.receiver.store.auditLog.iterate()].filter((e) => e.kind === 'decision' && e.detail.gate === row.gate);
      expect(audit).toHaveLength(1);
      expect(String(audit[0].detail.reason)).toMatch(row.reason);
      expect(await kit.metric('remediation_gate_refusals_total', { gate: row.gate })).toBe(1);
      expect(await kit.metric('remediation_decisions_total', { runbook: 'restart', decision: 'refused' })).toBe(1);
    } finally {
      kit.close();
    }
  });

  it('confirmation by anomalous signals: allows at the minimum, refuses below it', async () => {
    const kit = makeReceiver(runbookYaml('    confirm: {check_score: false, min_anomalous_signals: 2}\n'));
    try {
      prom.value = '2';
      expect((await send(kit, alert())).decisions[0].decision).toBe('executed');
      prom.value = '1';
      const no = await send(kit, alert({ labels: { service: 'catalog' } }));
      expect(no.decisions[0]).toMatchObject({ decision: 'refused', gate: 'confirmation', reason: '1 anomalous signals for catalog now; at least 2 required' });
      prom.value = null; // no series at all: 0
      expect((await send(kit, alert({ labels: { service: 'search' } }))).decisions[0].reason).toBe('0 anomalous signals for search now; at least 2 required');
    } finally {
      prom.value = '2.5';
      kit.close();
    }
  });

  it('concurrency: allows up to the cap, refuses while the cap is running', async () => {
    const kit = makeReceiver(`limits: {max_concurrent_actions: 1}\n${runbookYaml('', slow.host)}`);
    try {
      const first = await kit.receiver.receive(payload(alert()));
      kit.receiver.startActions(first.actions);
      expect(first.decisions[0].decision).toBe('executed');
      const second = await kit.receiver.receive(payload(alert({ labels: { service: 'catalog' } })));
      expect(second.decisions[0]).toMatchObject({ decision: 'refused', gate: 'concurrency', reason: '1 actions are running; the cap is 1' });
      await kit.receiver.idle();
      const third = await send(kit, alert({ labels: { service: 'search' } }));
      expect(third.decisions[0].decision).toBe('executed');
      expect(await kit.metric('remediation_gate_refusals_total', { gate: 'concurrency' })).toBe(1);
    } finally {
      kit.close();
    }
  });

  it('concurrency holds across a config reload: an action started before it counts against the new cap', async () => {
    const kit = makeReceiver(`limits: {max_concurrent_actions: 1}\n${runbookYaml('', slow.host)}`);
    try {
      const first = await kit.receiver.receive(payload(alert()));
      kit.receiver.startActions(first.actions);
      expect(first.decisions[0].decision).toBe('executed');
      // The same file reloaded while the action runs, then one with cap 2.
      kit.receiver.reconfigure(kit.config);
      const second = await kit.receiver.receive(payload(alert({ labels: { service: 'catalog' } })));
      expect(second.decisions[0]).toMatchObject({ decision: 'refused', gate: 'concurrency' });
      kit.receiver.reconfigure(
        parseReceiverConfig(`store: {path: x.db}\nauth: {type: none}\nlimits: {max_concurrent_actions: 2}\n${runbookYaml('', slow.host)}`, 't.yml'),
      );
      const third = await kit.receiver.receive(payload(alert({ labels: { service: 'search' } })));
      kit.receiver.startActions(third.actions);
      expect(third.decisions[0].decision).toBe('executed');
      const fourth = await kit.receiver.receive(payload(alert({ labels: { service: 'catalog', signal: 'errors' } })));
      expect(fourth.decisions[0]).toMatchObject({ decision: 'refused', gate: 'concurrency', reason: '2 actions are running; the cap is 2' });
      await kit.receiver.idle();
    } finally {
      kit.close();
    }
  });

  it('firing_only and one_per_episode hold on their own (intake never hands them such a case)', () => {
    const kit = makeReceiver(runbookYaml());
    try {
      const ctx = { episode: { id: 1 } as unknown as EpisodeRow, runbook: kit.config.runbooks[0], target: 'checkout', nowMs: T0 };
      expect(firingOnlyGate.check({ ...ctx, alert: { ...alert(), status: 'resolved', startsAtMs: T0 } as WebhookAlert })).toEqual({
        allow: false,
        reason: 'alert is resolved, only firing alerts act',
      });
      expect(firingOnlyGate.check({ ...ctx, alert: { ...alert(), startsAtMs: T0 } as WebhookAlert })).toEqual({ allow: true });
      const gate = onePerEpisodeGate(kit.receiver.store);
      const e = kit.receiver.store.episodes.insert({
        fingerprint: 'ab',
        startsAt: 's',
        startsAtMs: T0,
        alertname: 'A',
        labels: {},
        annotations: {},
        status: 'firing',
        openedAtMs: T0,
      });
      expect(gate.check({ ...ctx, episode: e, alert: {} as WebhookAlert })).toEqual({ allow: true });
      kit.receiver.store.actions.start({ episodeId: e.id, runbook: 'restart', target: 'checkout', atMs: T0 });
      expect(gate.check({ ...ctx, episode: e, alert: {} as WebhookAlert })).toEqual({ allow: false, reason: `episode ${e.id} already had its action` });
    } finally {
      kit.close();
    }
  });

  it('dry_run (the default) decides and records, and never acts', async () => {
    const kit = makeReceiver(runbookYaml().replace('mode: live\n', ''));
    try {
      const before = target.requests.length;
      const r = await send(kit, alert());
      expect(r.decisions[0]).toMatchObject({ decision: 'dry_run', reason: 'dry run: would run runbook restart on checkout' });
      expect(r.actions).toEqual([]);
      expect(target.requests.length).toBe(before);
      expect(await kit.metric('remediation_decisions_total', { runbook: 'restart', decision: 'dry_run' })).toBe(1);
    } finally {
      kit.close();
    }
  });
});
