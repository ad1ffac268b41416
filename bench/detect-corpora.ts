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
  const args = [join(shared, 'detect', 'event-score.mjs'), '--data', c.data, '--results', results, '--json', ...c.scorerArgs];
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
    threshold: r.threshold,
  };
}

interface EventJson {
  threshold: number;
  f1: number;
  recall: number;
  precision: number;
  false_alarms_per_series_day: number;
  median_delay_rows: number | null;
}
