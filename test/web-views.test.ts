/**
 * The web pages in a real browser: Debian's chromium driven by playwright-core (never a browser
 * download). The exporter's page over a daemon scoring in-memory series with an injected level
 * shift; the receiver's pages behind basic auth, with an approval clicked through. Screenshots are
 * saved under artifacts/screenshots/.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { Browser, chromium, Page } from 'playwright-core';
import { silentLogger } from '../common/logger';
import { parseConfig } from '../exporter/config/config';
import { ExporterDaemon } from '../exporter/daemon/daemon';
import { MemoryReader } from '../exporter/read/memory-reader';
import { Prng } from '../models';
import { alert, payload } from './doubles/receiver-test-kit';
import { parseReceiverConfig } from '../receiver/receiver-config';
import { ReceiverDaemon } from '../receiver/receiver-daemon';
import { freePort, waitFor } from './stack';

jest.setTimeout(120_000);

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(__dirname, '..', 'artifacts', 'screenshots');
const AUTH = { username: 'ops', password: 'web-test-password' };

let browser: Browser;
let exporter: ExporterDaemon;
let exporterUrl: string;
let receiver: ReceiverDaemon;
let receiverUrl: string;

/** Every console error and page error while `fn` runs on a fresh page. */
async function withPage<T>(fn: (page: Page, errors: string[]) => Promise<T>, credentials?: typeof AUTH): Promise<T> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, httpCredentials: credentials });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    return await fn(page, errors);
  } finally {
    await context.close();
  }
}

/** Whether a chart's canvas has drawn pixels (not all transparent). */
async function canvasDrawn(page: Page, selector: string): Promise<boolean> {
  return page.$eval(selector, (div) => {
    const c = div.querySelector('canvas');
    if (!c) return false;
    const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
    return false;
  });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run "apt-get install -y chromium" (as root), or "bash .ci/run", which installs it`);
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });

  // Ten minutes of history and two minutes ahead (served as time reaches them), 1 s apart:
  // checkout latency steps up 8 s from now and stays up; everything else is steady noise.
  const now = Math.floor(Date.now() / 1000);
  const ts = Float64Array.from({ length: 720 }, (_, i) => now - 600 + i);
  const rng = new Prng(5);
  const series = (level: number, noise: number, shiftAt?: number, shift = 0) =>
    Float64Array.from(ts, (t) => level + noise * (rng.next() - 0.5) + (shiftAt !== undefined && t >= shiftAt ? shift : 0));
  const reader = new MemoryReader();
  reader.set('lat', [
    { labels: { service: 'checkout' }, timestamps: ts, values: series(0.05, 0.004, now + 8, 0.3) },
    { labels: { service: 'catalog' }, timestamps: ts, values: series(0.03, 0.003) },
  ]);
  reader.set('tra', [
    { labels: { service: 'checkout' }, timestamps: ts, values: series(20, 1) },
    { labels: { service: 'catalog' }, timestamps: ts, values: series(30, 1) },
  ]);
  reader.set('err', [
    { labels: { service: 'checkout' }, timestamps: ts, values: series(0.01, 0.002) },
    { labels: { service: 'catalog' }, timestamps: ts, values: series(0.01, 0.002) },
  ]);
  const exporterPort = await freePort();
  exporter = new ExporterDaemon(
    parseConfig(
      `reader:
  url: http://127.0.0.1:1
  group_by: [service]
  signals:
    latency: {query: lat, direction: above, min_deviation: 0.05}
    traffic: {query: tra, min_relative_deviation: 0.2}
    errors: {query: err, direction: above, min_deviation: 0.02}
scheduler: {step: 1s, infer_every: 1s, fit_every: 10m, fit_window: 10m}
correlation: {window: 5m, min_samples: 20}
server: {listen: "127.0.0.1:${exporterPort}"}
`,
      'web.yml',
    ),
    { logger: silentLogger(), version: 'web-test', reader },
  );
  await exporter.start();
  exporterUrl = `http://127.0.0.1:${exporterPort}`;

  process.env.WEB_TEST_PASSWORD = AUTH.password;
  const receiverPort = await freePort();
  receiver = new ReceiverDaemon(
    parseReceiverConfig(
      `listen: 127.0.0.1:${receiverPort}
auth: {type: basic, username: ${AUTH.username}, password: {env: WEB_TEST_PASSWORD}}
mode: approval
store: {path: ${JSON.stringify(join(mkdtempSync(join(tmpdir(), 'ae-web-')), 'r.db'))}}
runbooks:
  - name: note-latency
    match: ['alertname="AnomalousSignal"']
    steps:
      - {type: log, message: 'latency runbook ran for {{ labels.service }}'}
`,
      'web-receiver.yml',
    ),
    silentLogger(),
  );
  await receiver.start();
  receiverUrl = `http://127.0.0.1:${receiverPort}`;
  const auth = { auth: AUTH };
  const now2 = new Date().toISOString();
  await axios.post(`${receiverUrl}/webhook/alertmanager`, payload(alert({ startsAt: now2, labels: { service: 'checkout' } })), auth);
  await axios.post(`${receiverUrl}/webhook/alertmanager`, payload(alert({ startsAt: now2, labels: { service: 'catalog' } })), auth);
  // The exporter has scored the shift: an incident for checkout.
  await waitFor(
    'an incident for checkout',
    async () => {
      const r = (await axios.get(`${exporterUrl}/api/v1/incidents`)).data as { incidents?: { group: Record<string, string> }[] };
      return (r.incidents ?? []).some((i) => i.group.service === 'checkout');
    },
    60_000,
    500,
  );
});

afterAll(async () => {
  await browser?.close();
  await exporter?.stop();
  await receiver?.stop();
});

describe('the exporter page', () => {
  it('shows every signal per service with drawn sparklines, the incident with its hint and the correlation matrix, without console errors', async () => {
    await withPage(async (page, errors) => {
      await page.goto(`${exporterUrl}/`);
      await page.waitForSelector('[data-chart][data-drawn="1"]');
      const groups = await page.$$eval('.group h3', (hs) => hs.map((h) => h.textContent ?? ''));
      // The anomalous group comes first.
      expect(groups[0]).toMatch(/service="checkout".*anomalous/);
      expect(groups[1]).toMatch(/service="catalog".*normal/);
      expect(await page.$$eval('tr.signal', (rows) => rows.length)).toBe(6);
      expect(await page.$eval('#incidents', (t) => t.textContent)).toMatch(/checkout[\s\S]*latency[\s\S]*latency rose/i);
      expect(await page.$$eval('table.correlation', (t) => t.length)).toBe(2);
      const charts = await page.$$eval('[data-chart]', (d) => d.length);
      expect(charts).toBe(12);
      expect(await page.$$eval('[data-chart][data-drawn="1"]', (d) => d.length)).toBe(12);
      expect(await canvasDrawn(page, 'tr.anomalous [data-chart="score"]')).toBe(true);
      expect(await canvasDrawn(page, 'tr.anomalous [data-chart="value"]')).toBe(true);
      await page.screenshot({ path: join(SHOTS, 'exporter.png'), fullPage: true });
      expect(errors).toEqual([]);
    });
  });

  it('filters by group from the query string and escapes label values', async () => {
    const html = (await axios.get(`${exporterUrl}/?service=catalog`)).data as string;
    expect(html).toContain('service=&quot;catalog&quot;');
    expect(html).not.toContain('service=&quot;checkout&quot;');
  });
});

describe('the receiver pages', () => {
  it("need the receiver's auth", async () => {
    expect((await axios.get(`${receiverUrl}/`, { validateStatus: () => true })).status).toBe(401);
    expect((await axios.get(`${receiverUrl}/episodes/1`, { validateStatus: () => true })).status).toBe(401);
  });

  it('list episodes and pending approvals; approving one from the page runs its runbook, rejecting the other does not', async () => {
    await withPage(async (page, errors) => {
      const res = await page.goto(`${receiverUrl}/`);
      expect(res?.status()).toBe(200);
      expect(await page.$$eval('tr.episode', (r) => r.length)).toBe(2);
      expect(await page.$$eval('tr.approval', (r) => r.length)).toBe(2);
      await page.screenshot({ path: join(SHOTS, 'receiver.png'), fullPage: true });
      const checkoutRow = page.locator('tr.approval', { hasText: 'checkout' });
      await Promise.all([page.waitForEvent('load'), checkoutRow.locator('button.approve').click()]);
      expect(await page.$$eval('tr.approval', (r) => r.length)).toBe(1);
      const catalogRow = page.locator('tr.approval', { hasText: 'catalog' });
      await Promise.all([page.waitForEvent('load'), catalogRow.locator('button.reject').click()]);
      expect(await page.$('#no-approvals')).not.toBeNull();
      expect(errors).toEqual([]);
    }, AUTH);
    const episodes = (await axios.get(`${receiverUrl}/api/v1/episodes`, { auth: AUTH })).data.episodes as { id: number; labels: Record<string, string> }[];
    const detail = async (service: string) =>
      (await axios.get(`${receiverUrl}/api/v1/episodes/${episodes.find((e) => e.labels.service === service)!.id}`, { auth: AUTH })).data;
    const checkout = await waitFor(
      'the approved action to finish',
      async () => {
        const d = await detail('checkout');
        return d.actions[0]?.outcome === 'succeeded' ? d : undefined;
      },
      10_000,
    );
    expect(checkout.approvals[0]).toMatchObject({ status: 'approved', decidedBy: AUTH.username });
    const catalog = await detail('catalog');
    expect(catalog.approvals[0]).toMatchObject({ status: 'rejected' });
    expect(catalog.actions).toEqual([]);
    // The list tells each episode's course in one line.
    const home = (await axios.get(`${receiverUrl}/`, { auth: AUTH })).data as string;
    expect(home).toMatch(/firing → awaiting_approval \+[\d.]+ m?s → action succeeded \+[\d.]+ m?s/);
  });

  it("shows an episode's timeline from firing through the decision and the action", async () => {
    const episodes = (await axios.get(`${receiverUrl}/api/v1/episodes`, { auth: AUTH })).data.episodes as { id: number; labels: Record<string, string> }[];
    const id = episodes.find((e) => e.labels.service === 'checkout')!.id;
    await withPage(async (page, errors) => {
      await page.goto(`${receiverUrl}/episodes/${id}`);
      const items = await page.$$eval('#timeline li', (li) => li.map((x) => x.textContent ?? ''));
      expect(items[0]).toMatch(/alert started firing/);
      expect(items.join('\n')).toMatch(
        /episode opened[\s\S]*approval requested[\s\S]*approval approved by ops[\s\S]*action succeeded \(note-latency on checkout\)/,
      );
      await page.screenshot({ path: join(SHOTS, 'episode.png'), fullPage: true });
      expect(errors).toEqual([]);
    }, AUTH);
  });
});
