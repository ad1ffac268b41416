/** The built CLI as a user runs it: exit codes, messages, and a clean stop on SIGTERM. */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { freePort, waitFor } from './stack';

const CLI = join(__dirname, '..', 'dist', 'cli', 'main.js');
const ROOT = join(__dirname, '..');

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
});

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000 });
}

function tempConfig(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ae-cli-')), 'anomaly-exporter.yml');
  writeFileSync(file, text);
  return file;
}

describe('anomaly-exporter CLI', () => {
  it('check: exit 0 on the shipped config', () => {
    const r = cli(['check', '--config', 'anomaly-exporter.yml']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('valid (3 signals: latency, traffic, errors)');
  });

  it('check: exit 2 naming file, field and reason for each problem', () => {
    const file = tempConfig('reader:\n  url: http://a:1\n  signals:\n    x: {query: up, dirction: above}\nscheduler: {step: 1q}\n');
    const r = cli(['check', '--config', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: reader.signals.x.dirction: unknown key`);
    expect(r.stderr).toContain(`${file}: scheduler.step: "1q" is not a duration`);
  });

  it('check --source: runs each query once against the source; a refused query exits 2 naming the signal, an empty one warns', async () => {
    const source = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const p = new URLSearchParams(body);
        const query = p.get('query');
        if (query === 'missing_metric')
          return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"success","data":{"resultType":"matrix","result":[]}}');
        if (query !== 'up')
          return void res
            .writeHead(400, { 'Content-Type': 'application/json' })
            .end('{"status":"error","errorType":"bad_data","error":"query processing would load too many samples into memory"}');
        const values = [[Number(p.get('end')), '1']];
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(
          JSON.stringify({
            status: 'success',
            data: {
              resultType: 'matrix',
              result: [
                { metric: { job: 'a' }, values },
                { metric: { job: 'b' }, values },
              ],
            },
          }),
        );
      });
    });
    await new Promise<void>((r) => source.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(source.address() as AddressInfo).port}`;
    try {
      const file = tempConfig(
        "reader:\n  url: http://unused:1\n  retries: 0\n  signals:\n    good: {query: up}\n    empty: {query: missing_metric}\n    bad: {query: 'sum(rate(x[5m]))'}\n",
      );
      const child = spawn(process.execPath, [CLI, 'check', '--config', file, '--source', url], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(2);
      expect(out).toContain('good: ok, 2 series');
      expect(err).toContain(`${file}: reader.signals.empty.query: warning: no series at ${url}`);
      expect(err).toMatch(
        new RegExp(
          `${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: reader\\.signals\\.bad\\.query: ${url.replace(/\./g, '\\.')} refused it \\(promql\\): .*query processing would load too many samples`,
        ),
      );
      expect(err).not.toContain('reader.signals.good');
    } finally {
      source.close();
    }
  });

  it.each([
    ['a closed port', async () => `http://127.0.0.1:${await freePort()}`],
    ['an unresolvable host', async () => 'http://no-such-host.invalid:9090'],
  ])('check --source against %s (retries on, as shipped): exit 2 naming the signal, never "valid" alone', async (_what, url) => {
    const source = await url();
    const file = tempConfig('reader:\n  url: http://unused:1\n  timeout: 2s\n  signals:\n    latency: {query: up}\n');
    const r = cli(['check', '--config', file, '--source', source]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: reader.signals.latency.query: ${source} refused it (network)`);
  });

  it('backtest --from --to against a down source: exit 1 with a "signal skipped" line', async () => {
    const file = tempConfig(
      `reader:\n  url: http://127.0.0.1:${await freePort()}\n  timeout: 2s\n  signals:\n    latency: {query: up}\nscheduler: {step: 1m}\n`,
    );
    const out = mkdtempSync(join(tmpdir(), 'ae-cli-bt-'));
    const r = cli(['backtest', '--config', file, '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-01T06:00:00Z', '--output', out]);
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toContain('signal skipped');
  });

  it('check: exit 2 on a query with an unclosed parenthesis, with its line and column', () => {
    const file = tempConfig("reader:\n  url: http://a:1\n  signals:\n    traffic: {query: 'sum(rate(http_requests_total[5m])'}\n");
    const r = cli(['check', '--config', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: reader.signals.traffic.query: PromQL syntax error at line 1, column 34 (at the end of the query)`);
  });

  it('run: exit 2 on an invalid config, before doing anything', () => {
    const r = cli(['run', '--config', '/does/not/exist.yml']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('/does/not/exist.yml: (root): cannot read file: ENOENT');
  });

  it('receiver --check: exit 0 on the shipped example, exit 2 naming file, field and reason', () => {
    const ok = cli(['receiver', '--check']);
    expect([ok.status, ok.stdout.trim()]).toEqual([0, 'receiver/receiver.example.yml: valid (mode dry_run, 1 runbooks)']);
    const file = tempConfig(`mode: yolo
http_allowlist: [127.0.0.1:1]
runbooks:
  - name: r
    match: ['service']
    steps: [{type: http, url: 'http://evil.example:80/{{ labels.service }}'}, {type: exec, argv: [rm], env: {x: '{{ process.env }}'}}]
`);
    const bad = cli(['receiver', '--check', '--config', file]);
    expect(bad.status).toBe(2);
    for (const line of [
      `${file}: mode: Invalid option: expected one of "dry_run"|"live"|"approval"`,
      `${file}: runbooks.0.match.0: "service" is not a matcher like name="value", name!="value", name=~"regex" or name!~"regex"`,
      `${file}: runbooks.0.steps.1.env.x: environment variable names: A-Z, 0-9 and _`,
    ]) {
      expect(bad.stderr).toContain(line);
    }
    const open = cli(['receiver', '--check', '--listen', '0.0.0.0:10191']);
    expect(open.status).toBe(2);
    expect(open.stderr).toContain(
      'receiver/receiver.example.yml: auth: type none is allowed only on loopback; listening on 0.0.0.0:10191 needs bearer or basic auth',
    );
    const missing = cli(['receiver', '--check', '--config', tempConfig('mode: dry_run\n')]);
    expect(missing.stderr).toMatch(/: auth: is required: \{type: bearer/);
    const host = cli([
      'receiver',
      '--check',
      '--config',
      tempConfig("http_allowlist: [127.0.0.1:1]\nrunbooks:\n  - {name: r, match: ['a=\"b\"'], steps: [{type: http, url: 'http://evil.example/x'}]}\n"),
    ]);
    expect(host.stderr).toMatch(/runbooks\.0\.steps\.0\.url: host evil\.example:80 is not in http_allowlist/);
    // Secrets the start would fail on: a missing file, an empty one.
    const dir = mkdtempSync(join(tmpdir(), 'ae-cli-secret-'));
    writeFileSync(join(dir, 'empty'), '\n');
    for (const [file, reason] of [
      [join(dir, 'missing'), `auth.token: cannot read token file ${join(dir, 'missing')}: ENOENT`],
      [join(dir, 'empty'), `auth.token: token file ${join(dir, 'empty')} is empty`],
    ]) {
      const r = cli(['receiver', '--check', '--config', tempConfig(`listen: 127.0.0.1:10191\nauth: {type: bearer, token: {file: ${file}}}\n`)]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(reason);
    }
  });

  it("check: exit 2 when the reader's secret file is missing, as run would fail", () => {
    const file = tempConfig(`reader:\n  url: http://127.0.0.1:9090\n  auth: {bearer_token_file: /nonexistent/token}\n  signals:\n    x: {query: up}\n`);
    const r = cli(['check', '--config', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: reader.auth.bearer_token_file: cannot read bearer token file /nonexistent/token: ENOENT`);
  });

  it('names the address and the reason when it cannot listen', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as AddressInfo).port;
    try {
      const r = cli([
        'receiver',
        '--listen',
        `127.0.0.1:${port}`,
        '--config',
        tempConfig(`auth: {type: none}\nstore: {path: ${join(mkdtempSync(join(tmpdir(), 'ae-cli-')), 'r.db')}}\n`),
      ]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`receiver cannot listen on 127.0.0.1:${port}: the address is already in use (another process listens there) (EADDRINUSE)`);
    } finally {
      taken.close();
    }
  });

  it('receiver: serves, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'ae-cli-recv-'));
    const file = tempConfig(`auth: {type: none}\nstore: {path: ${join(dir, 'r.db')}}\n`);
    const child = spawn(process.execPath, [CLI, 'receiver', '--config', file, '--listen', `127.0.0.1:${port}`], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      await waitFor(
        'receiver healthz',
        async () => (await axios.get(`http://127.0.0.1:${port}/healthz`, { validateStatus: () => true }).catch(() => ({ status: 0 }))).status === 200,
        15_000,
      );
      const r = await axios.post(`http://127.0.0.1:${port}/webhook/alertmanager`, { alerts: [] });
      expect(r.data).toMatchObject({ received: 0, rejected: 0 });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(join(dir, 'r.db'))).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('rejects unknown commands and flags with usage, exit 2', () => {
    expect(cli(['frobnicate']).status).toBe(2);
    const r = cli(['run', '--bogus']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Usage: anomaly-exporter run');
  });

  it('prints help for every command', () => {
    for (const args of [['--help'], ['run', '--help'], ['check', '--help'], ['demo-service', '--help'], ['receiver', '--help']]) {
      const r = cli(args);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('Usage');
    }
  });

  it('run: flag beats env beats file for listen, and SIGTERM stops within 5 s', async () => {
    const port = await freePort();
    const envPort = await freePort();
    const file = tempConfig(
      'reader:\n  url: http://127.0.0.1:1\n  retries: 0\n  signals:\n    x: {query: up}\nserver: {listen: "127.0.0.1:1"}\nlogging: {level: error}\n',
    );
    const child = spawn(process.execPath, [CLI, 'run', '--config', file, '--listen', `127.0.0.1:${port}`], {
      env: { ...process.env, ANOMALY_EXPORTER_LISTEN: `127.0.0.1:${envPort}` },
      stdio: 'ignore',
    });
    try {
      await waitFor(
        'the exporter to listen on the flag port',
        async () => (await axios.get(`http://127.0.0.1:${port}/healthz`, { timeout: 500 })).status === 200,
        15_000,
      );
      // The source is down (port 1), yet /metrics serves and says so.
      await waitFor(
        'source_up 0',
        async () => ((await axios.get(`http://127.0.0.1:${port}/metrics`)).data as string).includes('anomaly_exporter_source_up 0'),
        10_000,
      );
      const started = Date.now();
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('run: the environment overrides the file when no flag is given', async () => {
    const envPort = await freePort();
    const file = tempConfig(
      'reader:\n  url: http://127.0.0.1:1\n  retries: 0\n  signals:\n    x: {query: up}\nserver: {listen: "127.0.0.1:1"}\nlogging: {level: error}\n',
    );
    const child = spawn(process.execPath, [CLI, 'run', '--config', file], {
      env: { ...process.env, ANOMALY_EXPORTER_LISTEN: `127.0.0.1:${envPort}` },
      stdio: 'ignore',
    });
    try {
      await waitFor(
        'the exporter to listen on the env port',
        async () => (await axios.get(`http://127.0.0.1:${envPort}/readyz`, { timeout: 500, validateStatus: () => true })).status === 503,
        15_000,
      );
    } finally {
      child.kill('SIGTERM');
    }
  });
});
