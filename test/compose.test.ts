/**
 * docker-compose.yml and the Dockerfile, checked without a Docker engine: mounts exist, ports are
 * unique, images pinned, every host name the configs use is a service, and Debian's docker-compose
 * (v1) validates the file offline.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { requireBinary } from './stack';

const ROOT = join(__dirname, '..');
interface Service {
  image?: string;
  build?: unknown;
  volumes?: string[];
  ports?: string[];
  environment?: Record<string, string>;
}
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;

describe('docker-compose.yml', () => {
  it('defines the whole stack', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'demo', 'exporter', 'grafana', 'prometheus', 'receiver']);
  });

  it('mounts only files and directories that exist, or named volumes it declares', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0];
        if (source.startsWith('.')) expect([name, source, existsSync(join(ROOT, source))]).toEqual([name, source, true]);
        else expect([name, source, source in compose.volumes]).toEqual([name, source, true]);
      }
    }
  });

  it('publishes every host port once', () => {
    const ports = Object.values(services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':')[0]));
    expect(new Set(ports).size).toBe(ports.length);
    expect(ports.sort()).toEqual(['10180', '10190', '10191', '3000', '9090', '9093']);
  });

  it('pins every image to a version', () => {
    for (const [name, s] of Object.entries(services)) {
      expect([name, s.image]).toEqual([name, expect.stringMatching(/^[a-z0-9./_-]+:v?\d+\.\d+\.\d+$/)]);
    }
    for (const line of readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('FROM '))) {
      expect(line).toMatch(/^FROM node:\d+\.\d+\.\d+-bookworm-slim( AS \w+)?$/);
    }
  });

  it('defines every host the configs name', () => {
    const texts = [
      readFileSync(join(ROOT, 'prometheus', 'prometheus.yml'), 'utf8'),
      readFileSync(join(ROOT, 'alertmanager', 'alertmanager.yml'), 'utf8'),
      readFileSync(join(ROOT, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'),
      JSON.stringify(services),
    ].join('\n');
    const hosts = new Set<string>();
    for (const m of texts.matchAll(/(?:https?:\/\/|targets: \[')([a-z][a-z0-9-]*):\d+/g)) hosts.add(m[1]);
    for (const m of texts.matchAll(/'([a-z][a-z0-9-]*):\d+'/g)) hosts.add(m[1]);
    hosts.delete('localhost');
    expect([...hosts].sort()).toEqual(['alertmanager', 'demo', 'exporter', 'prometheus', 'receiver']);
    for (const h of hosts) expect([h, h in services]).toEqual([h, true]);
  });

  it('runs the Node services as a non-root user with a healthcheck', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK /m);
    for (const name of ['demo', 'exporter', 'receiver'])
      expect([name, services[name].environment?.HEALTHCHECK_URL]).toEqual([name, expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//)]);
  });

  it('is valid for docker-compose config (Debian docker-compose 1.29, offline)', () => {
    const r = spawnSync(requireBinary('docker-compose', 'docker-compose'), ['-f', join(ROOT, 'docker-compose.yml'), 'config', '-q'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
