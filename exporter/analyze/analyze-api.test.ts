/** The Analyse API's guard on typed PromQL: off by default when the reader carries credentials. */
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import axios from 'axios';
import express from 'express';
import { silentLogger } from '../../common/logger';
import { parseConfig } from '../config/config';
import { MemoryReader } from '../read/memory-reader';
import { analyzeRouter, anyQueryAllowed } from './analyze-api';

const configWith = (extra: string, server = '') =>
  parseConfig(
    `reader:
  url: http://unused:9090
${extra}  signals:
    latency: {query: lat}
scheduler: {step: 1m}
${server}`,
    't.yml',
  );

async function serve(config: ReturnType<typeof configWith>): Promise<{ url: string; close: () => void }> {
  const reader = new MemoryReader();
  const now = Math.floor(Date.now() / 60_000) * 60;
  const ts = Float64Array.from({ length: 30 }, (_, i) => now - (29 - i) * 60);
  reader.set('lat', [{ labels: { service: 'a' }, timestamps: ts, values: Float64Array.from(ts, (_, i) => 0.1 + 0.001 * (i % 3)) }]);
  const app = express().use(analyzeRouter({ config: () => config, reader: () => reader, log: silentLogger() }));
  const server: Server = await new Promise((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

const range = { from: new Date(Date.now() - 3600_000).toISOString(), to: new Date().toISOString() };

describe('typed PromQL on the Analyse API', () => {
  it('is allowed by default when the reader sends no credentials, refused when it does', () => {
    expect(anyQueryAllowed(configWith(''))).toBe(true);
    expect(anyQueryAllowed(configWith('  headers: {X-Scope-OrgID: tenant-1}\n'))).toBe(false);
    expect(anyQueryAllowed(configWith('  auth: {bearer_token_env: TOKEN}\n'))).toBe(false);
    expect(anyQueryAllowed(configWith('  headers: {X-Scope-OrgID: tenant-1}\n', 'server: {analyze_any_query: true}\n'))).toBe(true);
    expect(anyQueryAllowed(configWith('', 'server: {analyze_any_query: false}\n'))).toBe(false);
  });

  it('answers 400 with the reason for a typed query when off, and still analyses configured signals', async () => {
    const s = await serve(configWith('  headers: {X-Scope-OrgID: tenant-1}\n'));
    try {
      const typed = await axios.post(`${s.url}/api/v1/analyze`, { query: 'up', ...range }, { validateStatus: () => true });
      expect(typed.status).toBe(400);
      expect(typed.data.error).toMatch(/typed queries are off here/);
      const signal = await axios.post(`${s.url}/api/v1/analyze`, { signal: 'latency', ...range }, { validateStatus: () => true, responseType: 'text' });
      expect(signal.status).toBe(200);
      expect((signal.data as string).trim().split('\n').pop()).toMatch(/"type":"done","series":1/);
    } finally {
      s.close();
    }
  });
});
