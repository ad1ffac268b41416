import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { PrometheusClient } from './prometheus-client';

/** A local stand-in for Prometheus' API answering each path as `answers` says. */
let server: Server;
let url: string;
const answers: Record<string, { status: number; body: string }> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const q = new URLSearchParams(body).get('query') ?? '';
      const a = answers[q] ?? { status: 404, body: 'no such answer' };
      res.writeHead(a.status, { 'Content-Type': 'application/json' }).end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('receiver PrometheusClient (on the shared Prometheus HTTP client)', () => {
  it('reads vectors and scalars', async () => {
    answers.v = {
      status: 200,
      body: JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { a: '1' }, value: [1, '2.5'] }] } }),
    };
    answers.s = { status: 200, body: JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1, '7'] } }) };
    const p = new PrometheusClient(url, 2000);
    expect(await p.query('v')).toEqual([{ metric: { a: '1' }, value: 2.5 }]);
    expect(await p.query('s')).toEqual([{ metric: {}, value: 7 }]);
  });

  it('says why a query failed: refused PromQL, HTTP status, garbage, unreachable', async () => {
    answers.bad = { status: 400, body: JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error: unclosed left parenthesis' }) };
    answers.down = { status: 503, body: 'overloaded' };
    answers.junk = { status: 200, body: '<html>' };
    const p = new PrometheusClient(url, 2000);
    await expect(p.query('bad')).rejects.toThrow(/^bad_data: parse error: unclosed left parenthesis$/);
    await expect(p.query('down')).rejects.toThrow(`HTTP 503 from ${url}: overloaded`);
    await expect(p.query('junk')).rejects.toThrow('Prometheus answered with no JSON');
    await expect(new PrometheusClient('http://127.0.0.1:1', 2000).query('v')).rejects.toThrow(/^ECONNREFUSED: /);
  });
});
