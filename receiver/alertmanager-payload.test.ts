import { parseWebhookPayload, PayloadError } from './alertmanager-payload';

const alert = (over: Record<string, unknown> = {}) => ({
  status: 'firing',
  labels: { alertname: 'AnomalousSignal', service: 'checkout', signal: 'latency', severity: 'warning' },
  annotations: { summary: 's', score: '2.50' },
  startsAt: '2026-11-23T10:00:00.123Z',
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: 'http://prom/graph',
  fingerprint: 'A1B2c3d4e5f60718',
  ...over,
});

describe('parseWebhookPayload', () => {
  it('reads a version 4 payload and ignores fields it does not know', () => {
    const p = parseWebhookPayload({
      version: '4',
      groupKey: '{}:{alertname="x"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'remediation',
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      externalURL: 'http://am',
      alerts: [alert({ someFutureField: 1 })],
      anotherNewField: true,
    });
    expect(p.rejected).toEqual([]);
    expect(p.alerts[0]).toMatchObject({
      status: 'firing',
      fingerprint: 'a1b2c3d4e5f60718',
      startsAtMs: Date.parse('2026-11-23T10:00:00.123Z'),
      labels: { service: 'checkout' },
    });
    expect(p).toMatchObject({ version: '4', receiver: 'remediation', externalURL: 'http://am' });
  });

  it('rejects a bad alert with its reason and keeps the rest of the group', () => {
    const p = parseWebhookPayload({
      alerts: [
        alert(),
        alert({ status: 'pending' }),
        alert({ fingerprint: 'not hex!' }),
        alert({ startsAt: 'yesterday' }),
        alert({ labels: { service: 'x' } }),
        alert({ labels: { alertname: 'A', n: 5 } }),
        'nope',
        alert({ status: 'resolved' }),
      ],
    });
    expect(p.alerts.map((a) => a.status)).toEqual(['firing', 'resolved']);
    expect(p.rejected.map((r) => [r.index, r.reason])).toEqual([
      [1, 'status "pending" is neither "firing" nor "resolved"'],
      [2, 'fingerprint is missing or not hexadecimal'],
      [3, 'startsAt "yesterday" is not a timestamp'],
      [4, 'labels.alertname is missing'],
      [5, 'labels.n is not a string'],
      [6, 'alert is not an object'],
    ]);
  });

  it('refuses a request that is unusable as a whole', () => {
    expect(() => parseWebhookPayload([1, 2])).toThrow(PayloadError);
    expect(() => parseWebhookPayload({ version: '4' })).toThrow('"alerts" is missing or not an array');
    expect(() => parseWebhookPayload({ alerts: [], version: 4 })).toThrow('"version" is not a string');
  });

  it('keeps hostile label values as data', () => {
    const hostile = '$(rm -rf /); `id` && echo "x"\n\u0000 ✓';
    const p = parseWebhookPayload({ alerts: [alert({ labels: { alertname: 'A', service: hostile } })] });
    expect(p.alerts[0].labels.service).toBe(hostile);
  });
});
