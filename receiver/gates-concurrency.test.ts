/**
 * The safety limits hold across the alerts of one request, across concurrent requests and across
 * approvals: every ledger gate (cooldown, rate limits, blast radius, one per episode) is counted
 * again in the transaction that records the action (DecisionEngine.recheck).
 */
import fc from 'fast-check';
import { alert, Kit, makeReceiver, payload, startTarget, T0 } from '../test/doubles/receiver-test-kit';

type Target = Awaited<ReturnType<typeof startTarget>>;
let target: Target;
beforeAll(async () => {
  target = await startTarget();
});
afterAll(() => target.stop());

const runbook = (mode: string, limits: string) => `mode: ${mode}
http_allowlist: [${target.host}]
runbooks:
  - name: restart
    match: ['alertname="AnomalousSignal"']
${limits}
    steps:
      - {type: http, url: 'http://${target.host}/admin/restart?service={{ labels.service }}'}
`;

/** Every action the store recorded, oldest first. */
function actions(kit: Kit): { target: string; atMs: number; episodeId: number }[] {
  return kit.receiver.store.episodes
    .list()
    .flatMap((e) => kit.receiver.store.actions.of(e.id).map((a) => ({ target: e.labels.service, atMs: a.startedAtMs, episodeId: e.id })))
    .sort((a, b) => a.atMs - b.atMs);
}

async function receiveAndRun(kit: Kit, body: ReturnType<typeof payload>): Promise<void> {
  const r = await kit.receiver.receive(body);
  kit.receiver.startActions(r.actions);
}

/** What `group_by: [alertname, service]` can deliver at once: two alerts on checkout, one on catalog. */
const groupOfThree = () =>
  payload(
    alert({ labels: { service: 'checkout', signal: 'latency' } }),
    alert({ labels: { service: 'checkout', signal: 'errors' } }),
    alert({ labels: { service: 'catalog', signal: 'latency' } }),
  );

describe('safety limits under concurrency', () => {
  it('one Alertmanager group of three alerts (two on checkout) runs one action with cooldown 10m and rate limit 1/h', async () => {
    const kit = makeReceiver(runbook('live', '    cooldown: 10m\n    rate_limit: {max: 1, per: 1h}'));
    try {
      await receiveAndRun(kit, groupOfThree());
      await kit.receiver.idle();
      expect(actions(kit)).toHaveLength(1);
      const decisions = kit.receiver.store.episodes.list().flatMap((e) => kit.receiver.store.episodes.decisionsOf(e.id));
      expect(decisions.map((d) => d.decision).sort()).toEqual(['executed', 'refused', 'refused']);
      expect(decisions.filter((d) => d.decision === 'refused').map((d) => d.gate)).toEqual(expect.arrayContaining(['rate_limit']));
    } finally {
      kit.close();
    }
  });

  it('cooldown alone: two alerts of one target in one group act once; another target acts', async () => {
    const kit = makeReceiver(runbook('live', '    cooldown: 10m'));
    try {
      await receiveAndRun(kit, groupOfThree());
      await kit.receiver.idle();
      expect(
        actions(kit)
          .map((a) => a.target)
          .sort(),
      ).toEqual(['catalog', 'checkout']);
    } finally {
      kit.close();
    }
  });

  it('parallel approvals run at most what the gates allow, and one approval clicked twice runs once', async () => {
    const kit = makeReceiver(runbook('approval', '    cooldown: 10m\n    max_targets: {max: 2, per: 1h}'));
    try {
      // Five episodes on three services, each waiting for approval.
      const services = ['checkout', 'checkout', 'catalog', 'search', 'search'];
      await kit.receiver.receive(payload(...services.map((s, i) => alert({ labels: { service: s, signal: `s${i}` } }))));
      const pending = kit.receiver.store.approvals.list('pending');
      expect(pending).toHaveLength(5);
      const ids = [...pending.map((a) => a.id), pending[0].id, pending[0].id];
      const results = await Promise.allSettled(ids.map((id) => kit.receiver.decideApproval(id, 'approve', 'alice')));
      await kit.receiver.idle();
      const done = actions(kit);
      // Cooldown: one action per service; blast radius: two services at most.
      expect(done.length).toBeLessThanOrEqual(2);
      expect(new Set(done.map((a) => a.target)).size).toBe(done.length);
      expect(done.length).toBe(2);
      // The same approval clicked three times: decided once, the other clicks answered 409.
      const conflicts = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as { status?: number });
      expect(conflicts).toHaveLength(2);
      for (const c of conflicts) expect(c.status).toBe(409);
    } finally {
      kit.close();
    }
  });

  it('no interleaving of webhooks and approvals passes a limit (property)', async () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('webhook' as const),
        services: fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 4 }),
      }),
      fc.record({ kind: fc.constant('approve' as const), pick: fc.nat(20) }),
      fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 900 }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          mode: fc.constantFrom('live', 'approval'),
          cooldownS: fc.constantFrom(0, 60, 600),
          rate: fc.integer({ min: 1, max: 3 }),
          targets: fc.integer({ min: 1, max: 3 }),
          // Operations in batches: each batch runs concurrently.
          batches: fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 }),
        }),
        async ({ mode, cooldownS, rate, targets, batches }) => {
          const limits = `    cooldown: ${cooldownS}s\n    rate_limit: {max: ${rate}, per: 30m}\n    max_targets: {max: ${targets}, per: 30m}`;
          const kit = makeReceiver(runbook(mode, limits));
          try {
            let n = 0;
            for (const batch of batches) {
              await Promise.allSettled(
                batch.map(async (o) => {
                  if (o.kind === 'advance') kit.now.ms += o.seconds * 1000;
                  else if (o.kind === 'webhook')
                    await receiveAndRun(
                      kit,
                      payload(...o.services.map((s) => alert({ labels: { service: s, signal: `x${n++}` }, startsAt: new Date(T0).toISOString() }))),
                    );
                  else {
                    const pending = kit.receiver.store.approvals.list('pending');
                    if (pending.length) await kit.receiver.decideApproval(pending[o.pick % pending.length].id, 'approve', 'bob');
                  }
                }),
              );
            }
            await kit.receiver.idle();
            const done = actions(kit);
            const windowMs = 30 * 60_000;
            for (const a of done) {
              const inWindow = done.filter((b) => b.atMs > a.atMs - windowMs && b.atMs <= a.atMs);
              expect(inWindow.length).toBeLessThanOrEqual(rate);
              expect(new Set(inWindow.map((b) => b.target)).size).toBeLessThanOrEqual(targets);
              const sameTarget = done.filter((b) => b !== a && b.target === a.target && b.atMs <= a.atMs && b.atMs > a.atMs - cooldownS * 1000);
              expect(sameTarget).toEqual([]);
            }
            expect(new Set(done.map((a) => a.episodeId)).size).toBe(done.length);
          } finally {
            kit.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
