/**
 * A query_range source that can answer more than any reader should hold: `seriesFor(query)`
 * series over whatever range and step is asked, each value 1 + (t mod 7) / 10, written only as
 * fast as the reader takes them (backpressure), so what it wrote before the reader hung up says
 * how much the reader read. Every request is counted with the bytes written for it.
 */
import http, { Server } from 'node:http';
import { freePort } from '../stack';

export interface EndlessSource {
  url: string;
  /** Bytes written over all answers, and requests answered. */
  written: number;
  requests: number;
  stop(): Promise<void>;
}

export async function startEndlessSource(seriesFor: (query: string) => number): Promise<EndlessSource> {
  const source: EndlessSource = { url: '', written: 0, requests: 0, stop: async () => {} };
  const server: Server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      source.requests++;
      const p = new URLSearchParams(body || req.url?.split('?')[1]);
      const [start, end, step] = ['start', 'end', 'step'].map((k) => Number(p.get(k)));
      const count = seriesFor(p.get('query') ?? '');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      let closed = false;
      res.on('close', () => (closed = true));
      const write = (s: string) => {
        source.written += s.length;
        return res.write(s);
      };
      write('{"status":"success","data":{"resultType":"matrix","result":[');
      let i = 0;
      const more = () => {
        while (!closed && i < count) {
          const values: string[] = [];
          for (let t = Math.ceil(start / step) * step; t <= end; t += step) values.push(`[${t},"${1 + (t % 7) / 10}"]`);
          if (!write(`${i ? ',' : ''}{"metric":{"service":"s${i++}"},"values":[${values.join(',')}]}`)) return void res.once('drain', more);
        }
        if (!closed) res.end(']}}');
      };
      more();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  source.url = `http://127.0.0.1:${port}`;
  source.stop = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return source;
}
