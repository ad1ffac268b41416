/**
 * Hostile label values (shell metacharacters, newlines, huge strings, unicode) reach actions only
 * as data: real exec steps write what they received to a file, real http steps hit a local echo
 * server, and both must see exactly the bytes of the label, while a canary file that an injected
 * command would create never appears.
 */
import fc from 'fast-check';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseReceiverConfig } from '../receiver-config';
import { startTarget } from '../../test/doubles/receiver-test-kit';
import { runExecStep } from './exec-step';
import { hasDotSegment, runHttpStep } from './http-step';

let dir: string;
let canary: string;
let echo: Awaited<ReturnType<typeof startTarget>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ae-hostile-'));
  canary = join(dir, 'canary');
  echo = await startTarget();
});
afterAll(async () => {
  await echo.stop();
  rmSync(dir, { recursive: true, force: true });
});

const hostile = (c: string) => [
  `$(touch ${c})`,
  `\`touch ${c}\``,
  `; touch ${c}; #`,
  `' "; touch ${c} #`,
  `a\ntouch ${c}\n`,
  `| touch ${c}`,
  `&& touch ${c}`,
  `../../etc/passwd`,
  `%00%2e%2e/${'x'.repeat(10)}`,
  `ünïcödé ✓ 🚀 \u202e`,
  'x'.repeat(16_000), // the longest label the webhook parser accepts
];

function steps() {
  const out = join(dir, 'out');
  const config = parseReceiverConfig(
    `auth: {type: none}
http_allowlist: [${echo.host}]
runbooks:
  - name: r
    match: ['alertname="A"']
    steps:
      - type: exec
        argv: [${JSON.stringify(process.execPath)}, -e, 'require("fs").writeFileSync(process.env.OUT, process.env.SERVICE)']
        env: {SERVICE: '{{ labels.service }}', OUT: ${JSON.stringify(out)}}
      - type: http
        url: 'http://${echo.host}/hook?service={{ labels.service }}&why={{ annotations.summary }}'
        body: '{"service": {{ labels.service }}}'
`,
    't.yml',
  );
  const [exec, http] = config.runbooks[0].steps;
  return { exec: exec as Extract<typeof exec, { type: 'exec' }>, http: http as Extract<typeof http, { type: 'http' }>, out, allowlist: config.http_allowlist };
}

async function checkValue(value: string): Promise<void> {
  const { exec, http, out, allowlist } = steps();
  const data = { labels: { alertname: 'A', service: value }, annotations: { summary: value } };
  const e = await runExecStep(exec, data);
  expect(e.ok).toBe(true);
  expect(readFileSync(out, 'utf8')).toBe(value.replaceAll('\0', '\uFFFD'));
  const before = echo.requests.length;
  const h = await runHttpStep(http, data, allowlist);
  if (encodeURIComponent(value).length * 2 > 12_000) {
    // Longer than an HTTP server accepts in a request line: the step fails, recorded with the status.
    expect(h).toMatchObject({ ok: false, detail: expect.stringMatching(/→ 431/) });
    expect(existsSync(canary)).toBe(false);
    return;
  }
  expect(h.ok).toBe(true);
  const req = echo.requests[before];
  const q = new URL(req.url, 'http://x').searchParams;
  const wellFormed = value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  expect(q.get('service')).toBe(wellFormed);
  expect(q.get('why')).toBe(wellFormed);
  expect([...q.keys()]).toEqual(['service', 'why']);
  expect(JSON.parse(req.body.toString('utf8'))).toEqual({ service: value });
  expect(existsSync(canary)).toBe(false);
}

describe('hostile label values reach actions only as data', () => {
  it.each(hostile('CANARY').map((v) => [v.length > 40 ? `${v.slice(0, 40)}…` : v, v]))('%j', async (_name, v) => {
    await checkValue(v.replaceAll('CANARY', canary));
  });

  it('for any string (property test with real processes and requests)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 300 }), async (v) => {
        await checkValue(v);
      }),
      { numRuns: 40 },
    );
  });

  it('refuses an http step where a label value would be a "." or ".." path segment', async () => {
    const config = parseReceiverConfig(
      `auth: {type: none}\nhttp_allowlist: [${echo.host}]\nrunbooks:\n  - name: r\n    match: ['alertname="A"']\n    steps:\n      - {type: http, url: 'http://${echo.host}/services/{{ labels.service }}/restart'}\n`,
      't.yml',
    );
    const http = config.runbooks[0].steps[0] as Extract<(typeof config.runbooks)[0]['steps'][0], { type: 'http' }>;
    const before = echo.requests.length;
    for (const value of ['..', '.']) {
      const r = await runHttpStep(http, { labels: { service: value }, annotations: {} }, config.http_allowlist);
      expect(r).toMatchObject({ ok: false, detail: expect.stringMatching(/path segment/) });
    }
    expect(echo.requests.length).toBe(before);
    // Dots inside a segment are a value like any other; an encoded dot is sent encoded, as text.
    const ok = await runHttpStep(http, { labels: { service: '..checkout..' }, annotations: {} }, config.http_allowlist);
    expect(ok.ok).toBe(true);
    expect(echo.requests[before].url).toBe('/services/..checkout../restart');
    expect((await runHttpStep(http, { labels: { service: '%2e%2E' }, annotations: {} }, config.http_allowlist)).ok).toBe(true);
    expect(echo.requests[before + 1].url).toBe('/services/%252e%252E/restart');
    expect(hasDotSegment('http://h/a/%2E%2e/b')).toBe(true);
  });

  it('refuses an http step whose rendered host is not allowlisted', async () => {
    const { http } = steps();
    const r = await runHttpStep(http, { labels: { service: 'x' }, annotations: {} }, ['127.0.0.1:1']);
    expect(r).toEqual({ ok: false, detail: `host ${echo.host} is not in http_allowlist` });
  });
});
