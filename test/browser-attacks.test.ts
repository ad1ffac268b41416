/**
 * Another web site against the receiver, in real Chromium (Debian's, driven by playwright-core):
 * the receiver in its most exposed set-up (auth none on loopback, live mode, a runbook that calls
 * a target), an attacker's pages on another port. A cross-site form, a no-cors fetch, a framed
 * click and a DNS-rebinding page must all fail to act; the receiver's own page still approves.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { Browser, chromium } from 'playwright-core';
import { silentLogger } from '../common/logger';
import { alert, payload, startTarget } from './doubles/receiver-test-kit';
import { parseReceiverConfig } from '../receiver/receiver-config';
import { ReceiverDaemon } from '../receiver/receiver-daemon';
import { freePort } from './stack';

jest.setTimeout(120_000);

const CHROMIUM = '/usr/bin/chromium';
/** A name the browser resolves to 127.0.0.1, as a rebinding attacker's DNS would. */
const REBIND = 'rebind.attacker.test';

let browser: Browser;
let live: ReceiverDaemon;
let liveUrl: string;
let gated: ReceiverDaemon;
let gatedUrl: string;
let target: Awaited<ReturnType<typeof startTarget>>;
let attacker: Server;
let attackerUrl: string;
let attackerPage = '';

const forged = () => JSON.stringify(payload(alert({ startsAt: new Date().toISOString(), labels: { service: 'checkout' } })));

function receiverConfig(port: number, mode: string): string {
  return `listen: 127.0.0.1:${port}
auth: {type: none}
mode: ${mode}
http_allowlist: [${target.host}]
store: {path: ${JSON.stringify(join(mkdtempSync(join(tmpdir(), 'ae-attack-')), 'r.db'))}}
runbooks:
  - name: restart
    match: ['alertname="AnomalousSignal"']
    cooldown: 0s
    steps:
      - {type: http, url: 'http://${target.host}/admin/restart?service={{ labels.service }}'}
`;
}

async function episodes(url: string): Promise<unknown[]> {
  return (await axios.get(`${url}/api/v1/episodes`)).data.episodes as unknown[];
}

/** Opens the attacker's page with `html` and waits for it to have done its work. */
async function visitAttacker(html: string, settleMs = 1500): Promise<string[]> {
  attackerPage = html;
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => errors.push(m.text()));
  try {
    await page.goto(`${attackerUrl}/`);
    await page.waitForTimeout(settleMs);
    return errors;
  } finally {
    await context.close();
  }
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run "apt-get install -y chromium" (as root), or "bash .ci/run", which installs it`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', `--host-resolver-rules=MAP ${REBIND} 127.0.0.1`],
  });
  target = await startTarget();
  const livePort = await freePort();
  live = new ReceiverDaemon(parseReceiverConfig(receiverConfig(livePort, 'live'), 'live.yml'), silentLogger());
  await live.start();
  liveUrl = `http://127.0.0.1:${livePort}`;
  const gatedPort = await freePort();
  gated = new ReceiverDaemon(parseReceiverConfig(receiverConfig(gatedPort, 'approval'), 'approval.yml'), silentLogger());
  await gated.start();
  gatedUrl = `http://127.0.0.1:${gatedPort}`;
  attacker = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(attackerPage));
  await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await browser?.close();
  await live?.stop();
  await gated?.stop();
  attacker?.close();
  await target?.stop();
});

describe('another web site against the receiver (auth none, live)', () => {
  it('a cross-site <form enctype="text/plain"> posting an alert does not act', async () => {
    const body = forged();
    // The classic JSON-in-a-form trick: the name carries the JSON, the value closes it.
    const [name, value] = [body.slice(0, -1) + ',"x":"', '"}'];
    await visitAttacker(
      `<form id="f" method="POST" action="${liveUrl}/webhook/alertmanager" enctype="text/plain"><input name='${name.replace(/'/g, '&#39;')}' value='${value}'></form><script>document.getElementById('f').submit()</script>`,
    );
    expect(await episodes(liveUrl)).toEqual([]);
    expect(target.requests).toEqual([]);
  });

  it('a cross-site no-cors fetch posting an alert does not act', async () => {
    await visitAttacker(
      `<script>fetch(${JSON.stringify(`${liveUrl}/webhook/alertmanager`)}, {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'application/json'}, body: ${JSON.stringify(forged())}})</script>`,
    );
    expect(await episodes(liveUrl)).toEqual([]);
    expect(target.requests).toEqual([]);
  });

  it('a page on a rebound name (resolving to 127.0.0.1) can neither read the audit log nor post an alert', async () => {
    const port = new URL(liveUrl).port;
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      const first = await page.goto(`http://${REBIND}:${port}/`);
      expect(first?.status()).toBe(421);
      const probe = await page.evaluate(async (body) => {
        const audit = await fetch('/api/v1/audit');
        const post = await fetch('/webhook/alertmanager', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
        return { audit: audit.status, auditBody: await audit.text(), post: post.status };
      }, forged());
      expect(probe).toMatchObject({ audit: 421, post: 421 });
      expect(probe.auditBody).not.toContain('episode');
    } finally {
      await context.close();
    }
    expect(await episodes(liveUrl)).toEqual([]);
    expect(target.requests).toEqual([]);
  });
});

describe('another web site against an approval', () => {
  it('cannot frame the approval page to have it clicked; the page itself still approves', async () => {
    await axios.post(`${gatedUrl}/webhook/alertmanager`, forged(), { headers: { 'Content-Type': 'application/json' } });
    const pending = (await axios.get(`${gatedUrl}/api/v1/approvals`)).data.approvals as { id: number }[];
    expect(pending).toHaveLength(1);

    // The framed page: the browser refuses to render it (X-Frame-Options DENY, frame-ancestors 'none').
    attackerPage = `<iframe id="f" src="${gatedUrl}/" width="1000" height="600"></iframe>`;
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${attackerUrl}/`);
      await page.waitForTimeout(1500);
      const frame = page.frames().find((f) => f !== page.mainFrame());
      const buttons = frame ? await frame.locator('button.approve').count() : 0;
      expect(buttons).toBe(0);
      // Forging the approval itself, without the page's CSRF token: refused.
      const forgedApproval = await page.evaluate(async (url) => {
        try {
          const r = await fetch(url, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: '{"decision":"approve"}' });
          return r.type;
        } catch (e) {
          return String(e);
        }
      }, `${gatedUrl}/api/v1/approvals/${pending[0].id}`);
      expect(typeof forgedApproval).toBe('string');
    } finally {
      await context.close();
    }
    expect((await axios.get(`${gatedUrl}/api/v1/approvals`)).data.approvals).toHaveLength(1);
    expect(target.requests).toEqual([]);

    // The receiver's own page, opened directly, approves (same origin, its CSRF token).
    const own = await browser.newContext();
    const p = await own.newPage();
    try {
      await p.goto(`${gatedUrl}/`);
      await Promise.all([p.waitForEvent('load'), p.locator('button.approve').first().click()]);
    } finally {
      await own.close();
    }
    const deadline = Date.now() + 10_000;
    while (target.requests.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(target.requests).toHaveLength(1);
  });

  it('answers every page with no-framing, nosniff and a strict CSP, and refuses an API approval without the token', async () => {
    const r = await axios.get(`${gatedUrl}/`);
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(r.headers['content-security-policy']).toMatch(/script-src 'self'/);
    const noToken = await axios.post(`${gatedUrl}/api/v1/approvals/1`, { decision: 'approve' }, { validateStatus: () => true });
    expect(noToken.status).toBe(403);
    expect(noToken.data.error).toMatch(/X-CSRF-Token/);
    const textPlain = await axios.post(`${liveUrl}/webhook/alertmanager`, forged(), { headers: { 'Content-Type': 'text/plain' }, validateStatus: () => true });
    expect(textPlain.status).toBe(415);
  });
});
