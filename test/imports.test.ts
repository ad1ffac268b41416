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
  for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/g))
    found.push(m[1] ?? m[2] ?? m[3]);
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

  it('keeps Node globals out of models/', () => {
    const offenders = files
      .filter((f) => relative(ROOT, f).startsWith('models/') && !f.endsWith('.test.ts'))
      .filter((f) => /\b(process|Buffer|require|__dirname|setTimeout|setInterval)\b/.test(readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')));
    expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
  });
});
