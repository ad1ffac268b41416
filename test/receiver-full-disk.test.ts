/**
 * The built receiver on a really full file system: its store on a 2 MB tmpfs filled to the last
 * block, mounted in a private mount namespace (`unshare -rm`, so no root is needed where user
 * namespaces are allowed). It starts, serves its pages and API from the store, answers webhooks
 * 503 with a reason (Alertmanager retries) and counts them, survives its approval-expiry timer,
 * and stores alerts again once space is freed. Before, it could not start at all (a lock file
 * could not be written; WAL's shared-memory file could not be sized), and its timer crashed it.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { freePort, waitFor } from './stack';

jest.setTimeout(120_000);

const CLI = join(__dirname, '..', 'dist', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'ae-fulldisk-'));
const seedDb = join(dir, 'seed', 'receiver.db');
const mountDir = join(dir, 'mnt');
const trigger = join(dir, 'free-space-now');
let url: string;
let child: ChildProcess | undefined;
const logs: string[] = [];

const alert = (id: string, startsAt: string) => ({
  version: '4',
  status: 'firing',
  receiver: 'remediation',
  groupLabels: {},
  commonLabels: {},
  commonAnnotations: {},
  externalURL: 'http://alertmanager:9093',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'AnomalousSignal', service: id, signal: 'latency', severity: 'warning' },
      annotations: { summary: `${id} is slow` },
      startsAt,
      fingerprint: Buffer.from(id).toString('hex').padStart(16, '0').slice(-16),
    },
  ],
});

function config(store: string, port: number): string {
  const file = join(dir, `receiver-${port}.yml`);
  writeFileSync(
    file,
    `listen: 127.0.0.1:${port}\nauth: {type: none}\nmode: approval\nstore: {path: ${JSON.stringify(store)}}\nlogging: {level: info}\n` +
      `runbooks:\n  - name: note\n    match: ['alertname="AnomalousSignal"']\n    target_label: service\n    steps: [{type: log, message: noted}]\n`,
  );
  return file;
}

const post = (body: unknown) => axios.post(`${url}/webhook/alertmanager`, body, { validateStatus: () => true, timeout: 5000 });

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  const probe = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=64k tmpfs "${dir}" && echo mounted`], { encoding: 'utf8' });
  if (!probe.stdout.includes('mounted')) {
    throw new Error(
      `this test mounts a small tmpfs in a private mount namespace and could not: "unshare -rm" failed (${(probe.stderr || probe.error?.message || '').trim()}). It needs util-linux's unshare and user namespaces (kernel.unprivileged_userns_clone=1), or root.`,
    );
  }
  // A store with two episodes, made by the receiver itself with room to spare; stopped cleanly.
  const seedPort = await freePort();
  const seeder = spawn(process.execPath, [CLI, 'receiver', '--config', config(seedDb, seedPort)], { stdio: 'ignore' });
  try {
    url = `http://127.0.0.1:${seedPort}`;
    await waitFor('the seeding receiver', async () => (await axios.get(`${url}/healthz`, { timeout: 500 })).status === 200, 15_000, 100);
    for (const id of ['checkout', 'catalog']) expect((await post(alert(id, '2026-11-27T10:00:00Z'))).status).toBe(200);
  } finally {
    if (seeder.exitCode === null && seeder.signalCode === null) {
      const exited = new Promise((r) => seeder.once('exit', r));
      seeder.kill('SIGTERM');
      await exited;
    }
  }
  // The receiver on a full tmpfs holding a copy of that store; the shell frees space on a trigger.
  mkdirSync(mountDir);
  const port = await freePort();
  const script = [
    'set -e',
    'mount -t tmpfs -o size=2m tmpfs "$MNT"',
    'cp "$SEED" "$MNT/receiver.db"',
    'dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null || true',
    'dd if=/dev/zero of="$MNT/fill-tail" bs=512 2>/dev/null || true',
    '"$NODE" "$CLI" receiver --config "$CONF" &',
    'pid=$!',
    'while [ ! -e "$TRIGGER" ]; do sleep 0.2; done',
    'rm -f "$MNT/fill" "$MNT/fill-tail"',
    'wait $pid',
  ].join('\n');
  child = spawn('unshare', ['-rm', 'sh', '-c', script], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MNT: mountDir, SEED: seedDb, NODE: process.execPath, CLI, CONF: config(join(mountDir, 'receiver.db'), port), TRIGGER: trigger },
  });
  child.stdout!.on('data', (d: Buffer) => logs.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (d: Buffer) => logs.push(...d.toString().split('\n').filter(Boolean)));
  url = `http://127.0.0.1:${port}`;
  await waitFor('the receiver on the full disk', async () => (await axios.get(`${url}/healthz`, { timeout: 500 })).status === 200, 20_000, 100).catch((err) => {
    throw new Error(`${(err as Error).message}\nreceiver output:\n${logs.join('\n')}`);
  });
});

afterAll(() => {
  if (child?.pid) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('receiver on a full disk', () => {
  it('starts and says so in its log', () => {
    expect(logs.some((l) => l.includes('disk full') && l.includes('"level":"warn"'))).toBe(true);
    expect(logs.some((l) => l.includes('remediation receiver started'))).toBe(true);
  });

  it('serves its pages and API from the store', async () => {
    const episodes = (await axios.get(`${url}/api/v1/episodes`)).data.episodes as { labels: Record<string, string> }[];
    expect(episodes.map((e) => e.labels.service).sort()).toEqual(['catalog', 'checkout']);
    const page = await axios.get(`${url}/`, { responseType: 'text' });
    expect(page.status).toBe(200);
    expect(page.data).toContain('checkout');
    expect((await axios.get(`${url}/api/v1/audit`)).status).toBe(200);
  });

  it('answers a webhook 503 with the reason, counts it, and keeps running past its expiry timer', async () => {
    const r = await post(alert('search', '2026-11-27T11:00:00Z'));
    expect(r.status).toBe(503);
    expect(r.data.error).toMatch(/could not store/);
    const metrics = (await axios.get(`${url}/metrics`, { responseType: 'text' })).data as string;
    expect(metrics).toMatch(/^remediation_store_errors_total\{operation="webhook"\} [1-9]/m);
    // The approval-expiry timer runs every 5 s: still up after two of its turns.
    await new Promise((res) => setTimeout(res, 11_000));
    expect((await axios.get(`${url}/healthz`)).status).toBe(200);
    expect(child?.exitCode).toBeNull();
  });

  it('stores alerts again once space is freed, and nothing of the refused one was half-stored', async () => {
    writeFileSync(trigger, '');
    await waitFor('a webhook accepted after freeing space', async () => (await post(alert('search', '2026-11-27T11:00:00Z'))).status === 200, 15_000, 300);
    const episodes = (await axios.get(`${url}/api/v1/episodes`)).data.episodes as { labels: Record<string, string> }[];
    expect(episodes.map((e) => e.labels.service).sort()).toEqual(['catalog', 'checkout', 'search']);
  });
});
