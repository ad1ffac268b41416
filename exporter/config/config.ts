import { validate as validateCron } from 'node-cron';
import { changedFields } from '../../common/config-reload';
import { ConfigError, errorMessage } from '../../common/errors';
import { secretProblems } from '../../common/secrets';
import { authSecretSources } from '../read/reader-settings';
import { formatIssues, parseYamlMapping, readConfigText } from '../../common/yaml-config';
import { ordinalFromHostname, parseShardFlag, ShardSpec } from '../shard/shard';
import { expandPresets, presetNamed } from '../presets';
import { configSchema, ExporterConfig } from './config-schema';

export type { ExporterConfig, SignalConfig } from './config-schema';

/** Command-line and environment overrides: flag over env over file. */
export interface ConfigOverrides {
  listen?: string;
  sourceUrl?: string;
  /** `run --shard INDEX/COUNT`. */
  shard?: string;
  /** HOSTNAME, whose `-N` ending is the shard index when the config gives only sharding.count. */
  hostname?: string;
}

export function overridesFromEnv(env: NodeJS.ProcessEnv): ConfigOverrides {
  return { listen: env.ANOMALY_EXPORTER_LISTEN || undefined, sourceUrl: env.ANOMALY_EXPORTER_SOURCE_URL || undefined, hostname: env.HOSTNAME || undefined };
}

/** This replica's share: the whole when the config does not shard. */
export function shardSpec(config: ExporterConfig): ShardSpec {
  return { index: config.sharding?.index ?? 0, count: config.sharding?.count ?? 1 };
}

/** Reads and validates a config file, and checks the secrets it names: what `check` and `run` both run. */
export function loadConfig(file: string, overrides: ConfigOverrides = {}): ExporterConfig {
  const config = parseConfig(readConfigText(file), file, overrides);
  const { token, password } = authSecretSources(config.reader.auth);
  const am = authSecretSources(config.alertmanager?.auth, 'alertmanager.auth');
  const problems = secretProblems([token, password, am.token, am.password].filter((x) => x !== undefined));
  if (problems.length) throw new ConfigError(file, problems);
  return config;
}

export function parseConfig(text: string, file: string, overrides: ConfigOverrides = {}): ExporterConfig {
  const raw = parseYamlMapping(text, file, 'at least a reader section');
  let withOverrides: Record<string, unknown>;
  try {
    withOverrides = applyOverrides(raw, overrides);
  } catch (err) {
    throw new ConfigError(file, [{ path: 'sharding (--shard)', reason: errorMessage(err) }]);
  }
  const result = configSchema.safeParse(withPresetSignals(withOverrides));
  if (!result.success) throw new ConfigError(file, formatIssues(result.error));
  const config = result.data;
  const problems = crossFieldProblems(config);
  // One replica (count 1) is replica 0 wherever it runs; more need an index or a pod ordinal.
  if (config.sharding && config.sharding.index === undefined && config.sharding.count === 1) config.sharding.index = 0;
  if (config.sharding && config.sharding.index === undefined) {
    const ordinal = ordinalFromHostname(overrides.hostname);
    if (ordinal === undefined)
      problems.push({
        path: 'sharding.index',
        reason: `not set, and HOSTNAME (${JSON.stringify(overrides.hostname ?? '')}) does not end in -N like a StatefulSet pod's; set it or run with --shard INDEX/COUNT`,
      });
    else config.sharding.index = ordinal;
  }
  if (config.sharding && config.sharding.count > 1 && config.reader.group_by.length === 0)
    problems.push({ path: 'sharding.count', reason: 'replicas share the groups of reader.group_by, which is empty: every series would go to one replica' });
  if (config.sharding?.index !== undefined && config.sharding.index >= config.sharding.count)
    problems.push({ path: 'sharding.index', reason: `${config.sharding.index} is not below sharding.count (${config.sharding.count})` });
  if (problems.length) throw new ConfigError(file, problems);
  return config;
}

function applyOverrides(raw: Record<string, unknown>, o: ConfigOverrides): Record<string, unknown> {
  const copy = structuredClone(raw);
  if (o.sourceUrl) copy.reader = { ...((copy.reader as object) ?? {}), url: o.sourceUrl };
  if (o.listen) copy.server = { ...((copy.server as object) ?? {}), listen: o.listen };
  if (o.shard) {
    copy.sharding = parseShardFlag(o.shard);
  }
  return copy;
}

/**
 * A config that names presets (`preset: NAME` or a list) gets their signals (presets/), before
 * its own `reader.signals`, which win on a name both have: a preset's signal is changed by
 * writing it out. `reader.group_by`, when the config sets it, is what the presets' queries
 * aggregate by; else each aggregates by its own service label and group_by is those labels. An
 * unknown name is left for the schema to refuse, with the list of presets.
 */
function withPresetSignals(raw: Record<string, unknown>): Record<string, unknown> {
  const preset = raw.preset;
  const names = typeof preset === 'string' ? [preset] : Array.isArray(preset) ? preset : [];
  if (names.length === 0 || !names.every((n) => typeof n === 'string' && presetNamed(n))) return raw;
  const reader = raw.reader !== null && typeof raw.reader === 'object' && !Array.isArray(raw.reader) ? (raw.reader as Record<string, unknown>) : {};
  const given = Array.isArray(reader.group_by) && reader.group_by.every((l) => typeof l === 'string') ? (reader.group_by as string[]) : undefined;
  const { signals, groupBy } = expandPresets(names as string[], given);
  const own = reader.signals !== null && typeof reader.signals === 'object' && !Array.isArray(reader.signals) ? reader.signals : {};
  return {
    ...raw,
    reader: { ...reader, group_by: reader.group_by ?? groupBy, signals: { ...Object.fromEntries(signals.map((e) => [e.name, e.config])), ...own } },
  };
}

function crossFieldProblems(c: ExporterConfig): { path: string; reason: string }[] {
  const p: { path: string; reason: string }[] = [];
  const s = c.scheduler;
  if (s.fit_window < s.step * 2) p.push({ path: 'scheduler.fit_window', reason: 'must cover at least two steps' });
  if (s.infer_every < s.step)
    p.push({ path: 'scheduler.infer_every', reason: 'must be at least one step (scoring more often than new points arrive does nothing)' });
  if (s.fit_every < s.infer_every) p.push({ path: 'scheduler.fit_every', reason: 'must be at least infer_every' });
  if (s.cycle_timeout !== undefined && s.cycle_timeout > s.infer_every)
    p.push({ path: 'scheduler.cycle_timeout', reason: 'must not exceed infer_every (runs never overlap)' });
  if (s.fit_timeout < (s.cycle_timeout ?? s.infer_every))
    p.push({ path: 'scheduler.fit_timeout', reason: 'must be at least cycle_timeout (infer_every when unset): a refit also scores' });
  try {
    new Intl.DateTimeFormat('en', { timeZone: s.timezone });
  } catch {
    p.push({ path: 'scheduler.timezone', reason: `unknown IANA time zone "${s.timezone}"` });
  }
  if (s.fit_cron !== undefined && !validateCron(s.fit_cron)) {
    p.push({ path: 'scheduler.fit_cron', reason: 'expected a cron expression with 5 or 6 fields, e.g. "0 3 * * *"' });
  }
  return p;
}

/**
 * Settings a running exporter cannot change: a reload that changes them keeps the running value
 * and says a restart is needed (as Prometheus does for its listen address).
 */
export const RESTART_FIELDS = ['server.listen', 'state.dir', 'models.fit_threads', 'logging.format', 'sharding'] as const;

/** The config a reload puts in place: `wanted`, with RESTART_FIELDS at their running value; and which of those it changed. */
export function reloadedConfig(running: ExporterConfig, wanted: ExporterConfig): { next: ExporterConfig; needsRestart: string[] } {
  return {
    next: {
      ...wanted,
      server: { ...wanted.server, listen: running.server.listen },
      state: { ...wanted.state, dir: running.state.dir },
      models: { ...wanted.models, fit_threads: running.models.fit_threads },
      logging: { ...wanted.logging, format: running.logging.format },
      sharding: running.sharding,
    },
    needsRestart: changedFields(running, wanted, RESTART_FIELDS),
  };
}
