/**
 * npm run bench:detect: the product's default config on four labelled dev corpora (NAB subset,
 * Cloud Monitoring, ASD, AIOps KPI), side by side with the hand-written 1-day z-score computed in the same
 * run, each scored by the corpus' own scorer. Detectors get copies of the data without labels.
 *
 * Prints per corpus the product at its threshold (score > 1) and at its best threshold, the
 * reference at 3 σ and at its best; then every corpus counted as on-call counts (recall,
 * precision, F1, false pages per series-day, median delay; NAB's windows as incidents); then a
 * leave-one-corpus-out view: the alert threshold chosen on the others, reported on the one left
 * out. Then one JSON object, and last one line: false pages per 1,000 series-days and the share of
 * incidents caught across all corpora.
 *
 * SHARED_DIR (default ../shared beside the checkout) holds the corpora; BENCH_DETECT_CONFIG names a
 * YAML file of config sections to try instead of the defaults; BENCH_DETECT_KEEP and
 * BENCH_DETECT_ONLY below.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { silentLogger } from '../common/logger';
import { backtestFiles, csvInputs } from '../exporter/backtest/backtest-files';
import { readCsvSeries } from '../exporter/backtest/csv-series';
import { parseConfig } from '../exporter/config/config';
import {
  Corpus,
  corpora,
  CorpusScore,
  eventScore,
  machinesCorpus,
  nabAsEvents,
  resultsInUnixSeconds,
  scoreCorpus,
  seriesDays,
  unlabelled,
} from './detect-corpora';
import { leaveOneOut, LeaveOneOut } from './leave-one-out';
import { referenceZScore } from './reference-zscore';
import { SimulatedOnCall } from './simulated-on-call';

const SHARED = process.env.SHARED_DIR ?? join(__dirname, '..', '..', '..', 'shared');
/** BENCH_DETECT_KEEP=DIR keeps each corpus' scores (DIR/<corpus>/{product,reference}) for a look afterwards. */
const KEEP = process.env.BENCH_DETECT_KEEP;
/** BENCH_DETECT_ONLY=nab,asd runs only those corpora and skips the group table: for quick looks, never for a figure quoted. */
const ONLY = process.env.BENCH_DETECT_ONLY?.split(',').filter(Boolean);
/** BENCH_DETECT_FEEDBACK=0 skips the "with feedback" run (a simulated on-call marking each false page once). */
const FEEDBACK = process.env.BENCH_DETECT_FEEDBACK !== '0';
/** The alert thresholds tried for the leave-one-corpus-out view (the reference's K is 3 × threshold). */
const GRID = [0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 3];
/** The reference's figures in ../shared/detect/README.md (event F1 at K = 3 / at its best threshold). */
const REFERENCE_README: Record<string, [number, number]> = { 'cloud-monitoring': [0.28, 0.498], asd: [0.075, 0.103] };

type Detector = 'product' | 'reference';

interface CorpusResult {
  corpus: string;
  files: number;
  rows: number;
  product: CorpusScore & { threshold: number };
  productBest: CorpusScore & { threshold: number };
  reference: CorpusScore & { threshold: number };
  referenceBest: CorpusScore & { threshold: number };
  /** Headline score per detector at each GRID threshold. */
  grid: Record<Detector, number[]>;
  /** Counted as on-call counts (NAB's windows as incidents), at threshold 1 (the reference at 3 σ). */
  events: Record<Detector, CorpusScore>;
  seriesDays: number;
  /** The product again with a simulated on-call who marks each false page once (on-call counting; NAB's standard score). */
  feedback?: { events: CorpusScore; marks: number; nabStandard?: number };
}

const log = (text: string) => process.stderr.write(`bench:detect: ${text}\n`);

/**
 * The config every corpus is backtested with: the product's defaults, or with BENCH_DETECT_CONFIG
 * a YAML file of other top-level sections (models, ensemble, scheduler) to judge a candidate
 * default on all corpora at once.
 */
const DEFAULTS =
  'reader: {url: "http://127.0.0.1:9090", signals: {value: {query: value}}}\n' +
  (process.env.BENCH_DETECT_CONFIG ? readFileSync(process.env.BENCH_DETECT_CONFIG, 'utf8') : '');

/**
 * With BENCH_DETECT_MODELS=1: what each model adds: each detector alone
 * as the alerting score (its own score, unscaled), same everything else.
 */
const VARIANTS: { name: string; yaml: string }[] = [
  { name: 'pattern alone', yaml: 'ensemble: {models: [pattern]}\n' },
  { name: 'zscore alone', yaml: 'ensemble: {models: [zscore]}\n' },
  // Off by default: enabled here beside the default models, alone in the alerting score.
  { name: 'mad alone', yaml: 'models: {seasonal: {}, mad: {}}\nensemble: {models: [mad]}\n' },
  { name: 'isolation_forest alone', yaml: 'models: {seasonal: {}, isolation_forest: {}}\nensemble: {models: [isolation_forest]}\n' },
  { name: 'jump alone', yaml: 'ensemble: {models: [jump]}\n' },
];

/** The product's headline on a corpus at threshold 1 and at its best, for one config. */
async function productOnly(c: Corpus, work: string, data: string, yaml: string, tag: string): Promise<{ atOne: number; best: number }> {
  const out = join(work, c.name, `variant-${tag}`);
  await backtestFiles(data, out, parseConfig(DEFAULTS + yaml, '(variant)'), undefined, silentLogger());
  const r = { atOne: scoreCorpus(c, SHARED, out, 1).headline, best: scoreCorpus(c, SHARED, out, 1, true).headline };
  rmSync(out, { recursive: true, force: true });
  return r;
}

async function runCorpus(c: Corpus, work: string): Promise<CorpusResult> {
  const data = unlabelled(c, join(work, c.name, 'data'));
  const productOut = join(work, c.name, 'product');
  const referenceOut = join(work, c.name, 'reference');
  const config = parseConfig(DEFAULTS, '(defaults)');
  const started = Date.now();
  let lastReport = 0;
  const files = await backtestFiles(data, productOut, config, undefined, silentLogger(), (k, n, rel) => {
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      log(`${c.name}: file ${k + 1}/${n} ${rel}`);
    }
  });
  const rows = files.reduce((a, f) => a + f.rows, 0);
  log(`${c.name}: ${files.length} files, ${rows} rows backtested in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const { file, rel } of csvInputs(data)) {
    const s = readCsvSeries(file);
    const score = referenceZScore(s.times, s.values, 3);
    mkdirSync(dirname(join(referenceOut, rel)), { recursive: true });
    writeFileSync(join(referenceOut, rel), `timestamp,anomaly_score\n${s.timestampText.map((t, i) => `${t},${score[i]}`).join('\n')}\n`);
  }
  const out = (d: Detector) => (d === 'product' ? productOut : referenceOut);
  const grid = { product: [] as number[], reference: [] as number[] };
  for (const d of ['product', 'reference'] as const) for (const t of GRID) grid[d].push(scoreCorpus(c, SHARED, out(d), t).headline);
  if (KEEP) {
    for (const d of ['product', 'reference'] as const) {
      rmSync(join(KEEP, c.name, d), { recursive: true, force: true });
      cpSync(out(d), join(KEEP, c.name, d), { recursive: true });
    }
  }
  const product = scoreCorpus(c, SHARED, productOut, 1);
  const reference = scoreCorpus(c, SHARED, referenceOut, 1);
  let events = { product, reference };
  let days: number;
  if (c.scorer === 'nab') {
    const labelled = nabAsEvents(SHARED, join(work, c.name, 'labelled'));
    const asEvents = (d: Detector) => eventScore(labelled, resultsInUnixSeconds(out(d), join(work, c.name, `${d}-unix`)), [], SHARED, 1);
    events = { product: asEvents('product'), reference: asEvents('reference') };
    days = seriesDays(labelled);
  } else {
    const from = c.scorerArgs.indexOf('--score-from');
    days = seriesDays(c.data, from >= 0 ? Number(c.scorerArgs[from + 1]) : undefined);
  }
  const labelled = c.scorer === 'nab' ? join(work, c.name, 'labelled') : c.data;
  const feedback = FEEDBACK ? await withFeedback(c, work, data, labelled) : undefined;
  return {
    feedback,
    events,
    seriesDays: days,
    corpus: c.name,
    files: files.length,
    rows,
    product,
    productBest: scoreCorpus(c, SHARED, productOut, 1, true),
    reference,
    referenceBest: scoreCorpus(c, SHARED, referenceOut, 1, true),
    grid,
  };
}

/**
 * The product with a simulated on-call (simulated-on-call.ts) who answers each false page once, at
 * its first page, with a "not an anomaly" mark over that run: what operator feedback is worth.
 */
async function withFeedback(c: Corpus, work: string, data: string, labelled: string): Promise<CorpusResult['feedback']> {
  const out = join(work, c.name, 'product-feedback');
  const from = c.scorerArgs.indexOf('--score-from');
  const scoreFrom = from >= 0 ? Number(c.scorerArgs[from + 1]) : undefined;
  const started = Date.now();
  const onCall: SimulatedOnCall[] = [];
  await backtestFiles(data, out, parseConfig(DEFAULTS, '(defaults)'), undefined, silentLogger(), undefined, undefined, (rel) => {
    const op = SimulatedOnCall.fromCsv(join(labelled, rel), scoreFrom);
    onCall.push(op);
    return op;
  });
  const marks = onCall.reduce((a, o) => a + o.marks, 0);
  log(`${c.name}: with feedback (${marks} marks) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (KEEP) {
    rmSync(join(KEEP, c.name, 'product-feedback'), { recursive: true, force: true });
    cpSync(out, join(KEEP, c.name, 'product-feedback'), { recursive: true });
  }
  if (c.scorer === 'nab') {
    const events = eventScore(labelled, resultsInUnixSeconds(out, join(work, c.name, 'feedback-unix')), [], SHARED, 1);
    return { events, marks, nabStandard: scoreCorpus(c, SHARED, out, 1).nabStandard };
  }
  return { events: scoreCorpus(c, SHARED, out, 1), marks };
}

/** Before and after operator feedback, per corpus: false pages and recall (the feedback target: pages halved, recall down 0.02 at most). */
function printFeedback(results: CorpusResult[]): void {
  const rows = results.filter((r) => r.feedback);
  if (!rows.length) return;
  process.stdout.write('\nWith feedback: a simulated on-call marks each false page once, at its first page, as "not an anomaly" over that run (score > 1)\n');
  const head = ['marks', 'false pages/series-day', 'after', 'ratio', 'recall', 'after', 'change', 'F1 after'];
  process.stdout.write(`  ${''.padEnd(20)}${head.map((h) => h.padStart(23)).join('')}\n`);
  for (const r of rows) {
    const b = r.events.product;
    const a = r.feedback!.events;
    const cells = [
      String(r.feedback!.marks),
      num(b.falseAlarmsPerSeriesDay, 4),
      num(a.falseAlarmsPerSeriesDay, 4),
      num((a.falseAlarmsPerSeriesDay ?? 0) / Math.max(b.falseAlarmsPerSeriesDay ?? 0, 1e-9), 2),
      num(b.recall),
      num(a.recall),
      num((a.recall ?? 0) - (b.recall ?? 0)),
      num(a.f1),
    ];
    process.stdout.write(`  ${r.corpus.padEnd(20)}${cells.map((x) => x.padStart(23)).join('')}\n`);
    if (r.feedback!.nabStandard !== undefined)
      process.stdout.write(
        `  ${''.padEnd(20)}NAB standard score with feedback: ${num(r.feedback!.nabStandard, 2)} (without: ${num(r.product.nabStandard, 2)})\n`,
      );
  }
}

const num = (x: number | undefined | null, d = 3) => (x === undefined || x === null || !Number.isFinite(x) ? '-' : x.toFixed(d));

function printCorpus(r: CorpusResult): void {
  const cols = [
    ['product, score > 1', r.product],
    [`product, best (> ${num(r.productBest.threshold, 2)})`, r.productBest],
    ['z-score 1d, 3 σ', r.reference],
    [`z-score 1d, best (${num(3 * r.referenceBest.threshold, 2)} σ)`, r.referenceBest],
  ] as const;
  process.stdout.write(`\n${r.corpus}: ${r.files} files, ${r.rows} rows\n`);
  const line = (label: string, cells: string[]) => process.stdout.write(`  ${label.padEnd(26)}${cells.map((c) => c.padStart(30)).join('')}\n`);
  line(
    '',
    cols.map(([name]) => name),
  );
  const rows: [string, (s: CorpusScore) => string][] =
    r.product.nabStandard !== undefined
      ? [
          ['NAB standard', (s) => num(s.nabStandard, 2)],
          ['NAB reward low FP', (s) => num(s.nabLowFp, 2)],
          ['NAB reward low FN', (s) => num(s.nabLowFn, 2)],
        ]
      : [
          ['event F1', (s) => num(s.f1)],
          ['recall', (s) => num(s.recall)],
          ['precision', (s) => num(s.precision)],
          ['false alarms / series-day', (s) => num(s.falseAlarmsPerSeriesDay)],
          ['median delay (rows)', (s) => (s.medianDelayRows === null || s.medianDelayRows === undefined ? '-' : String(s.medianDelayRows))],
        ];
  for (const [label, cell] of rows)
    line(
      label,
      cols.map(([, s]) => cell(s)),
    );
}

/** Across corpora: incidents caught and false pages per 1,000 series-days, per detector. */
function overall(
  results: CorpusResult[],
): Record<Detector, { caught: number; incidents: number; share_caught: number; false_pages_per_1000_series_days: number }> {
  const days = results.reduce((a, r) => a + r.seriesDays, 0);
  const of = (d: Detector) => {
    const caught = results.reduce((a, r) => a + (r.events[d].caught ?? 0), 0);
    const incidents = results.reduce((a, r) => a + (r.events[d].events ?? 0), 0);
    const pages = results.reduce((a, r) => a + (r.events[d].falseAlarms ?? 0), 0);
    return {
      caught,
      incidents,
      share_caught: Number((incidents ? caught / incidents : 0).toFixed(3)),
      false_pages_per_1000_series_days: Number(((1000 * pages) / Math.max(days, 1e-9)).toFixed(1)),
    };
  };
  return { product: of('product'), reference: of('reference') };
}

/** Every corpus counted as on-call counts (NAB's windows as incidents), at the product's threshold and the reference's 3 σ. */
function printEvents(results: CorpusResult[]): void {
  process.stdout.write('\nAs on-call counts (an incident is caught by a page from its start to 3 rows after; NAB: its windows), score > 1 / z-score 3 σ\n');
  const head = ['recall', 'precision', 'F1', 'false pages/series-day', 'median delay (rows)', 'series-days'];
  process.stdout.write(`  ${''.padEnd(30)}${head.map((h) => h.padStart(24)).join('')}\n`);
  for (const r of results)
    for (const d of ['product', 'reference'] as const) {
      const e = r.events[d];
      const cells = [
        num(e.recall),
        num(e.precision),
        num(e.f1),
        num(e.falseAlarmsPerSeriesDay, 4),
        e.medianDelayRows == null ? '-' : String(e.medianDelayRows),
        num(r.seriesDays, 1),
      ];
      process.stdout.write(`  ${`${r.corpus}, ${d === 'product' ? 'product' : 'z-score'}`.padEnd(30)}${cells.map((c) => c.padStart(24)).join('')}\n`);
    }
  const o = overall(results);
  for (const d of ['product', 'reference'] as const)
    process.stdout.write(
      `\nAll corpora, ${d === 'product' ? 'product' : 'z-score 3 σ'}: ${o[d].false_pages_per_1000_series_days} false pages per 1,000 series-days, ${o[d].caught} of ${o[d].incidents} incidents caught (${(100 * o[d].share_caught).toFixed(1)} %)`,
    );
  process.stdout.write('\n');
}

function printLeaveOneOut(name: string, rows: LeaveOneOut[]): void {
  process.stdout.write(`\nLeave one corpus out, ${name}: the alert threshold that is best on the other corpora (mean headline), on the held-out one\n`);
  process.stdout.write(
    `  ${'held out'.padEnd(18)}${'chosen threshold'.padStart(18)}${'held-out score'.padStart(16)}${'at threshold 1'.padStart(16)}${'its own best'.padStart(14)}\n`,
  );
  for (const l of rows) {
    process.stdout.write(
      `  ${l.heldOut.padEnd(18)}${num(l.threshold, 2).padStart(18)}${num(l.score, 1).padStart(16)}${num(l.atOne, 1).padStart(16)}${num(l.best, 1).padStart(14)}\n`,
    );
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(SHARED, 'detect', 'event-score.mjs')) || !existsSync(join(SHARED, 'nab', 'nab-score.mjs'))) {
    throw new Error(`labelled corpora not found under ${SHARED} (set SHARED_DIR to the folder holding nab/ and detect/)`);
  }
  const known = [...corpora(SHARED).map((c) => c.name), 'asd-machines'];
  const unknown = ONLY?.filter((n) => !known.includes(n)) ?? [];
  if (unknown.length || ONLY?.length === 0)
    throw new Error(`BENCH_DETECT_ONLY: unknown corpus ${unknown.join(', ') || '(none named)'}; known: ${known.join(', ')}`);
  const work = mkdtempSync(join(tmpdir(), 'ae-detect-'));
  const started = Date.now();
  try {
    const results: CorpusResult[] = [];
    for (const c of corpora(SHARED).filter((x) => !ONLY || ONLY.includes(x.name))) results.push(await runCorpus(c, work));
    process.stdout.write(
      'Headline: NAB standard score (0 null, 100 perfect); event F1 on Cloud Monitoring, ASD and AIOps KPI (on-call counting, ../shared/detect)\n',
    );
    results.forEach(printCorpus);
    printEvents(results);
    printFeedback(results);
    const grids = (d: Detector) => Object.fromEntries(results.map((r) => [r.corpus, r.grid[d]]));
    const loo = { product: leaveOneOut(GRID, grids('product')), reference: leaveOneOut(GRID, grids('reference')) };
    printLeaveOneOut('product', loo.product);
    printLeaveOneOut('z-score 1d (threshold × 3 = K σ)', loo.reference);
    // Our z-score against the figures in ../shared/detect/README.md.
    const check = Object.entries(REFERENCE_README)
      .filter(([corpus]) => results.some((r) => r.corpus === corpus))
      .map(([corpus, [atK3, best]]) => {
        const r = results.find((x) => x.corpus === corpus)!;
        const ok = Math.abs((r.reference.f1 ?? NaN) - atK3) < 0.0015 && Math.abs((r.referenceBest.f1 ?? NaN) - best) < 0.0015;
        return { corpus, ok, expected: [atK3, best], got: [r.reference.f1, r.referenceBest.f1] };
      });
    for (const c of check)
      process.stdout.write(
        `\nreference check ${c.corpus}: F1 ${c.got.join(' / ')} (README: ${c.expected.join(' / ')}) ${c.ok ? 'reproduced' : 'NOT REPRODUCED'}`,
      );
    const group = !ONLY || ONLY.includes('asd-machines') ? await groupTable(work) : undefined;
    const models = process.env.BENCH_DETECT_MODELS === '1' ? await modelTable(work) : undefined;
    process.stdout.write(`\n\nbench:detect: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    const summary = Object.fromEntries(
      results.map((r) => [
        r.corpus,
        {
          product: Number(r.product.headline.toFixed(2)),
          product_best: Number(r.productBest.headline.toFixed(2)),
          reference: Number(r.reference.headline.toFixed(2)),
          reference_best: Number(r.referenceBest.headline.toFixed(2)),
          recall: r.events.product.recall,
          precision: r.events.product.precision,
          false_alarms_per_series_day: r.events.product.falseAlarmsPerSeriesDay,
          reference_recall: r.events.reference.recall,
          reference_false_alarms_per_series_day: r.events.reference.falseAlarmsPerSeriesDay,
          ...(r.feedback
            ? {
                with_feedback: {
                  marks: r.feedback.marks,
                  recall: r.feedback.events.recall,
                  false_alarms_per_series_day: r.feedback.events.falseAlarmsPerSeriesDay,
                  f1: r.feedback.events.f1,
                },
              }
            : {}),
        },
      ]),
    );
    const round = (l: LeaveOneOut) => ({ ...l, score: Number(l.score.toFixed(2)), atOne: Number(l.atOne.toFixed(2)), best: Number(l.best.toFixed(2)) });
    const looJson = { product: loo.product.map(round), reference: loo.reference.map(round) };
    process.stdout.write(
      `${JSON.stringify({ headline: summary, overall: overall(results), leave_one_out: looJson, group_forest: group, ...(models ? { models } : {}), reference_reproduced: check.every((c) => c.ok) })}\n`,
    );
    // The last line: the whole run in one sentence.
    const o = overall(results);
    process.stdout.write(
      `all corpora: product ${o.product.false_pages_per_1000_series_days} false pages per 1,000 series-days, ${(100 * o.product.share_caught).toFixed(1)} % of ${o.product.incidents} incidents caught; z-score 3 σ ${o.reference.false_pages_per_1000_series_days}, ${(100 * o.reference.share_caught).toFixed(1)} %\n`,
    );
    if (!check.every((c) => c.ok)) process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * What the per-group isolation forest adds: ASD's servers backtested as groups (each file one
 * server's 19 metrics, `backtest`'s multi-column input), scored per server against the server's
 * label, with the alerting score the largest of the metrics' scores, and with the group forest's
 * score as one more term of that maximum.
 */
async function groupTable(work: string): Promise<Record<string, { f1: number; best: number; recall: number; precision: number }>> {
  const c = machinesCorpus(SHARED);
  const data = unlabelled(c, join(work, c.name, 'data'));
  const out = join(work, c.name, 'product');
  const started = Date.now();
  await backtestFiles(data, out, parseConfig(DEFAULTS, '(defaults)'), undefined, silentLogger(), (k, n, rel, done, rows) => {
    if (done === rows || done % 5000 === 1) log(`${c.name}: file ${k + 1}/${n} ${rel} row ${done}/${rows}`);
  });
  log(`${c.name}: backtested in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const withForest = join(work, c.name, 'with-forest');
  const forestAlone = join(work, c.name, 'forest-alone');
  for (const { file, rel } of csvInputs(out)) {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const both: string[] = [];
    const alone: string[] = [];
    for (const l of lines.slice(1)) {
      const [t, s, g] = l.split(',');
      both.push(`${t},${Math.max(Number(s) || 0, Number(g) || 0)}`);
      alone.push(`${t},${Number(g) || 0}`);
    }
    for (const [dir, rows] of [
      [withForest, both],
      [forestAlone, alone],
    ] as const) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), `timestamp,anomaly_score\n${rows.join('\n')}\n`);
    }
  }
  const table: Record<string, { f1: number; best: number; recall: number; precision: number }> = {};
  for (const [name, dir] of [
    ['largest metric score', out],
    ['largest metric score or group forest', withForest],
    ['group forest alone', forestAlone],
  ] as const) {
    const a = scoreCorpus(c, SHARED, dir, 1);
    const b = scoreCorpus(c, SHARED, dir, 1, true);
    table[name] = {
      f1: Number((a.f1 ?? 0).toFixed(3)),
      best: Number((b.f1 ?? 0).toFixed(3)),
      recall: Number((a.recall ?? 0).toFixed(3)),
      precision: Number((a.precision ?? 0).toFixed(3)),
    };
  }
  process.stdout.write(`\n\nWhat the group isolation forest adds: ASD servers as groups (19 metrics each), event F1 per server\n`);
  process.stdout.write(
    `  ${'alerting score'.padEnd(40)}${'F1 at > 1'.padStart(12)}${'best F1'.padStart(10)}${'recall'.padStart(10)}${'precision'.padStart(12)}\n`,
  );
  for (const [name, r] of Object.entries(table))
    process.stdout.write(
      `  ${name.padEnd(40)}${r.f1.toFixed(3).padStart(12)}${r.best.toFixed(3).padStart(10)}${r.recall.toFixed(3).padStart(10)}${r.precision.toFixed(3).padStart(12)}\n`,
    );
  return table;
}

/** Each variant on each corpus: headline at threshold 1 / at the best threshold. */
async function modelTable(work: string): Promise<Record<string, Record<string, [number, number]>>> {
  const table: Record<string, Record<string, [number, number]>> = {};
  const cs = corpora(SHARED);
  for (const [k, v] of VARIANTS.entries()) {
    table[v.name] = {};
    for (const c of cs) {
      log(`models: ${v.name} on ${c.name}`);
      const r = await productOnly(c, work, join(work, c.name, 'data'), v.yaml, String(k));
      table[v.name][c.name] = [Number(r.atOne.toFixed(2)), Number(r.best.toFixed(2))];
    }
  }
  process.stdout.write(
    `\n\nWhat each model adds (headline at score > 1 / at the best threshold):\n  ${''.padEnd(26)}${cs.map((c) => c.name.padStart(24)).join('')}\n`,
  );
  for (const [name, row] of Object.entries(table)) {
    process.stdout.write(`  ${name.padEnd(26)}${cs.map((c) => `${row[c.name][0].toFixed(1)} / ${row[c.name][1].toFixed(1)}`.padStart(24)).join('')}\n`);
  }
  return table;
}

main().catch((err) => {
  process.stderr.write(`bench:detect failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
