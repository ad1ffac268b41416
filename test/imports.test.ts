/**
 * DESIGN.md's import rules, checked on every import of every source and test file. A test may
 * import what its folder may, plus test/ (doubles and the e2e stack); test/ may import anything;
 * no shipped folder may import test/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const ROOT = join(__dirname, '..');
const FOLDERS = ['models', 'exporter', 'receiver', 'cli', 'common', 'demo', 'bench', 'test'];

/** Who may import whom (project folders only; npm packages are checked separately for models/). */
const ALLOWED: Record<string, string[]> = {
  models: ['models'],
  common: ['common'],
  exporter: ['exporter', 'models', 'common'],
  receiver: ['receiver', 'common'],
  demo: ['demo'],
  cli: ['cli', 'exporter', 'receiver', 'common', 'demo'],
  // demo/local-stack.ts starts the real Prometheus and Alertmanager (tests and bench:source use it).
  bench: ['bench', 'exporter', 'models', 'common', 'demo'],
  test: FOLDERS,
};

/** The folders a file may import from: its folder's, and test/ for a test. */
function allowedFor(file: string, folder: string): string[] {
  return file.endsWith('.test.ts') ? [...ALLOWED[folder], 'test'] : ALLOWED[folder];
}
/** models/ is pure: only numeric npm libraries, no Node APIs (its tests may also use fast-check). */
const MODELS_PACKAGES = ['simple-statistics'];
const MODELS_TEST_PACKAGES = [...MODELS_PACKAGES, 'fast-check'];

function sourceFiles(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(sourceFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(
    /(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm,
  ))
    found.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return found;
}

const files = FOLDERS.flatMap((f) => {
  try {
    return sourceFiles(join(ROOT, f));
  } catch {
    return [];
  }
});

describe('import rules', () => {
  it('finds the source and test files', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(files.filter((f) => f.endsWith('.test.ts')).length).toBeGreaterThan(20);
  });

  it('ships no test double: nothing outside test/ is named like one', () => {
    const doubles = files.filter((f) => !relative(ROOT, f).startsWith('test/') && /(fake|mock|stub|test-kit)[^/]*\.ts$/.test(f) && !f.endsWith('.test.ts'));
    expect(doubles.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('has no forbidden edge between folders', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = relative(ROOT, file).split('/')[0];
      for (const spec of imports(file)) {
        if (spec.startsWith('.')) {
          const to = relative(ROOT, resolve(dirname(file), spec)).split('/')[0];
          if (!allowedFor(file, from).includes(to)) violations.push(`${relative(ROOT, file)} imports ${spec} (${from} → ${to})`);
        } else if (from === 'models') {
          const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
          const allowed = file.endsWith('.test.ts') ? MODELS_TEST_PACKAGES : MODELS_PACKAGES;
          if (!allowed.includes(pkg)) violations.push(`${relative(ROOT, file)} imports ${spec}: models/ must stay pure`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it("keeps the exporter's stages apart: read/ needs no config (and so no models), publish/ only renders", () => {
    const stageOf = (file: string) => relative(join(ROOT, 'exporter'), file).split('/')[0];
    const inExporter = (file: string) => relative(ROOT, file).startsWith('exporter/');
    const resolveTs = (from: string, spec: string) => `${resolve(dirname(from), spec)}.ts`;
    const edges = (file: string) =>
      imports(file)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => resolveTs(file, spec));
    // read/ imports only read/ and common/, through every file it imports.
    const seen = new Set<string>();
    const queue = files.filter((f) => inExporter(f) && stageOf(f) === 'read' && !f.endsWith('.test.ts'));
    for (let f = queue.pop(); f; f = queue.pop()) {
      if (seen.has(f)) continue;
      seen.add(f);
      queue.push(...edges(f));
    }
    const reached = [...seen].map((f) => relative(ROOT, f)).filter((f) => !f.startsWith('exporter/read/') && !f.startsWith('common/'));
    expect(reached).toEqual([]);
    // publish/ renders what it is given: it never reads the source, analyses or backtests itself
    // (its tests may build a pipeline over an in-memory reader to have something to render).
    const publishing = files.filter((f) => inExporter(f) && stageOf(f) === 'publish' && !f.endsWith('.test.ts'));
    const reaching = publishing.flatMap((f) =>
      edges(f)
        .filter((to) => inExporter(to) && ['read', 'analyze', 'backtest'].includes(stageOf(to)))
        .map((to) => `${relative(ROOT, f)} imports ${relative(ROOT, to)}`),
    );
    expect(reaching).toEqual([]);
    expect(publishing.length).toBeGreaterThan(5);
    expect(seen.size).toBeGreaterThan(5);
  });

  it('keeps Node globals out of models/', () => {
    const offenders = files
      .filter((f) => relative(ROOT, f).startsWith('models/') && !f.endsWith('.test.ts'))
      .filter((f) => /\b(process|Buffer|require|__dirname|setTimeout|setInterval)\b/.test(readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')));
    expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
  });
});
