/**
 * The documentation stays true to the code: the README is read in five minutes, every link in
 * the README, ARCHITECTURE.md and docs/ leads somewhere (a file, and a heading when it names one),
 * every config key the schema takes is in the configuration reference, and every metric either
 * daemon publishes is in its reference.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { Registry } from 'prom-client';
import { METRIC } from '../common/vocabulary';
import { configSchema } from '../exporter/config/config-schema';
import { SelfMetrics } from '../exporter/publish/self-metrics';
import { ReceiverMetrics } from '../receiver/receiver-metrics';

const ROOT = join(__dirname, '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const DOCS = [
  'README.md',
  'ARCHITECTURE.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The text outside fenced code blocks, line by line (links in code are not links). */
function proseLines(text: string): [number, string][] {
  let fenced = false;
  const out: [number, string][] = [];
  text.split('\n').forEach((line, i) => {
    if (line.startsWith('```')) fenced = !fenced;
    else if (!fenced) out.push([i + 1, line]);
  });
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, line] of proseLines(text)) {
    const m = /^#{1,6}\s+(.*)$/.exec(line);
    if (!m) continue;
    const slug = m[1]
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}_\- ]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

type Schema = { _zod: { def: { type: string; innerType?: Schema; in?: Schema; out?: Schema; shape?: Record<string, Schema>; valueType?: Schema } } };

/** Every key path the config schema takes, three levels deep (`*` for a signal's name). */
function configKeys(s: Schema, path: string[] = [], out: string[][] = []): string[][] {
  let u = s;
  for (;;) {
    const d = u._zod.def;
    if (d.innerType) u = d.innerType;
    else if (d.type === 'pipe') u = d.in!._zod.def.type === 'transform' ? d.out! : d.in!;
    else break;
  }
  const d = u._zod.def;
  if (path.length >= 4) return out;
  if (d.type === 'object' && d.shape)
    for (const [k, v] of Object.entries(d.shape)) {
      out.push([...path, k]);
      configKeys(v, [...path, k], out);
    }
  if (d.type === 'record' && d.valueType) configKeys(d.valueType, [...path, '*'], out);
  return out;
}

describe('documentation', () => {
  it('keeps the README to a five-minute read: at most 300 lines, with both commands and init', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThanOrEqual(300);
    expect(readme).toContain('npm run demo');
    expect(readme).toContain('npm test');
    expect(readme).toContain('init --source');
  });

  it('has no broken link: every relative link names a file that exists, and a heading in it when it has an anchor', () => {
    const broken: string[] = [];
    for (const file of DOCS) {
      for (const [n, line] of proseLines(read(file))) {
        for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) {
          const target = m[1];
          if (/^[a-z]+:/.test(target)) continue;
          const [path, anchor] = target.split('#');
          const to = path ? normalize(join(dirname(file), path)) : file;
          if (!existsSync(join(ROOT, to))) broken.push(`${file}:${n}: ${target}: no ${to}`);
          else if (anchor && to.endsWith('.md') && !anchors(read(to)).has(anchor)) broken.push(`${file}:${n}: ${target}: no heading #${anchor} in ${to}`);
        }
      }
    }
    expect(broken).toEqual([]);
    expect(DOCS.length).toBeGreaterThan(10);
  });

  it('names every config key the schema takes in docs/configuration.md', () => {
    const reference = read('docs/configuration.md');
    const keys = configKeys(configSchema as unknown as Schema);
    expect(keys.length).toBeGreaterThan(100);
    // A key is documented where it stands in code: `key`, `section.key`, or inside a `{key: …}` example.
    const spans = proseLines(reference).flatMap(([, line]) => [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]));
    const fenced = reference.split('```').filter((_, i) => i % 2 === 1);
    const code = [...spans, ...fenced].join('\n');
    const missing = keys.filter((k) => !new RegExp(`(^|[^A-Za-z0-9_])${k[k.length - 1]}([^A-Za-z0-9_]|$)`, 'm').test(code)).map((k) => k.join('.'));
    expect(missing).toEqual([]);
  });

  it('names every metric the exporter and the receiver publish in their references', () => {
    const exporterRef = read('docs/metrics.md');
    const selfRegistry = new Registry();
    new SelfMetrics(selfRegistry, 'v', ['latency'], 60, { latency: 'seconds' });
    const exporterNames = [...Object.values(METRIC), ...selfRegistry.getMetricsAsArray().map((m) => m.name)];
    expect(exporterNames.filter((name) => !exporterRef.includes(`\`${name}`))).toEqual([]);

    const receiverRef = read('docs/receiver.md');
    const receiverRegistry = new Registry();
    new ReceiverMetrics(receiverRegistry, () => 0);
    const receiverNames = receiverRegistry.getMetricsAsArray().map((m) => m.name);
    expect(receiverNames.length).toBeGreaterThan(5);
    expect(receiverNames.filter((name) => !receiverRef.includes(name.replace(/^remediation_/, '')))).toEqual([]);
  });
});
