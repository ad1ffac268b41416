/**
 * A stand-in for Prometheus' query API as the receiver's analysis reads it: range queries answer
 * a value and a score per step for service `checkout`, signal `latency` (0.5 × level before
 * `changeAtS`, 2 × level after), `anomaly_signal_info` gives the unit `seconds`, instant queries
 * answer an empty vector. `delayMs` holds each answer (for queue tests); every query is counted.
 */
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

export interface FakeRangePrometheus {
  url: string;
  level: number;
  delayMs: number;
  queries: number;
  stop(): Promise<void>;
}

export async function startFakeRangePrometheus(changeAtS: number): Promise<FakeRangePrometheus> {
  const server: Server = createServer();
  const fake: FakeRangePrometheus = {
    url: '',
    level: 1,
    delayMs: 0,
    queries: 0,
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  server.on('request', (req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      fake.queries++;
      const q = new URLSearchParams(req.url?.split('?')[1] ?? body);
      const query = q.get('query') ?? '';
      const [start, end, step] = ['start', 'end', 'step'].map((k) => Number(q.get(k)));
      const answer = () => {
        res.setHeader('Content-Type', 'application/json');
        if (!(step > 0)) return void res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
        const values: [number, string][] = [];
        for (let t = start; t <= end; t += step) values.push([t, String(fake.level * (t > changeAtS ? 2 : 0.5))]);
        const result = query.includes('anomaly_signal_info')
          ? [{ metric: { signal: 'latency', unit: 'seconds' }, values }]
          : query.includes('anomaly_incident_info')
            ? []
            : [{ metric: { service: 'checkout', signal: 'latency' }, values }];
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } }));
      };
      if (fake.delayMs > 0) setTimeout(answer, fake.delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
