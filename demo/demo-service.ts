import http, { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import express from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { FaultBook, parseFaultRequest } from './faults';
import { normalFrom, seededRandom } from './seeded-random';

/**
 * An instrumented HTTP service that plays several services (the `service` label), with a built-in
 * open-loop load generator and a fault API, so the whole loop can be shown on one machine.
 * It imports nothing of the product, like any service the exporter watches.
 */
export interface DemoServiceOptions {
  listen: string;
  /** Requests per second per service; 0 disables the load generator. */
  ratePerService: number;
  logger?: { info: (msg: string, meta?: object) => unknown; warn: (msg: string, meta?: object) => unknown };
  /** Seed for the latency/error randomness (deterministic demos and tests). */
  seed?: number;
}

export interface DemoService {
  url: string;
  port: number;
  faults: FaultBook;
  stop(): Promise<void>;
}

interface ServiceProfile {
  name: string;
  routes: string[];
  /** Median latency in seconds; the spread is log-normal. */
  medianLatency: number;
  baseErrorRatio: number;
}

export const DEMO_SERVICES: ServiceProfile[] = [
  { name: 'checkout', routes: ['/cart', '/pay'], medianLatency: 0.02, baseErrorRatio: 0.002 },
  { name: 'catalog', routes: ['/items', '/search'], medianLatency: 0.01, baseErrorRatio: 0.001 },
];

export async function startDemoService(opts: DemoServiceOptions): Promise<DemoService> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client's nodejs_active_*_total are gauges named like counters; promtool rejects them.
  for (const name of registry.getMetricsAsArray().map((m) => m.name))
    if (name.endsWith('_total') && name.startsWith('nodejs_active_')) registry.removeSingleMetric(name);
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by service, route and status code.',
    labelNames: ['service', 'route', 'code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration, by service and route.',
    labelNames: ['service', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5],
    registers: [registry],
  });
  const faults = new FaultBook();
  const names = DEMO_SERVICES.map((s) => s.name);
  const random = seededRandom(opts.seed ?? 42);
  const normal = normalFrom(random);

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '16kb' }));

  app.get('/svc/:service/:route', (req, res) => {
    const profile = DEMO_SERVICES.find((s) => s.name === req.params.service);
    const route = `/${req.params.route}`;
    if (!profile || !profile.routes.includes(route)) {
      res.status(404).json({ error: 'no such service or route' });
      return;
    }
    const now = Date.now();
    const latency = profile.medianLatency * Math.exp(0.35 * normal()) + faults.magnitude(profile.name, 'latency', now);
    const errorRatio = Math.min(1, profile.baseErrorRatio + faults.magnitude(profile.name, 'errors', now));
    const end = duration.startTimer({ service: profile.name, route });
    setTimeout(() => {
      const code = random() < errorRatio ? 500 : 200;
      requests.inc({ service: profile.name, route, code: String(code) });
      end();
      res.status(code).json(code === 200 ? { ok: true } : { error: 'injected failure' });
    }, latency * 1000);
  });

  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', registry.contentType).send(await registry.metrics());
  });
  app.get('/faults', (_req, res) => {
    res.json({ faults: faults.active(Date.now()) });
  });
  app.post('/faults', (req, res) => {
    if (!req.is('application/json')) {
      res.status(415).json({
        error: `send the fault as JSON with the header Content-Type: application/json (got ${req.headers['content-type'] || 'no Content-Type'}), e.g. curl -H 'Content-Type: application/json' -d '{"service":"checkout","type":"latency","magnitude":0.3}'`,
      });
      return;
    }
    const f = parseFaultRequest(req.body, names, Date.now());
    if (typeof f === 'string') {
      res.status(400).json({ error: f });
      return;
    }
    faults.add(f);
    opts.logger?.info('fault injected', { ...f });
    res.status(201).json({ fault: f });
  });
  app.delete('/faults', (req, res) => {
    const service = typeof req.query.service === 'string' ? req.query.service : undefined;
    res.json({ cleared: faults.clear(service) });
  });
  app.post('/admin/restart', (req, res) => {
    const service =
      (req.body && typeof req.body.service === 'string' ? req.body.service : undefined) ??
      (typeof req.query.service === 'string' ? req.query.service : undefined);
    if (!service || !names.includes(service)) {
      res.status(400).json({ error: `service must be one of ${names.join(', ')}` });
      return;
    }
    // A restart fixes what is wrong inside the service, not a surge of callers.
    const cleared = faults.clear(service, { restart: true });
    opts.logger?.info('service restarted', { service, faults_cleared: cleared });
    res.json({ restarted: service, faults_cleared: cleared });
  });
  app.get('/', (_req, res) => {
    res.type('text/plain').send(`demo service: ${names.join(', ')}\nGET /metrics, GET|POST|DELETE /faults, POST /admin/restart\n`);
  });
  app.use((err: Error & { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(err.status && err.status < 500 ? err.status : 400).json({ error: err.message });
  });

  const i = opts.listen.lastIndexOf(':');
  const host = opts.listen.slice(0, i) || '127.0.0.1';
  // Not app.listen: express 5 calls its callback on errors too, so a port in use looked like a start.
  const server: Server = await new Promise((resolve, reject) => {
    const s = http.createServer(app);
    s.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`demo service cannot listen on ${opts.listen}: ${err.message}`)));
    s.listen(Number(opts.listen.slice(i + 1)), host, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const stopLoad = opts.ratePerService > 0 ? startLoad(url, opts.ratePerService, faults, random) : () => undefined;
  opts.logger?.info('demo service started', { url, services: names, rate_per_service: opts.ratePerService });
  return {
    url,
    port,
    faults,
    async stop() {
      stopLoad();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Open-loop load: requests leave on a fixed schedule whatever the latency (a slow service does
 * not slow the generator, so a latency fault does not also lower traffic). A `traffic_drop` fault
 * skips that share of a service's requests; a `traffic_surge` multiplies them.
 */
function startLoad(url: string, ratePerService: number, faults: FaultBook, random: () => number): () => void {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const tickMs = 50;
  const credit = new Map<string, number>(DEMO_SERVICES.map((s) => [s.name, 0]));
  let stopped = false;
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    // Credit for the time that passed, not for a tick: on a busy machine the timer fires late, and
    // a fixed credit per tick lowered the traffic whenever the CPU was short (a latency fault
    // then also looked like a traffic drop). At most a second's worth, so a stall is not one burst.
    const perTick = (ratePerService * Math.min(1000, Math.max(0, now - last))) / 1000;
    last = now;
    for (const s of DEMO_SERVICES) {
      let c = (credit.get(s.name) ?? 0) + perTick * Math.max(1, faults.magnitude(s.name, 'traffic_surge', now));
      const drop = faults.magnitude(s.name, 'traffic_drop', now);
      while (c >= 1) {
        c -= 1;
        if (drop > 0 && random() < drop) continue;
        const route = s.routes[Math.floor(random() * s.routes.length)];
        const req = http.get(`${url}/svc/${s.name}${route}`, { agent }, (res) => res.resume());
        req.on('error', () => undefined);
      }
      credit.set(s.name, c);
    }
  }, tickMs);
  timer.unref();
  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    agent.destroy();
  };
}
