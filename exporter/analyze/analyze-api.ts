/**
 * The Analyse page's API: a configured signal or a PromQL query over a chosen range, every series
 * scored by the same code as `backtest --from --to` (scoreRange), streamed as NDJSON so the page
 * can show progress: `start`, then per series `series` (samples, band, scores), `progress`, and
 * `done` or `error`. `format: "csv"` answers the backtest's CSV for every series instead, with a
 * leading `labels` column. One analysis at a time (429 otherwise); a range is at most
 * MAX_POINTS steps and MAX_SERIES series. POST with JSON only, so another site cannot start one.
 */
import { FeedbackMark, markSummary } from '../feedback/feedback-mark';
import express from 'express';
import { errorMessage } from '../../common/errors';
import { jsonOnly } from '../../common/http-safety';
import { Logger } from '../../common/logger';
import { backtestCsv } from '../backtest/backtest';
import { alignedRange, RangeSeriesScores, scoreRange } from '../backtest/backtest-range';
import { ExporterConfig, SignalConfig } from '../config/config';
import { promqlSyntaxProblem } from '../config/promql-syntax';
import { Reader, ReaderError } from '../read/reader';

export const MAX_POINTS = 50_000;
export const MAX_SERIES = 50;

export interface AnalyzeContext {
  config: () => ExporterConfig;
  reader: () => Reader;
  log: Logger;
  /** The exporter's operator feedback marks: an analysis takes in those about each series, and shows them. */
  marks?: () => readonly FeedbackMark[];
}

interface AnalyzeRequest {
  name: string;
  query: string;
  signal: Pick<SignalConfig, 'direction' | 'min_deviation' | 'min_relative_deviation'>;
  unit?: string;
  range: { start: number; end: number; step: number };
  csv: boolean;
}

/** server.analyze_any_query, or its default: only when the reader sends no credentials. */
export function anyQueryAllowed(config: ExporterConfig): boolean {
  return config.server.analyze_any_query ?? (!config.reader.auth && Object.keys(config.reader.headers).length === 0);
}

/** The request read and checked; a string is the reason it is refused (400). */
function readRequest(body: unknown, config: ExporterConfig): AnalyzeRequest | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be a JSON object: {"signal" or "query", "from", "to"}';
  const b = body as Record<string, unknown>;
  let name: string;
  let query: string;
  let signal: AnalyzeRequest['signal'] = { direction: 'both', min_deviation: 0, min_relative_deviation: 0 };
  let unit: string | undefined;
  if (typeof b.signal === 'string' && b.signal !== '') {
    const s = Object.prototype.hasOwnProperty.call(config.reader.signals, b.signal) ? config.reader.signals[b.signal] : undefined;
    if (!s) return `no signal ${JSON.stringify(b.signal)}; configured: ${Object.keys(config.reader.signals).join(', ')}`;
    name = b.signal;
    query = s.query;
    signal = s;
    unit = s.unit;
  } else if (typeof b.query === 'string' && b.query.trim() !== '') {
    if (!anyQueryAllowed(config)) {
      return 'typed queries are off here (server.analyze_any_query: the reader sends credentials); choose a configured signal';
    }
    if (b.query.length > 10_000) return 'the query is longer than 10,000 characters';
    const problem = config.reader.check_promql ? promqlSyntaxProblem(b.query) : undefined;
    if (problem) return `query: ${problem}`;
    name = 'query';
    query = b.query;
  } else return 'give a configured "signal" or a PromQL "query"';
  const from = typeof b.from === 'string' ? Date.parse(b.from) : NaN;
  const to = typeof b.to === 'string' ? Date.parse(b.to) : NaN;
  if (!Number.isFinite(from)) return '"from" must be an RFC 3339 time, e.g. 2026-11-27T00:00:00Z';
  if (!Number.isFinite(to)) return '"to" must be an RFC 3339 time, e.g. 2026-11-28T00:00:00Z';
  let range;
  try {
    range = alignedRange(config, from / 1000, Math.min(to, Date.now()) / 1000);
  } catch {
    return `"to" must be at least one step (${config.scheduler.step / 1000} s) after "from", and not only in the future`;
  }
  const points = (range.end - range.start) / range.step + 1;
  if (points > MAX_POINTS) return `the range is ${Math.round(points)} steps of ${range.step} s; at most ${MAX_POINTS}: choose a shorter range`;
  return { name, query, signal, unit, range, csv: b.format === 'csv' };
}

const finite = (a: Float64Array) => Array.from(a, (v) => (Number.isFinite(v) ? Number(v.toPrecision(7)) : null));

function seriesJson(name: string, s: RangeSeriesScores, unit?: string) {
  return {
    type: 'series',
    signal: name,
    unit: unit ?? null,
    labels: s.labels,
    ts: Array.from(s.timestamps),
    value: finite(s.values),
    expected: finite(s.scores.expected),
    lower: finite(s.scores.lower),
    upper: finite(s.scores.upper),
    score: finite(s.scores.score),
    flagged: s.scores.score.filter((v) => v > 1).length,
    feedback: s.marks.map(markSummary),
  };
}

/** RFC 4180: a cell with a comma, quote or line break is quoted, quotes doubled. */
const csvCell = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function analyzeRouter(ctx: AnalyzeContext): express.Router {
  const router = express.Router();
  let busy = false;
  router.post('/api/v1/analyze', jsonOnly(), express.json({ limit: '32kb' }), async (req, res) => {
    const config = ctx.config();
    const r = readRequest(req.body, config);
    if (typeof r === 'string') {
      res.status(400).json({ error: r });
      return;
    }
    if (busy) {
      res.status(429).set('Retry-After', '5').json({ error: 'another analysis is running; try again when it is done' });
      return;
    }
    busy = true;
    const abort = new AbortController();
    // A closed page stops the work (reading and scoring), not only the answer.
    res.on('close', () => abort.abort(new Error('client went away')));
    const started = Date.now();
    let total = 0;
    let done = 0;
    try {
      const series = scoreRange(config, ctx.reader(), r, r.range, {
        logger: ctx.log,
        abort: abort.signal,
        // Held as the answer streams: the read stops at the first series past it.
        maxSeries: MAX_SERIES,
        limitName: `the Analyse limit: at most ${MAX_SERIES}`,
        marks: ctx.marks?.(),
        onRead: (n) => {
          total = n;
          if (n > MAX_SERIES) throw new Error(`the query returned ${n} series; at most ${MAX_SERIES}: narrow it with a label matcher`);
          if (!r.csv) {
            res.status(200).type('application/x-ndjson').set('Cache-Control', 'no-store');
            res.write(JSON.stringify({ type: 'start', series: n, step: r.range.step, from: r.range.start, to: r.range.end, query: r.query }) + '\n');
          }
        },
      });
      if (r.csv) {
        const parts: string[] = ['labels,timestamp,value,anomaly_score,expected,lower,upper\n'];
        for await (const s of series) {
          const labels = csvCell(JSON.stringify(s.labels));
          const text = Array.from(s.timestamps, (t) => new Date(t * 1000).toISOString());
          const lines = backtestCsv(text, s.values, s.scores).split('\n').slice(1, -1);
          parts.push(lines.map((l) => `${labels},${l}\n`).join(''));
        }
        res.type('text/csv').set('Content-Disposition', `attachment; filename="analysis-${r.name}.csv"`).send(parts.join(''));
        return;
      }
      for await (const s of series) {
        done++;
        res.write(JSON.stringify(seriesJson(r.name, s, r.unit)) + '\n');
        res.write(JSON.stringify({ type: 'progress', done, total }) + '\n');
      }
      res.end(JSON.stringify({ type: 'done', series: done, seconds: Number(((Date.now() - started) / 1000).toFixed(2)) }) + '\n');
    } catch (err) {
      const error = errorMessage(err);
      const refused = err instanceof ReaderError && err.kind === 'too_many_series';
      if (!res.headersSent) res.status(refused ? 400 : /at most|syntax|parse|bad_data/i.test(error) ? 400 : 502).json({ error });
      else res.end(JSON.stringify({ type: 'error', error }) + '\n');
    } finally {
      busy = false;
    }
  });
  return router;
}
