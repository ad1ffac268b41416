/**
 * A query_range source for tests: each known query answers, for services a and b, a function of
 * time (service b's values doubled) over whatever range and step is asked; an unknown query 0.
 */
import http, { Server } from 'node:http';
import { freePort } from '../stack';

export interface FunctionSource {
  url: string;
  stop(): Promise<void>;
}

export async function startFunctionSource(funcs: Record<string, (t: number) => number>): Promise<FunctionSource> {
  const server: Server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const p = new URLSearchParams(body);
      const f = funcs[p.get('query') ?? ''];
      const [start, end, step] = ['start', 'end', 'step'].map((k) => Number(p.get(k)));
      const result = ['a', 'b'].map((service, k) => {
        const values: [number, string][] = [];
        for (let t = Math.ceil(start / step) * step; t <= end; t += step) values.push([t, String((f ? f(t) : 0) * (1 + k))]);
        return { metric: { service }, values };
      });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } }));
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
