/** Backtest: the CLI over CSV files gives exactly the live pipeline's scores, and bad files fail clearly. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../common/logger';
import { parseConfig } from '../exporter/config/config';
import { parseCsvSeries } from '../exporter/backtest/csv-series';
import { timeAxis } from '../exporter/backtest/backtest';
import { MemoryReader } from '../exporter/read/memory-reader';
import { ScoringPipeline } from '../exporter/cycle/scoring-pipeline';

const CLI = join(__dirname, '..', 'dist', 'cli', 'main.js');
const STEP = 300;
const START = Date.UTC(2024, 2, 1) / 1000;

function iso(t: number): string {
  return new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

function makeCsv(rows: number, spikeAt: number, repeatAt?: number): string {
  const lines = ['timestamp,value'];
  for (let i = 0; i < rows; i++) {
    const t = START + (repeatAt !== undefined && i > repeatAt ? i - 1 : i) * STEP;
    const v = 50 + 10 * Math.sin((2 * Math.PI * i) / 288) + ((i * 7919) % 13) / 3 + (i === spikeAt ? 80 : 0);
    lines.push(`${iso(t)},${v.toFixed(3)}`);
  }
  return lines.join('\n') + '\n';
}

function backtest(args: string[]) {
  return spawnSync(process.execPath, [CLI, 'backtest', ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' }, timeout: 60_000 });
}

function readScores(file: string): number[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split(',')[2]));
}

describe('anomaly-exporter backtest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ae-bt-'));
  const input = join(dir, 'in');
  const output = join(dir, 'out');
  mkdirSync(join(input, 'sub'), { recursive: true });
  const csv = makeCsv(900, 700, 400);
  writeFileSync(join(input, 'sub', 'series.csv'), csv);

  it('scores a directory of CSVs, one output per input at the same relative path, a row per row', () => {
    const r = backtest(['--input', input, '--output', output]);
    expect(r.stderr).toContain('repeated timestamps or a step back');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/backtest: 1 files, 900 rows/);
    const out = readFileSync(join(output, 'sub', 'series.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(out[0]).toBe('timestamp,value,anomaly_score,expected,lower,upper');
    expect(out).toHaveLength(901);
    // Same timestamps, same order, including the repeated one.
    expect(out.slice(1).map((l) => l.split(',')[0])).toEqual(
      csv
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[0]),
    );
    const scores = readScores(join(output, 'sub', 'series.csv'));
    expect(scores[700]).toBeGreaterThan(1);
    expect(scores.slice(0, 30).every((s) => s === 0)).toBe(true); // warm-up
  });

  it('gives exactly the scores of the live pipeline run cycle by cycle over the same rows', async () => {
    const scores = readScores(join(output, 'sub', 'series.csv'));
    const series = parseCsvSeries(csv, 'series.csv');
    const axis = timeAxis(series.times, STEP);
    // The repeated row went one step after its twin; later rows follow on the grid.
    expect(axis[401] - axis[400]).toBe(STEP);
    const reader = new MemoryReader();
    reader.set('q', [{ labels: {}, timestamps: axis, values: series.values }]);
    const config = parseConfig(
      'reader: {url: "http://x:1", group_by: [], signals: {value: {query: q}}}\nscheduler: {step: 5m, infer_every: 5m}\n',
      'direct.yml',
    );
    const pipeline = new ScoringPipeline(config, reader, silentLogger());
    const direct: number[] = [];
    for (let i = 0; i < axis.length; i++) {
      await pipeline.runOnce(new Date(axis[i] * 1000), new AbortController().signal);
      direct.push(pipeline.snapshot.series[0]?.ensemble ?? 0);
    }
    expect(scores).toEqual(direct.map((v) => Number(v.toPrecision(10))));
  });

  const bad: [string, string, RegExp][] = [
    ['a missing column', 'time,value\n2024-01-01 00:00:00,1\n', /bad\.csv:1: header must name the columns timestamp and value/],
    ['an unparseable timestamp', 'timestamp,value\n2024-01-01 00:00:00,1\nyesterday,2\n', /bad\.csv:3: cannot parse timestamp "yesterday"/],
    ['a non-numeric value', 'timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,abc\n', /bad\.csv:3: value "abc" is not a finite number/],
    ['a short row', 'timestamp,value\n2024-01-01 00:00:00\n', /bad\.csv:2: expected 2 columns/],
  ];
  it.each(bad)('stops with exit 2 on %s, naming the file and the line', (_name, text, pattern) => {
    const file = join(dir, 'bad.csv');
    writeFileSync(file, text);
    const r = backtest(['--input', file, '--output', join(dir, 'bad-out')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(pattern);
  });

  it('writes a self-contained HTML report with a chart per series', () => {
    const report = join(dir, 'report.html');
    const r = backtest(['--input', input, '--output', join(dir, 'out-report'), '--report', report]);
    expect(r.status).toBe(0);
    const html = readFileSync(report, 'utf8');
    // uPlot inlined, the data embedded, nothing fetched from anywhere.
    expect(html).toContain('/*! https://github.com/leeoniya/uPlot');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
    expect(html).toContain('<section id="s0"><h2>sub/series.csv</h2>');
    const data = JSON.parse(/const DATA = (.*);\n/.exec(html)![1]) as { name: string; t: number[]; score: number[]; flagged: (number | null)[] }[];
    expect(data[0].t).toHaveLength(900);
    expect(data[0].flagged[700]).not.toBeNull();
    expect(data[0].flagged.filter((v) => v !== null).length).toBe(data[0].score.filter((v) => v > 1).length);
  });

  it('requires --input and --output', () => {
    const r = backtest(['--input', input]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--input and --output are required');
  });

  it('names a missing --input with exit 2, not a raw ENOENT', () => {
    const r = backtest(['--input', '/nonexistent/history', '--output', join(tmpdir(), 'ae-unused')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--input /nonexistent/history: no such file or directory');
    expect(r.stderr).not.toContain('ENOENT');
  });

  it.each([
    ['a thousands separator in quotes', 'timestamp,value\n2026-01-01 00:00,1\n2026-01-01 00:01,"1,234"\n', ':3: value "1,234" is not a finite number'],
    ['an extra column on a row', 'timestamp,value\n2026-01-01 00:00,1\n2026-01-01 00:01,2,3\n', ':3: expected 2 columns (timestamp, value), found 3'],
    ['a month 13 and a day 45', 'timestamp,value\n2026-01-01 00:00,1\n2026-13-45 00:00,2\n', ':3: cannot parse timestamp "2026-13-45 00:00"'],
    ['February 30 in RFC 3339', 'timestamp,value\n2026-01-01T00:00:00Z,1\n2026-02-30T00:00:00Z,2\n', ':3: cannot parse timestamp "2026-02-30T00:00:00Z"'],
  ])('refuses %s, naming the file and the line', (_what, text, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'ae-badcsv-'));
    const file = join(dir, 'bad.csv');
    writeFileSync(file, text);
    const r = backtest(['--input', file, '--output', join(dir, 'out')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${file}${message}`);
  });
});
