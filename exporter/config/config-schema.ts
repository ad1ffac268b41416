import { z } from 'zod';

import { allowedHosts, listenAddress } from '../../common/listen-address';
import { UNIT_PATTERN } from '../../common/units';
import { SIGNAL_KINDS } from '../../common/vocabulary';
import { duration } from '../../common/yaml-config';
import { DETECTOR_NAMES, DetectorName } from '../../models';
import { PRESET_NAMES } from '../presets';
import { detectorSections, forestOptions } from './detector-config';
import { promqlSyntaxProblem } from './promql-syntax';

const listen = listenAddress('127.0.0.1:10190');
const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'not a valid Prometheus label name');
const signalName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'signal names are used as label values and ids: letters, digits and _');
/** Models whose scores can make the ensemble score: every registered detector. */
export const SCORING_MODELS = DETECTOR_NAMES as [DetectorName, ...DetectorName[]];

const signal = z.strictObject({
  query: z.string().min(1, 'a PromQL query is required'),
  direction: z.enum(['both', 'above', 'below']).default('both'),
  min_deviation: z.number().nonnegative().default(0),
  min_relative_deviation: z.number().nonnegative().default(0),
  /** For incident patterns; by default from the name when it is latency, traffic or errors. */
  kind: z.enum(SIGNAL_KINDS).optional(),
  /** How pages write the values: seconds (ms/s), ratio (%), bytes, or any word ("requests/s"). */
  unit: z.string().regex(UNIT_PATTERN, 'a unit such as seconds, ratio, bytes or requests/s').optional(),
});

const secretSource = {
  /** Secrets come only from files or environment variables, never from the config file itself. */
  bearer_token_file: z.string().optional(),
  bearer_token_env: z.string().optional(),
};

const auth = z
  .strictObject({
    ...secretSource,
    basic: z
      .strictObject({
        username: z.string().min(1),
        password_file: z.string().optional(),
        password_env: z.string().optional(),
      })
      .refine((b) => Boolean(b.password_file) !== Boolean(b.password_env), { message: 'set exactly one of password_file and password_env' })
      .optional(),
  })
  .refine((a) => !(a.bearer_token_file && a.bearer_token_env), { message: 'set at most one of bearer_token_file and bearer_token_env' })
  .refine((a) => !((a.bearer_token_file || a.bearer_token_env) && a.basic), { message: 'use either a bearer token or basic auth, not both' });

/** How feedback is taken in; also the defaults of backtests fed marks without an Alertmanager. */
export const FEEDBACK_DEFAULTS = {
  false_positive_margin: 1.25,
  lookback: 3600_000,
  false_positive_half_life: 14 * 86400_000,
  false_positive_time_of_day: 0,
} as const;
const feedbackTuning = {
  /**
   * A false-positive span's largest deviation times this is normal for the series from then on:
   * the same deviation scores at most 1/margin, a deviation more than margin times larger still
   * pages (bench:detect "with feedback", docs/detection.md).
   */
  false_positive_margin: z.number().min(1).max(10).default(FEEDBACK_DEFAULTS.false_positive_margin),
  /** An incident that ended at most this long before a false-positive span began is the one it is about. */
  lookback: duration(0).prefault('1h'),
  /**
   * What a false-positive mark taught counts half after this long, a quarter after twice as long:
   * on-call's "normal" fades, so a series does not stay deaf to that size for good (the same size
   * pages again after about 4.5 days at 14d). 0: for good. bench:detect with feedback, on all four
   * corpora together (docs/feedback.md): 14 days keeps most of the page reduction at about 60 % of
   * the recall cost of "for good".
   */
  false_positive_half_life: duration(0).default(FEEDBACK_DEFAULTS.false_positive_half_life),
  /**
   * What a false-positive mark taught counts only within this long of the time of day it was
   * taught at (a nightly job's spike is normal at night): 0 at any time of day.
   */
  false_positive_time_of_day: duration(0).default(FEEDBACK_DEFAULTS.false_positive_time_of_day),
};

export const configSchema = z
  .strictObject({
    /** Presets whose signals the config takes (exporter/presets/), before its own reader.signals (config.ts withPresetSignals). */
    preset: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.enum(PRESET_NAMES)).min(1)).optional(),
    reader: z.strictObject({
      url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
      timeout: duration(1).prefault('10s'),
      retries: z.number().int().min(0).max(10).default(2),
      /**
       * Check each signal's query with Prometheus' PromQL grammar at load (`check` and start).
       * false for a source whose language extends PromQL (VictoriaMetrics' MetricsQL).
       */
      check_promql: z.boolean().default(true),
      headers: z.record(z.string(), z.string()).default({}),
      auth: auth.optional(),
      accept_encoding: z.string().default('identity'),
      /**
       * Follow HTTP 3xx redirects (Prometheus' http_config meaning, default true). Headers and
       * credentials are sent only to the configured origin, never to a host a redirect names.
       */
      follow_redirects: z.boolean().default(true),
      /**
       * Cycles score up to now minus this: for a source that answers only for data older than
       * its ingestion lag (VictoriaMetrics hides the last -search.latencyOffset, 30s by default).
       */
      query_offset: duration(0).prefault('0s'),
      /**
       * What a refit reads. `new_samples`: each signal keeps its fit window in memory (4 bytes a
       * point) from the answers it reads, and a refit reads only the samples since the last
       * cycle, like an infer cycle; the whole window is read after a start, a gap, or a reload
       * that changed the source.
       * `fit_window`: every refit reads the whole window again (sources that revise old samples:
       * late remote-write or out-of-order ingestion), at the source's and the exporter's cost.
       */
      refit_reads: z.enum(['new_samples', 'fit_window']).default('new_samples'),
      max_points_per_query: z.number().int().min(2).default(11000),
      /**
       * An answer larger than this is cut off and its range read again in halves. Answers are
       * parsed as they stream into typed arrays (about 0.75 bytes of memory per byte of JSON), so
       * this bounds one query's work, not a string: 256 MiB holds 10,000 series × 24 h in one piece.
       */
      max_response_bytes: z
        .number()
        .int()
        .min(1024)
        .default(256 * 1024 * 1024),
      /** A signal with more series than this fails alone (10,000: the 1 GiB bench's size). */
      max_series: z.number().int().min(1).default(10000),
      concurrency: z.number().int().min(1).max(64).default(4),
      group_by: z.array(labelName).default(['service']),
      signals: z.record(signalName, signal).refine((s) => Object.keys(s).length > 0, { message: 'define at least one signal' }),
    }),
    scheduler: z
      .strictObject({
        step: duration(1).prefault('1m'),
        infer_every: duration(1).prefault('1m'),
        fit_every: duration(1).prefault('1h'),
        fit_window: duration(1).prefault('24h'),
        /** Least number of steps a refit trains on: the fit window grows to hold them when the step is long. */
        fit_min_samples: z.number().int().min(2).max(100000).default(168),
        /**
         * An anomaly lasting this long is a new normal: refits before then train without its
         * samples (so it stays flagged), the first refit after trains on them alone.
         */
        accept_after: duration(1).prefault('10m'),
        fit_cron: z.string().optional(),
        timezone: z.string().default('UTC'),
        cycle_timeout: duration(1).optional(),
        /**
         * A cycle that refits (the cold start, fit_every, fit_cron, warming series) may run this
         * long: reading a whole fit window and fitting take far longer than scoring new samples.
         */
        fit_timeout: duration(1).prefault('10m'),
      })
      .prefault({}),
    models: z
      .strictObject({
        /** Worker threads for refits; default one per core, 0 fits on the main thread. */
        fit_threads: z.number().int().min(0).max(64).optional(),
        seasonal: z
          .strictObject({
            min_samples_per_slot: z.number().int().min(1).default(3),
            /** At most 1e6: a slot's weight (at most 7 × memory for an hour of day) stays a whole number Float32 holds exactly. */
            memory: z.number().int().min(1).max(1_000_000).default(240),
            /**
             * Models that score the residual against the profile; the others score the value itself.
             * The z-score scores values by default: on the three dev corpora a band around the
             * profile is too tight wherever the profile is off (bench:detect, docs/detection.md).
             */
            models: z.array(z.enum(SCORING_MODELS)).default(['pattern', 'isolation_forest']),
          })
          .optional(),
        ...detectorSections,
        isolation_forest_group: z
          .strictObject({
            ...forestOptions,
            max_channels: z.number().int().min(2).max(32).default(8),
            /** Newest rows of the fit window kept to fit on (each tree samples 256): 8.5 h at a 1-minute step, 42 h at 5 minutes. */
            max_rows: z.number().int().min(32).max(100000).default(512),
            /** Each channel's change since the previous row is a column too (bench:detect: ASD servers' F1 0.058 → 0.34 for the forest alone). */
            changes: z.boolean().default(true),
            /** Forests fitted per cycle at most (on the main thread, about 6 ms each at 512 rows); the others wait their turn. */
            fits_per_cycle: z.number().int().min(1).default(50),
          })
          .refine((g) => !g.changes || g.max_channels <= 16, {
            message: 'with changes each channel is two columns of the forest (at most 32): at most 16 channels',
            path: ['max_channels'],
          })
          .optional(),
      })
      .refine((m) => DETECTOR_NAMES.some((name) => Boolean(m[name])), {
        message: `enable at least one model (${DETECTOR_NAMES.join(', ')})`,
      })
      // The defaults are the models an alert reads: the ensemble's (pattern, zscore, jump) and the
      // group forest (AnomalousGroup). mad and the per-series isolation_forest are in no alert and
      // the forest was 70 % of a series' fit (bench/model-cost.ts): on when a config names them.
      .prefault({ seasonal: {}, zscore: {}, pattern: {}, jump: {}, isolation_forest_group: {} }),
    correlation: z
      .strictObject({
        window: duration(1).prefault('30m'),
        methods: z
          .array(z.enum(['pearson', 'spearman']))
          .min(1)
          .default(['pearson', 'spearman']),
        min_samples: z.number().int().min(3).default(10),
      })
      .prefault({}),
    ensemble: z
      .strictObject({
        combine: z.enum(['max', 'mean', 'median']).default('max'),
        /** Models whose scores make the ensemble score; default: pattern, z-score and jump when enabled, else every enabled model (ensembleModels). */
        models: z.array(z.enum(SCORING_MODELS)).min(1).optional(),
        /** Per model, a factor on its score in the ensemble only (e.g. 1/3: counts beyond 3 times its band). */
        scale: z.partialRecord(z.enum(SCORING_MODELS), z.number().gt(0)).optional(),
        /** Samples a series stays anomalous (anomalous_signals, onset, incidents) after its last score above 1. */
        hold_samples: z.number().int().min(1).default(10),
      })
      .prefault({}),
    state: z
      .strictObject({
        /** Where model state is saved; empty: not saved. */
        dir: z.string().default(''),
        save_every: duration(1000).prefault('5m'),
      })
      .prefault({}),
    server: z
      .strictObject({
        listen: listen.default('0.0.0.0:10190'),
        /**
         * Host names the web page and API answer besides localhost, this machine's name and IP
         * literals ("*.example.org" for a domain); /metrics, /healthz and /readyz answer any (DNS rebinding).
         */
        allowed_hosts: allowedHosts,
        // Scored samples kept per series for the web page's sparklines (0: none).
        history_samples: z.number().int().min(0).max(1000).default(60),
        /**
         * The URL people reach the exporter at (like Prometheus' --web.external-url): alert rules
         * build absolute runbook links from it (anomaly_exporter_web_info). Default: this host's
         * name and the listen port.
         */
        external_url: z
          .url({ protocol: /^https?$/ })
          .transform((u) => u.replace(/\/+$/, ''))
          .optional(),
        /**
         * Whether the Analyse page runs PromQL typed by whoever reaches it, with the reader's
         * credentials. Default: yes when the reader sends none (no auth, no headers), else only
         * the configured signals, so the page is not a way into a tenant's data.
         */
        analyze_any_query: z.boolean().optional(),
      })
      .prefault({}),
    /**
     * Operator feedback from Alertmanager's silences (common/vocabulary.ts FEEDBACK_MARKERS): off
     * when unset. The exporter reads silences only; it never writes to Alertmanager.
     */
    alertmanager: z
      .strictObject({
        url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
        poll_every: duration(1000).prefault('30s'),
        timeout: duration(1).prefault('10s'),
        headers: z.record(z.string(), z.string()).default({}),
        auth: auth.optional(),
        /** A mark is kept this long after its span ends (Alertmanager forgets expired silences after 5 days). */
        keep_marks: duration(1000).prefault('90d'),
        ...feedbackTuning,
      })
      .optional(),
    logging: z
      .strictObject({ level: z.enum(['error', 'warn', 'info', 'debug']).default('info'), format: z.enum(['json', 'text']).default('json') })
      .prefault({}),
    /**
     * Replica `index` of `count` scores only its share of the groups (reader.group_by), split as
     * Prometheus' hashmod splits targets. `index` defaults to a StatefulSet pod's ordinal (the
     * `-N` ending HOSTNAME); `run --shard INDEX/COUNT` overrides both.
     */
    sharding: z
      .strictObject({
        count: z.number().int().min(1).max(1000),
        index: z.number().int().min(0).optional(),
      })
      .optional(),
  })
  .superRefine((c, ctx) => {
    if (c.reader.check_promql) {
      for (const [name, s] of Object.entries(c.reader.signals)) {
        const problem = promqlSyntaxProblem(s.query);
        if (problem) ctx.addIssue({ code: 'custom', path: ['reader', 'signals', name, 'query'], message: problem });
      }
    }
    for (const [i, name] of (c.ensemble.models ?? []).entries()) {
      if (!c.models[name]) ctx.addIssue({ code: 'custom', path: ['ensemble', 'models', i], message: `model ${name} is not enabled in models` });
    }
  });

export type ExporterConfig = z.output<typeof configSchema>;

/**
 * The ensemble's models as configured, or the default: with the pattern or the jump model
 * enabled, those of the pattern model, the z-score and the jump model that are; else every enabled
 * model.
 */
/** The default alerting models (bench:detect, docs/detection.md); the others are published but do not page. */
const ALERTING_MODELS = ['pattern', 'zscore', 'jump'] as const;

export function ensembleModels(config: Pick<ExporterConfig, 'models' | 'ensemble'>): string[] {
  if (config.ensemble.models) return config.ensemble.models;
  const m = config.models;
  if (m.pattern || m.jump) return ALERTING_MODELS.filter((name) => Boolean(m[name]));
  return SCORING_MODELS.filter((name) => Boolean(m[name]));
}

/** Per-model factors on the ensemble's inputs, as configured (none by default: every model's band is its own score 1). */
export function ensembleScale(config: Pick<ExporterConfig, 'models' | 'ensemble'>): Record<string, number> | undefined {
  return config.ensemble.scale;
}
export type SignalConfig = ExporterConfig['reader']['signals'][string];
