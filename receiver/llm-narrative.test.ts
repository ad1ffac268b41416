/**
 * narrate() against a local HTTP server that speaks the OpenAI chat-completions format: the
 * request it sends, retries on 5xx and timeouts, no retry on 4xx, garbage answers, and a key that
 * never leaks into an error.
 */
import http, { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { IncidentAnalysis } from './incident-analysis';
import { LlmConfig, narrate, SYSTEM_PROMPT } from './llm-narrative';

type Reply = { status: number; body: string; delayMs?: number };
let server: Server;
let url: string;
let replies: Reply[] = [];
const received: { path: string; headers: http.IncomingHttpHeaders; body: Record<string, unknown> }[] = [];

const ok = (text: string): Reply => ({
  status: 200,
  body: JSON.stringify({
    id: 'c1',
    object: 'chat.completion',
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
  }),
});

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (d) => (data += d));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(data || '{}') });
      const r = replies.shift() ?? { status: 500, body: '{"error":{"message":"no reply queued"}}' };
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(r.status, { 'Content-Type': 'application/json' }).end(r.body);
      }, r.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(
  () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
);
beforeEach(() => {
  replies = [];
  received.length = 0;
});

const analysis = {
  episode_id: 3,
  summary: 'checkout: latency moved first.',
  signals: [{ signal: 'latency', onset: null, series: { ts: [1, 2], value: [1, 2], score: [0, 2] } }],
} as unknown as IncidentAnalysis;
const config = (over: Partial<LlmConfig> = {}): LlmConfig => ({ url, model: 'llama3.1', timeout: 500, retries: 2, max_tokens: 300, ...over });
const noSleep = async () => undefined;

describe('LLM narrative (OpenAI-compatible chat endpoint)', () => {
  it('sends a structured prompt (system instructions, the analysis without chart series) with the key as a bearer token, and returns the answer', async () => {
    process.env.TEST_LLM_KEY = 'sk-test-123';
    replies = [ok('Latency rose first; check the database.')];
    const n = await narrate(config({ api_key: { env: 'TEST_LLM_KEY' } }), analysis, noSleep);
    expect(n).toEqual({ status: 'ok', model: 'llama3.1', text: 'Latency rose first; check the database.', attempts: 1 });
    const req = received[0];
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe('Bearer sk-test-123');
    expect(req.body).toMatchObject({ model: 'llama3.1', temperature: 0, max_tokens: 300 });
    const messages = req.body.messages as { role: string; content: string }[];
    expect(messages[0]).toEqual({ role: 'system', content: SYSTEM_PROMPT });
    const sent = JSON.parse(messages[1].content);
    expect(sent).toMatchObject({ episode_id: 3, summary: 'checkout: latency moved first.', signals: [{ signal: 'latency' }] });
    expect(sent.signals[0].series).toBeUndefined();
  });

  it('retries a 500 and a timeout, then succeeds', async () => {
    replies = [{ status: 500, body: '{"error":{"message":"overloaded"}}' }, { ...ok('late'), delayMs: 2000 }, ok('third time')];
    const n = await narrate(config(), analysis, noSleep);
    expect(n).toEqual({ status: 'ok', model: 'llama3.1', text: 'third time', attempts: 3 });
  });

  it('fails clearly after its retries, and does not retry a 4xx', async () => {
    replies = [
      { status: 503, body: '{"error":{"message":"busy"}}' },
      { status: 503, body: '{}' },
      { status: 502, body: 'bad gateway' },
    ];
    const n = await narrate(config(), analysis, noSleep);
    expect(n).toEqual({ status: 'failed', model: 'llama3.1', error: 'HTTP 502', attempts: 3 });
    replies = [{ status: 404, body: '{"error":{"message":"model \\"nope\\" not found"}}' }];
    const m = await narrate(config({ model: 'nope' }), analysis, noSleep);
    expect(m).toEqual({ status: 'failed', model: 'nope', error: 'HTTP 404: model "nope" not found', attempts: 1 });
    expect(received).toHaveLength(4);
  });

  it('treats garbage and empty answers as failures', async () => {
    replies = [
      { status: 200, body: 'not json at all' },
      { status: 200, body: '{"choices":[]}' },
      { status: 200, body: JSON.stringify({ choices: [{ message: { content: '  ' } }] }) },
    ];
    const n = await narrate(config(), analysis, noSleep);
    expect(n).toMatchObject({ status: 'failed', error: 'HTTP 200: answer without choices[0].message.content', attempts: 3 });
  });

  it('times out and says so; a missing key is a failure before any request', async () => {
    replies = [{ ...ok('x'), delayMs: 2000 }];
    const n = await narrate(config({ retries: 0, timeout: 200 }), analysis, noSleep);
    expect(n).toMatchObject({ status: 'failed', attempts: 1 });
    expect((n as { error: string }).error).toMatch(/timeout of 200ms exceeded/);
    delete process.env.TEST_LLM_MISSING;
    const k = await narrate(config({ api_key: { env: 'TEST_LLM_MISSING' } }), analysis, noSleep);
    expect(k).toEqual({ status: 'failed', model: 'llama3.1', error: 'environment variable TEST_LLM_MISSING is not set', attempts: 0 });
  });
});
