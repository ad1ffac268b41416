/**
 * npm run bench:nab: backtests every file of the NAB development subset (../shared/nab) with the
 * product's default config (one config for all files, a fresh model per file), then scores the
 * results twice with NAB's scorer: at threshold 1.000001 (the scorer counts score >= threshold,
 * our alerts fire on score > 1: what users get) and with the scorer's threshold sweep.
 * Prints both tables, then one JSON line with the normalised scores of the three profiles.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../common/logger';
import { backtestFiles } from '../exporter/backtest/backtest-files';
import { parseConfig } from '../exporter/config/config';

const NAB = process.env.NAB_DIR ?? join(__dirname, '..', '..', '..', 'shared', 'nab');
const PROFILES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const;

type ScorerJson = Record<string, { score: number; threshold: number | null }>;

function score(results: string, extra: string[]): { text: string; json: ScorerJson } {
  const args = [join(NAB, 'nab-score.mjs'), '--data', join(NAB, 'data'), '--labels', join(NAB, 'labels.json'), '--results', results, ...extra];
  const text = execFileSync(process.execPath, args, { encoding: 'utf8' });
  const raw = JSON.parse(execFileSync(process.execPath, [...args, '--json'], { encoding: 'utf8' })) as Record<string, unknown>;
  const profiles = (raw.profiles ?? raw) as Record<string, { score: number; threshold: number | null }>;
  const json: ScorerJson = {};
  for (const p of PROFILES) json[p] = { score: Number(profiles[p].score), threshold: profiles[p].threshold };
  return { text, json };
}

async function main(): Promise<void> {
  if (!existsSync(join(NAB, 'nab-score.mjs'))) throw new Error(`NAB subset not found at ${NAB} (set NAB_DIR)`);
  // The product's defaults: only the reader section is needed to make a config.
  const config = parseConfig('reader: {url: "http://127.0.0.1:9090", signals: {value: {query: value}}}\n', '(defaults)');
  const out = mkdtempSync(join(tmpdir(), 'nab-results-'));
  const started = Date.now();
  process.stderr.write(`bench:nab: backtesting ${join(NAB, 'data')} with the default config...\n`);
  const files = await backtestFiles(join(NAB, 'data'), out, config, undefined, silentLogger());
  process.stderr.write(`bench:nab: ${files.length} files, ${files.reduce((a, f) => a + f.rows, 0)} rows in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  const atOne = score(out, ['--threshold', '1.000001']);
  const sweep = score(out, []);
  process.stdout.write(`At the product's threshold (score > 1):\n${atOne.text}\nWith the threshold sweep:\n${sweep.text}\n`);
  const pick = (j: ScorerJson) => Object.fromEntries(PROFILES.map((p) => [p, Number(j[p].score.toFixed(2))]));
  process.stdout.write(
    `${JSON.stringify({ threshold_1: pick(atOne.json), sweep: pick(sweep.json), sweep_thresholds: Object.fromEntries(PROFILES.map((p) => [p, sweep.json[p].threshold])) })}\n`,
  );
  rmSync(out, { recursive: true, force: true });
}

main().catch((err) => {
  process.stderr.write(`bench:nab failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
