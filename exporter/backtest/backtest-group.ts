import { Logger, silentLogger } from '../../common/logger';
import { ExporterConfig, parseConfig, SignalConfig } from '../config/config';
import { MemoryReader } from '../read/memory-reader';
import { ScoringPipeline } from '../cycle/scoring-pipeline';
import { backtestScheduler, medianStepSeconds, timeAxis } from './backtest';

/** One metric column of a multi-column CSV. */
export interface GroupColumn {
  name: string;
  values: Float64Array;
}

export interface GroupBacktestScores {
  stepSeconds: number;
  /** Per row: the largest of the columns' alerting scores (the group's signals, each scored alone). */
  score: Float64Array;
  /** Per row: the group's isolation forest score over all columns together (0 while it warms up). */
  group: Float64Array;
  /** Per column, per row: its own alerting score. */
  columns: Float64Array[];
}

/** The label that makes the columns one group. */
const GROUP_LABEL = 'group';

/** The most columns one group forest takes (models.isolation_forest_group.max_channels). */
export const MAX_GROUP_COLUMNS = 32;

/** The most metrics of a file the group forest takes: half as many with their changes as columns too. */
export function groupForestChannels(config: Pick<ExporterConfig, 'models'>): number {
  return (config.models.isolation_forest_group ?? groupForestDefaults()).changes ? MAX_GROUP_COLUMNS / 2 : MAX_GROUP_COLUMNS;
}

/**
 * Scores the columns of a multi-column file as the signals of one group (one service's latency,
 * traffic and errors, say), row by row with the live pipeline's code, as backtestValues does for
 * one series; with the group's isolation forest over every column (the config's
 * `isolation_forest_group`, or its defaults), taking up to groupForestChannels columns.
 */
export async function backtestGroup(
  columns: GroupColumn[],
  times: Float64Array,
  config: ExporterConfig,
  signal: Pick<SignalConfig, 'direction' | 'min_deviation' | 'min_relative_deviation'> = { direction: 'both', min_deviation: 0, min_relative_deviation: 0 },
  opts: { logger?: Logger; onProgress?: (done: number, total: number) => void } = {},
): Promise<GroupBacktestScores> {
  const n = times.length;
  const step = medianStepSeconds(times);
  const axis = timeAxis(times, step);
  const reader = new MemoryReader();
  const signals: Record<string, SignalConfig> = {};
  columns.forEach((c, k) => {
    const query = `column ${k}`;
    reader.set(query, [{ labels: { [GROUP_LABEL]: 'backtest' }, timestamps: axis, values: c.values }]);
    signals[c.name] = { query, ...signal };
  });
  const forest = config.models.isolation_forest_group ?? groupForestDefaults();
  const cfg: ExporterConfig = {
    ...config,
    reader: { ...config.reader, group_by: [GROUP_LABEL], signals },
    models: {
      ...config.models,
      isolation_forest_group: {
        ...forest,
        max_channels: Math.max(forest.max_channels, Math.min(columns.length, groupForestChannels(config))),
      },
    },
    scheduler: backtestScheduler(config.scheduler, step),
  };
  const pipeline = new ScoringPipeline(cfg, reader, opts.logger ?? silentLogger());
  const out: GroupBacktestScores = {
    stepSeconds: step,
    score: new Float64Array(n),
    group: new Float64Array(n),
    columns: columns.map(() => new Float64Array(n)),
  };
  const index = new Map(columns.map((c, k) => [c.name, k]));
  const never = new AbortController().signal;
  for (let i = 0; i < n; i++) {
    await pipeline.runOnce(new Date(axis[i] * 1000), never);
    const snap = pipeline.snapshot;
    for (const s of snap.series) {
      const k = index.get(s.signal);
      if (k === undefined || s.timestampSeconds !== axis[i]) continue;
      out.columns[k][i] = s.ensemble;
      if (s.ensemble > out.score[i]) out.score[i] = s.ensemble;
    }
    out.group[i] = snap.groups[0]?.forestScore ?? 0;
    if (opts.onProgress && (i % 500 === 0 || i === n - 1)) opts.onProgress(i + 1, n);
  }
  return out;
}

/** `isolation_forest_group` with every default, as the config schema fills it. */
function groupForestDefaults(): NonNullable<ExporterConfig['models']['isolation_forest_group']> {
  const c = parseConfig('reader: {url: "http://127.0.0.1:9090", signals: {x: {query: x}}}\nmodels: {pattern: {}, isolation_forest_group: {}}\n', '(defaults)');
  return c.models.isolation_forest_group!;
}

/** The output CSV of a group: one row per input row, in order. */
export function groupCsv(timestampText: string[], names: string[], s: GroupBacktestScores): string {
  const f = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(10))) : '');
  const lines = [['timestamp', 'anomaly_score', 'group_score', ...names.map((n) => `${n}_score`)].join(',')];
  for (let i = 0; i < timestampText.length; i++) lines.push([timestampText[i], f(s.score[i]), f(s.group[i]), ...s.columns.map((c) => f(c[i]))].join(','));
  return lines.join('\n') + '\n';
}
