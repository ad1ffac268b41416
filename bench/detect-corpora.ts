/**
 * The labelled dev corpora of the detection bench and their scorers (both in ../shared): NAB's
 * own scorer for the NAB subset, the on-call event scorer for Cloud Monitoring and ASD. Scores are
 * read back as JSON; a detector's results are CSVs with `timestamp,anomaly_score` per data row.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { csvInputs } from '../exporter/backtest/backtest-files';

export interface Corpus {
  name: string;
  /** Folder of labelled CSVs (for NAB: unlabelled, with labels.json beside). */
  data: string;
  scorer: 'nab' | 'event';
  /** Extra scorer arguments (ASD: only its labelled test period counts). */
  scorerArgs: string[];
}

export function corpora(shared: string): Corpus[] {
  return [
    { name: 'nab', data: join(shared, 'nab', 'data'), scorer: 'nab', scorerArgs: [] },
    { name: 'cloud-monitoring', data: join(shared, 'detect', 'cloud-monitoring', 'series'), scorer: 'event', scorerArgs: [] },
    { name: 'asd', data: join(shared, 'detect', 'asd', 'series'), scorer: 'event', scorerArgs: ['--score-from', '1612051200'] },
    // Every row is labelled: the whole file is scored after the scorer's 15 % warm-up.
    { name: 'aiops-kpi', data: join(shared, 'detect', 'aiops-kpi', 'series'), scorer: 'event', scorerArgs: [] },
  ];
}

/** What a corpus' scorer says of one detector's results at one threshold. */
export interface CorpusScore {
  /** NAB standard profile score (0 null, 100 perfect); event F1 × 100 on the event corpora: one scale for the summary. */
  headline: number;
  f1?: number;
  recall?: number;
  precision?: number;
  falseAlarmsPerSeriesDay?: number;
  medianDelayRows?: number | null;
  /** Event counts behind the rates, for totals across corpora. */
  events?: number;
  caught?: number;
  falseAlarms?: number;
  nabStandard?: number;
  nabLowFp?: number;
  nabLowFn?: number;
}

/** ASD's servers as groups: each file holds one server's 19 metrics as columns, labelled per server. */
export function machinesCorpus(shared: string): Corpus {
  return { name: 'asd-machines', data: join(shared, 'detect', 'asd', 'machines'), scorer: 'event', scorerArgs: ['--score-from', '1612051200'] };
}

/**
 * Copies of the corpus' CSVs without their `label` column: what detectors are given, so no
 * detector can read a label even by accident.
 */
export function unlabelled(c: Corpus, into: string): string {
  for (const { file, rel } of csvInputs(c.data)) {
    const lines = readFileSync(file, 'utf8').split(/\r?\n/);
    const keep = lines[0].split(',').flatMap((h, i) => (h.trim() === 'label' ? [] : [i]));
    const out: string[] = [];
    for (const line of lines) {
      if (!line) continue;
      const cells = line.split(',');
      out.push(keep.map((i) => cells[i]).join(','));
    }
    mkdirSync(dirname(join(into, rel)), { recursive: true });
    writeFileSync(join(into, rel), out.join('\n') + '\n');
  }
  return into;
}

/** NAB's `YYYY-MM-DD HH:MM:SS` (UTC) or unix seconds, as unix seconds. */
const unixSeconds = (t: string) => (/^\d+(\.\d+)?$/.test(t.trim()) ? Number(t) : Date.parse(`${t.trim().replace(' ', 'T')}Z`) / 1000);

/**
 * NAB in the event scorer's shape, so every corpus is also counted as on-call counts: each file
 * with `timestamp,value,label` (unix seconds; label 1 inside NAB's anomaly windows). A window is
 * one incident; flagged rows outside every window are false pages.
 */
export function nabAsEvents(shared: string, into: string): string {
  const nab = join(shared, 'nab');
  const windows = JSON.parse(readFileSync(join(nab, 'labels.json'), 'utf8')) as Record<string, [string, string][]>;
  for (const { file, rel } of csvInputs(join(nab, 'data'))) {
    const spans = (windows[rel] ?? []).map(([a, b]) => [unixSeconds(a), unixSeconds(b)]);
    const lines = readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .filter((l) => l.length > 0);
    const out = ['timestamp,value,label'];
    for (const line of lines.slice(1)) {
      const [t, v] = line.split(',');
      const ts = unixSeconds(t);
      out.push(`${ts},${v},${spans.some(([a, b]) => ts >= a && ts <= b) ? 1 : 0}`);
    }
    mkdirSync(dirname(join(into, rel)), { recursive: true });
    writeFileSync(join(into, rel), out.join('\n') + '\n');
  }
  return into;
}

/** A detector's NAB results with unix-second timestamps, to score them against nabAsEvents' copies. */
export function resultsInUnixSeconds(results: string, into: string): string {
  for (const { file, rel } of csvInputs(results)) {
    const lines = readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .filter((l) => l.length > 0);
    const head = lines[0].split(',');
    const ti = head.indexOf('timestamp');
    const si = head.indexOf('anomaly_score');
    const out = ['timestamp,anomaly_score'];
    for (const line of lines.slice(1)) {
      const cells = line.split(',');
      out.push(`${unixSeconds(cells[ti])},${cells[si]}`);
    }
    mkdirSync(dirname(join(into, rel)), { recursive: true });
    writeFileSync(join(into, rel), out.join('\n') + '\n');
  }
  return into;
}

/** Scored series-days of a labelled folder, as the event scorer counts them (after its warm-up, or from `scoreFrom`). */
export function seriesDays(data: string, scoreFrom?: number): number {
  let days = 0;
  for (const { file } of csvInputs(data)) {
    const lines = readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .filter((l) => l.length > 0);
    const ts = lines.slice(1).map((l) => Number(l.slice(0, l.indexOf(','))));
    let from = Math.floor(ts.length * 0.15);
    if (scoreFrom !== undefined) {
      from = 0;
      while (from < ts.length && ts[from] < scoreFrom) from++;
    }
    if (from < ts.length) days += Math.max(0, (ts[ts.length - 1] - ts[from]) / 86400);
  }
  return days;
}

/** Event scores of `results` against the labelled folder `data` (the event scorer's JSON, at `threshold` or swept). */
export function eventScore(
  data: string,
  results: string,
  scorerArgs: string[],
  shared: string,
  threshold: number,
  sweep = false,
): CorpusScore & { threshold: number } {
  const args = [join(shared, 'detect', 'event-score.mjs'), '--data', data, '--results', results, '--json', ...scorerArgs];
  args.push(...(sweep ? ['--sweep'] : ['--threshold', String(threshold)]));
  const raw = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 })) as Record<string, EventJson>;
  const r = sweep ? raw.best_f1 : raw.fixed;
  return {
    headline: 100 * r.f1,
    f1: r.f1,
    recall: r.recall,
    precision: r.precision,
    falseAlarmsPerSeriesDay: r.false_alarms_per_series_day,
    medianDelayRows: r.median_delay_rows,
    events: r.events,
    caught: r.caught,
    falseAlarms: r.false_alarms,
    threshold: r.threshold,
  };
}

/** Scores results at `threshold` (alarm when score > threshold), or at the scorer's best threshold with `sweep`. */
export function scoreCorpus(c: Corpus, shared: string, results: string, threshold: number, sweep = false): CorpusScore & { threshold: number } {
  if (c.scorer === 'nab') {
    const nab = join(shared, 'nab');
    const args = [join(nab, 'nab-score.mjs'), '--data', join(nab, 'data'), '--labels', join(nab, 'labels.json'), '--results', results, '--json'];
    // NAB counts score >= threshold; the product alarms on score > threshold.
    if (!sweep) args.push('--threshold', String(threshold + 1e-6));
    const raw = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 })) as Record<string, unknown>;
    const p = (raw.profiles ?? raw) as Record<string, { score: number; threshold: number | null }>;
    const standard = Number(p.standard.score);
    return {
      headline: standard,
      nabStandard: standard,
      nabLowFp: Number(p.reward_low_FP_rate.score),
      nabLowFn: Number(p.reward_low_FN_rate.score),
      threshold: sweep ? Number(p.standard.threshold ?? Infinity) : threshold,
    };
  }
  return eventScore(c.data, results, c.scorerArgs, shared, threshold, sweep);
}

interface EventJson {
  threshold: number;
  f1: number;
  recall: number;
  precision: number;
  false_alarms_per_series_day: number;
  median_delay_rows: number | null;
  events?: number;
  caught?: number;
  false_alarms?: number;
}
