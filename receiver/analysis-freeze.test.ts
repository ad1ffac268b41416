/**
 * One story per incident: "resolved at" is the alert's endsAt (not the notification's arrival),
 * and a resolved episode's analysis is fixed once its window has passed, so two page loads never
 * differ even when Prometheus' answers change.
 */
import { alert, makeReceiver, payload, T0 } from '../test/doubles/receiver-test-kit';
import { resolveInstant } from './intake';
import { FakeRangePrometheus, startFakeRangePrometheus } from '../test/doubles/fake-range-prometheus';

let prom: FakeRangePrometheus;

beforeAll(async () => {
  prom = await startFakeRangePrometheus(T0 / 1000);
});

afterAll(() => prom.stop());

describe('resolveInstant', () => {
  const a = { status: 'resolved' as const, labels: { alertname: 'A' }, annotations: {}, startsAt: '', startsAtMs: T0, fingerprint: '1' };
  it('is the endsAt Prometheus gave, when it lies between startsAt and arrival', () => {
    expect(resolveInstant({ ...a, endsAt: new Date(T0 + 30_000).toISOString() }, T0 + 90_000)).toBe(T0 + 30_000);
  });
  it('falls back to the arrival for a missing, future or pre-start endsAt', () => {
    expect(resolveInstant({ ...a, endsAt: undefined }, T0 + 90_000)).toBe(T0 + 90_000);
    expect(resolveInstant({ ...a, endsAt: new Date(T0 + 600_000).toISOString() }, T0 + 90_000)).toBe(T0 + 90_000);
    expect(resolveInstant({ ...a, endsAt: new Date(T0 - 1000).toISOString() }, T0 + 90_000)).toBe(T0 + 90_000);
    expect(resolveInstant({ ...a, endsAt: 'not a time' }, T0 + 90_000)).toBe(T0 + 90_000);
  });
});

describe("a resolved episode's analysis", () => {
  it('records the endsAt as resolved_at and time_to_resolve, and stays the same once its window has passed', async () => {
    const kit = makeReceiver(`prometheus: {url: ${prom.url}}\n`);
    try {
      const firing = alert({ labels: { service: 'checkout' } });
      kit.now.ms = T0 + 20_000;
      await kit.receiver.receive(payload(firing));
      // Resolved 30 s after start; the notification arrives 60 s later (group_interval).
      kit.now.ms = T0 + 90_000;
      const r = await kit.receiver.receive(payload({ ...firing, status: 'resolved', endsAt: new Date(T0 + 30_000).toISOString() }));
      expect(r.resolved[0].seconds).toBe(30);
      const id = r.resolved[0].episodeId;
      expect(kit.receiver.store.episodes.get(id)!.resolvedAtMs).toBe(T0 + 30_000);

      // Within the window's tail: computed afresh, not stored.
      const early = (await kit.receiver.analysis(id))!;
      expect(early.signals[0].unit).toBe('seconds');
      expect(kit.receiver.store.episodes.frozenAnalysis(id)).toBeUndefined();

      // Past resolve + 2 min + 30 s: computed once more over the fixed window, then stored.
      kit.now.ms = T0 + 30_000 + 150_001;
      const first = (await kit.receiver.analysis(id))!;
      expect(first.window.to).toBe(new Date(T0 + 30_000 + 120_000).toISOString());
      const queries = prom.queries;
      prom.level = 5; // Prometheus now answers differently (a backfill, a recording rule change)
      kit.now.ms += 3_600_000;
      const second = (await kit.receiver.analysis(id))!;
      expect(second).toEqual(first);
      expect(prom.queries).toBe(queries);
    } finally {
      prom.level = 1;
      kit.close();
    }
  });
});
