/**
 * `--web.config.file` (exporter-toolkit's format) on the running daemons: a real Prometheus
 * scrapes the exporter over TLS with basic auth, wrong credentials and plain HTTP are refused;
 * users rotate on SIGHUP; probes answer without credentials; a bad file exits 2 naming the field;
 * the receiver requires a verified client certificate when told to.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { freePort, PrometheusProcess, scrapeJob, startPrometheus, waitFor } from './stack';
import { FunctionSource, startFunctionSource } from './doubles/function-source';
import { CliDaemon, killCli, requireBuiltCli, spawnCli } from './doubles/cli-daemon';

jest.setTimeout(120_000);

let dir: string;
let source: FunctionSource;

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCertificates(at: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: at, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test-ca');
  for (const [name, san] of [
    ['server', 'IP:127.0.0.1,DNS:localhost'],
    ['client', 'DNS:prometheus-client'],
  ]) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(join(at, `${name}.ext`), `subjectAltName=${san}\n`);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  }
}

interface Answer {
  status: number;
  body: string;
}

/** An HTTPS GET trusting the test CA, with optional basic credentials and client certificate. */
function get(url: string, opts: { user?: string; password?: string; clientCert?: boolean; agent?: https.Agent } = {}): Promise<Answer> {
  const read = (f: string) => readFileSync(join(dir, f));
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.user !== undefined) headers.authorization = `Basic ${Buffer.from(`${opts.user}:${opts.password}`).toString('base64')}`;
    const req = https.get(
      url,
      { ca: read('ca.crt'), headers, agent: opts.agent, ...(opts.clientCert ? { cert: read('client.crt'), key: read('client.key') } : {}) },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
  });
}

const hash = (password: string) => bcrypt.hashSync(password, 10);

function exporterConfig(listen: string): string {
  return `reader:
  url: ${source.url}
  timeout: 2s
  signals:
    latency: {query: latency_q}
scheduler: {step: 2s, infer_every: 2s, fit_window: 1h, fit_every: 1h}
server: {listen: "${listen}"}
`;
}

beforeAll(async () => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'ae-webcfg-'));
  makeCertificates(dir);
  writeFileSync(join(dir, 'garbage.crt'), 'not a certificate\n');
  writeFileSync(join(dir, 'garbage.key'), '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n');
  source = await startFunctionSource({ latency_q: (t) => 0.2 + 0.05 * Math.sin(t / 600) });
});

afterAll(async () => {
  await source?.stop();
});

describe('exporter behind --web.config.file', () => {
  let d: CliDaemon;
  let prom: PrometheusProcess;
  let port: number;
  const webFile = () => join(dir, 'web.yml');

  beforeAll(async () => {
    port = await freePort();
    const file = join(dir, 'exporter.yml');
    writeFileSync(file, exporterConfig(`127.0.0.1:${port}`));
    // Relative paths: relative to the web config file, as exporter-toolkit reads them.
    writeFileSync(webFile(), `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prom: '${hash('s3cret')}'\n`);
    d = spawnCli(['run', '--config', file, '--web.config.file', webFile()], `https://127.0.0.1:${port}`);
    await waitFor('the exporter over TLS', async () => (await get(`${d.url}/healthz`).catch(() => undefined))?.status === 200, 20_000, 100);
    const tls = `    scheme: https\n    tls_config: {ca_file: ${join(dir, 'ca.crt')}}\n`;
    prom = await startPrometheus({
      scrapeConfigs:
        scrapeJob('good', `127.0.0.1:${port}`, `${tls}    basic_auth: {username: prom, password: s3cret}\n`) +
        scrapeJob('wrong', `127.0.0.1:${port}`, `${tls}    basic_auth: {username: prom, password: guess}\n`) +
        scrapeJob('plain', `127.0.0.1:${port}`, `    basic_auth: {username: prom, password: s3cret}\n`),
    });
  });

  afterAll(async () => {
    await prom?.stop();
    if (d) await killCli(d);
  });

  it('a real Prometheus scrapes it over TLS with basic auth; a wrong password and plain HTTP are refused', async () => {
    const up = async (job: string) => (await prom.query(`up{job="${job}"}`))[0]?.value[1];
    await waitFor('the good job up', async () => (await up('good')) === '1', 20_000);
    await waitFor('the other jobs scraped', async () => (await up('wrong')) === '0' && (await up('plain')) === '0', 20_000);
    const targets = (await (await fetch(`${prom.url}/api/v1/targets`)).json()) as {
      data: { activeTargets: { labels: { job: string }; lastError: string }[] };
    };
    const lastError = (job: string) => targets.data.activeTargets.find((t) => t.labels.job === job)?.lastError ?? '';
    expect(lastError('wrong')).toContain('401');
    expect(lastError('plain')).toMatch(/400|malformed|EOF|reset/i);
    // What it scraped is the exporter's own exposition.
    expect(await prom.query('anomaly_exporter_build_info{job="good"}')).toHaveLength(1);
  });

  it('probes answer without credentials; everything else asks for them', async () => {
    expect((await get(`${d.url}/healthz`)).status).toBe(200);
    expect([200, 503]).toContain((await get(`${d.url}/readyz`)).status);
    const bare = await get(`${d.url}/metrics`);
    expect(bare.status).toBe(401);
    expect((await get(`${d.url}/`, { user: 'prom', password: 'nope' })).status).toBe(401);
    expect((await get(`${d.url}/metrics`, { user: 'nobody', password: 's3cret' })).status).toBe(401);
    const ok = await get(`${d.url}/metrics`, { user: 'prom', password: 's3cret' });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('anomaly_exporter_build_info');
  });

  it('80 wrong passwords in parallel hold neither /healthz (under 100 ms) nor the right password', async () => {
    // Remember the right password once; open the 80 connections first, so that what is measured
    // is the password checks, not 80 TLS handshakes at once.
    expect((await get(`${d.url}/metrics`, { user: 'prom', password: 's3cret' })).status).toBe(200);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 80, ca: readFileSync(join(dir, 'ca.crt')) });
    await Promise.all(Array.from({ length: 80 }, () => get(`${d.url}/healthz`, { agent })));
    const started = Date.now();
    const wrong = Array.from({ length: 80 }, (_, i) => get(`${d.url}/metrics`, { user: 'prom', password: `guess-${i}`, agent }));
    const healthz: number[] = [];
    const scrapes: number[] = [];
    let settled = false;
    void Promise.allSettled(wrong).then(() => (settled = true));
    while (!settled && Date.now() - started < 20_000) {
      const t0 = performance.now();
      expect((await get(`${d.url}/healthz`)).status).toBe(200);
      healthz.push(performance.now() - t0);
      const t1 = performance.now();
      expect((await get(`${d.url}/metrics`, { user: 'prom', password: 's3cret' })).status).toBe(200);
      scrapes.push(performance.now() - t1);
    }
    const answers = await Promise.all(wrong);
    agent.destroy();
    // Each guess is refused: 401 once checked, 429 when too many checks already wait.
    expect(answers.every((a) => a.status === 401 || a.status === 429)).toBe(true);
    expect(answers.filter((a) => a.status === 401).length).toBeGreaterThan(0);
    expect(healthz.length).toBeGreaterThan(2);
    expect(Math.max(...healthz)).toBeLessThan(100);
    expect(Math.max(...scrapes)).toBeLessThan(250);
  });

  it('its 401 carries the security headers (no framing, no sniffing, a CSP)', async () => {
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) =>
      https.get(`${d.url}/metrics`, { ca: readFileSync(join(dir, 'ca.crt')) }, resolve).on('error', reject),
    );
    res.resume();
    expect(res.statusCode).toBe(401);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('SIGHUP re-reads the web config: a rotated user works on the next request, the old one is refused', async () => {
    writeFileSync(webFile(), `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  grafana: '${hash('n3w')}'\n`);
    d.child.kill('SIGHUP');
    await waitFor('the new user', async () => (await get(`${d.url}/metrics`, { user: 'grafana', password: 'n3w' })).status === 200, 10_000, 100);
    expect((await get(`${d.url}/metrics`, { user: 'prom', password: 's3cret' })).status).toBe(401);
    // A bad web config on reload keeps the running one.
    writeFileSync(webFile(), `basic_auth_users:\n  grafana: plain-text\n`);
    d.child.kill('SIGHUP');
    await waitFor(
      'the failed reload',
      async () => d.logs.some((l) => l.includes('config reload failed') && l.includes('basic_auth_users.grafana')),
      10_000,
      100,
    );
    expect((await get(`${d.url}/metrics`, { user: 'grafana', password: 'n3w' })).status).toBe(200);
  });
});

describe('bad web config files', () => {
  it.each([
    ['a plain-text password', `basic_auth_users:\n  prom: s3cret\n`, 'basic_auth_users.prom: expected a bcrypt hash'],
    ['an unknown key', `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cert_fil: x\n`, 'tls_server_config.cert_fil: unknown key'],
    [
      'a missing key file',
      `tls_server_config:\n  cert_file: server.crt\n  key_file: missing.key\n`,
      'tls_server_config.key_file: cannot read missing.key: ENOENT',
    ],
    [
      'client verification without a CA',
      `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n`,
      'tls_server_config.client_ca_file: is required',
    ],
    [
      'a key that does not match the certificate',
      `tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n`,
      'tls_server_config.key_file: does not match the certificate in cert_file',
    ],
    [
      'a garbage certificate',
      `tls_server_config:\n  cert_file: garbage.crt\n  key_file: server.key\n`,
      'tls_server_config.cert_file: is not a PEM certificate',
    ],
    [
      'a garbage key',
      `tls_server_config:\n  cert_file: server.crt\n  key_file: garbage.key\n`,
      'tls_server_config.key_file: is not an unencrypted PEM private key',
    ],
  ])('%s: exits 2 naming the file and the field', async (_what, text, expected) => {
    const file = join(dir, `bad-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(file, text);
    const config = join(dir, 'exporter-bad.yml');
    writeFileSync(config, exporterConfig(`127.0.0.1:${await freePort()}`));
    const d = spawnCli(['run', '--config', config, '--web.config.file', file], '');
    expect(await d.exited).toBe(2);
    expect(d.logs.join('\n')).toContain(`${file}: ${expected}`);
    const c = spawnCli(['check', '--config', config, '--web.config.file', file], '');
    expect(await c.exited).toBe(2);
    expect(c.logs.join('\n')).toContain(`${file}: ${expected}`);
  });
});

describe('receiver behind --web.config.file with client certificates', () => {
  it('RequireAndVerifyClientCert: a client without a certificate gets no answer; one with a CA-signed certificate does', async () => {
    const port = await freePort();
    const config = join(dir, 'receiver.yml');
    writeFileSync(config, `listen: 127.0.0.1:${port}\nauth: {type: none}\nstore: {path: ${join(dir, 'receiver.db')}}\nrunbooks: []\n`);
    const web = join(dir, 'receiver-web.yml');
    writeFileSync(
      web,
      `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  client_allowed_sans: [prometheus-client]\n`,
    );
    const d = spawnCli(['receiver', '--config', config, '--web.config.file', web], `https://127.0.0.1:${port}`);
    try {
      await waitFor(
        'the receiver over mutual TLS',
        async () => (await get(`${d.url}/healthz`, { clientCert: true }).catch(() => undefined))?.status === 200,
        20_000,
        100,
      );
      await expect(get(`${d.url}/healthz`)).rejects.toThrow();
      expect((await get(`${d.url}/api/v1/episodes`, { clientCert: true })).status).toBe(200);
      expect(d.logs.some((l) => l.includes('"url":"https://127.0.0.1:'))).toBe(true);
    } finally {
      await killCli(d);
    }
  });

  it('basic_auth_users count as its auth: auth none on 0.0.0.0 starts, and asks every request for them', async () => {
    const port = await freePort();
    const config = join(dir, 'receiver-web-auth.yml');
    writeFileSync(config, `listen: 0.0.0.0:${port}\nauth: {type: none}\nstore: {path: ${join(dir, 'rx-web-auth.db')}}\nrunbooks: []\n`);
    const web = join(dir, 'receiver-web-auth-users.yml');
    writeFileSync(web, `basic_auth_users:\n  am: '${hash('pw')}'\n`);
    const check = spawnCli(['receiver', '--config', config, '--web.config.file', web, '--check'], '');
    expect(await check.exited).toBe(0);
    const bare = spawnCli(['receiver', '--config', config, '--check'], '');
    expect(await bare.exited).toBe(2);
    expect(bare.logs.join('\n')).toContain('auth: type none is allowed only on loopback; listening on 0.0.0.0:');
    const d = spawnCli(['receiver', '--config', config, '--web.config.file', web], `http://127.0.0.1:${port}`);
    try {
      await waitFor('the receiver', async () => (await fetch(`${d.url}/healthz`).catch(() => undefined))?.status === 200, 20_000, 100);
      expect((await fetch(`${d.url}/api/v1/audit`)).status).toBe(401);
      const auth = { authorization: `Basic ${Buffer.from('am:pw').toString('base64')}` };
      expect((await fetch(`${d.url}/api/v1/audit`, { headers: auth })).status).toBe(200);
    } finally {
      await killCli(d);
    }
  });

  it('a reload to auth none is refused while the socket is bound to 0.0.0.0, whatever listen the new file says', async () => {
    const port = await freePort();
    const config = join(dir, 'receiver-reload-open.yml');
    const store = `store: {path: ${join(dir, 'rx-reload-open.db')}}\nrunbooks: []\n`;
    writeFileSync(config, `listen: 0.0.0.0:${port}\nauth: {type: bearer, token: {env: RX_TOKEN}}\n${store}`);
    const d = spawnCli(['receiver', '--config', config], `http://127.0.0.1:${port}`, { RX_TOKEN: 'x' });
    try {
      await waitFor('the receiver', async () => (await fetch(`${d.url}/healthz`).catch(() => undefined))?.status === 200, 20_000, 100);
      expect((await fetch(`${d.url}/api/v1/audit`)).status).toBe(401);
      writeFileSync(config, `listen: 127.0.0.1:${port}\nauth: {type: none}\n${store}`);
      d.child.kill('SIGHUP');
      await waitFor('the refused reload', async () => d.logs.some((l) => l.includes('config reload failed') && l.includes('the bound socket')), 10_000, 100);
      expect((await fetch(`${d.url}/api/v1/audit`)).status).toBe(401);
      expect((await fetch(`${d.url}/api/v1/audit`, { headers: { authorization: 'Bearer x' } })).status).toBe(200);
    } finally {
      await killCli(d);
    }
  });

  it('basic_auth_users and the receiver auth together are refused at start', async () => {
    const config = join(dir, 'receiver-both.yml');
    writeFileSync(
      config,
      `listen: 127.0.0.1:${await freePort()}\nauth: {type: bearer, token: {env: RX_TOKEN}}\nstore: {path: ${join(dir, 'rx2.db')}}\nrunbooks: []\n`,
    );
    const web = join(dir, 'receiver-web-users.yml');
    writeFileSync(web, `basic_auth_users:\n  am: '${hash('pw')}'\n`);
    const d = spawnCli(['receiver', '--config', config, '--web.config.file', web], '', { RX_TOKEN: 'x' });
    expect(await d.exited).toBe(2);
    expect(d.logs.join('\n')).toContain(`${web}: basic_auth_users: the receiver config also sets auth.type bearer`);
  });
});
