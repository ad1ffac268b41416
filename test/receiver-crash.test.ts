/**
 * A real `kill -9` of the receiver process during a burst of 1,000 alerts sent over HTTP, then a
 * restart and a replay of all of them: every acknowledged request is in the database, no action
 * ran twice, and an action cut by the kill is marked outcome_unknown, never retried.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import Database from 'better-sqlite3';
import { freePort, waitFor } from './stack';

jest.setTimeout(120_000);

const CLI = join(__dirname, '..', 'dist', 'cli', 'main.js');
const N = 1000;
const dir = mkdtempSync(join(tmpdir(), 'ae-crash-'));
const db = join(dir, 'receiver.db');
let counter: Server;
const hits = new Map<string, number>();
let port: number;

function start(): ChildProcess {
  return spawn(process.execPath, [CLI, 'receiver', '--config', join(dir, 'receiver.yml')], { stdio: ['ignore', 'ignore', 'ignore'] });
}

const alertBody = (i: number) => ({
  version: '4',
  status: 'firing',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'Burst', id: `a${i}`, severity: 'warning' },
      annotations: {},
      startsAt: new Date(Date.UTC(2026, 10, 23) + i * 1000).toISOString(),
      fingerprint: (i + 1).toString(16).padStart(16, '0'),
    },
  ],
});

beforeAll(async () => {
  // The action target: counts the restarts each alert asked for.
  counter = createServer((req, res) => {
    const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '';
    hits.set(id, (hits.get(id) ?? 0) + 1);
    res.end('ok');
  });
  await new Promise<void>((r) => counter.listen(0, '127.0.0.1', r));
  const target = `127.0.0.1:${(counter.address() as AddressInfo).port}`;
  port = await freePort();
  writeFileSync(
    join(dir, 'receiver.yml'),
    `listen: 127.0.0.1:${port}\nauth: {type: none}\nmode: live\nstore: {path: ${JSON.stringify(db)}}\nlimits: {max_concurrent_actions: 64}\nhttp_allowlist: [${target}]\nlogging: {level: error}\n` +
      `runbooks:\n  - name: restart\n    match: ['alertname="Burst"']\n    target_label: id\n    steps: [{type: http, url: 'http://${target}/restart?id={{ labels.id }}'}]\n`,
  );
});

afterAll(() => {
  counter.close();
  rmSync(dir, { recursive: true, force: true });
});

async function burst(ids: number[], stopAfterAcks?: number, onStop?: () => void): Promise<Set<number>> {
  const acked = new Set<number>();
  let next = 0;
  let stopped = false;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < ids.length) {
        const i = ids[next++];
        try {
          const r = await axios.post(`http://127.0.0.1:${port}/webhook/alertmanager`, alertBody(i), { timeout: 5000, validateStatus: () => true });
          if (r.status === 200) acked.add(i);
        } catch {
          // Connection refused or reset by the kill: not acknowledged.
        }
        if (!stopped && stopAfterAcks !== undefined && acked.size >= stopAfterAcks) {
          stopped = true;
          onStop?.();
        }
      }
    }),
  );
  return acked;
}

describe('receiver under kill -9', () => {
  it('loses no acknowledged decision and never acts twice', async () => {
    let child = start();
    await waitFor('receiver up', async () => (await axios.get(`http://127.0.0.1:${port}/healthz`).catch(() => ({ status: 0 }))).status === 200, 15_000, 100);
    const ids = Array.from({ length: N }, (_, i) => i);
    const acked = await burst(ids, 300, () => child.kill('SIGKILL'));
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    expect(child.signalCode).toBe('SIGKILL');
    expect(acked.size).toBeGreaterThanOrEqual(300);
    expect(acked.size).toBeLessThan(N);

    // Every acknowledged alert is in the database, with its decision.
    const before = new Database(db, { readonly: true });
    const stored = new Set(
      (before.prepare('SELECT labels_json FROM episodes').all() as { labels_json: string }[]).map((r) =>
        Number((JSON.parse(r.labels_json) as { id: string }).id.slice(1)),
      ),
    );
    const decided = (before.prepare('SELECT count(*) AS n FROM decisions').get() as { n: number }).n;
    before.close();
    for (const i of acked) expect(stored.has(i)).toBe(true);
    expect(decided).toBe(stored.size);

    // Restart, replay every alert (Alertmanager retries what was not acknowledged, and repeats).
    child = start();
    await waitFor(
      'receiver up again',
      async () => (await axios.get(`http://127.0.0.1:${port}/healthz`).catch(() => ({ status: 0 }))).status === 200,
      15_000,
      100,
    );
    const replayed = await burst(ids);
    expect(replayed.size).toBe(N);
    await waitFor(
      'actions to finish',
      async () => {
        const d = new Database(db, { readonly: true });
        const running = (d.prepare("SELECT count(*) AS n FROM actions WHERE outcome = 'running'").get() as { n: number }).n;
        d.close();
        return running === 0;
      },
      30_000,
      200,
    );
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));

    const after = new Database(db, { readonly: true });
    const episodes = (after.prepare('SELECT count(*) AS n FROM episodes').get() as { n: number }).n;
    const perEpisode = after.prepare('SELECT episode_id, count(*) AS n FROM actions GROUP BY episode_id HAVING n > 1').all();
    const outcomes = Object.fromEntries(
      (after.prepare('SELECT outcome, count(*) AS n FROM actions GROUP BY outcome').all() as { outcome: string; n: number }[]).map((r) => [r.outcome, r.n]),
    );
    const duplicates = (after.prepare("SELECT count(*) AS n FROM decisions WHERE decision = 'duplicate'").get() as { n: number }).n;
    after.close();
    expect(episodes).toBe(N);
    expect(perEpisode).toEqual([]);
    expect(duplicates).toBe(stored.size);
    // No target was asked to restart twice.
    expect([...hits.values()].filter((n) => n > 1)).toEqual([]);
    expect((outcomes.succeeded ?? 0) + (outcomes.outcome_unknown ?? 0) + (outcomes.failed ?? 0)).toBe(N);
    process.stdout.write(`kill -9 after ${acked.size} acks: ${stored.size} stored, actions ${JSON.stringify(outcomes)}\n`);
  });
});
