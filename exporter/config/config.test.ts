import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../common/errors';
import { loadConfig, parseConfig, reloadedConfig } from './config';
import { ensembleModels, ensembleScale } from './config-schema';
import { seriesModelConfig } from './model-config';

const minimal = `reader:\n  url: http://127.0.0.1:9090\n  signals:\n    traffic: {query: 'sum(rate(x[1m]))'}\n`;

function problems(text: string): string[] {
  try {
    parseConfig(text, 'bad.yml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('fills every default from a minimal file', () => {
    const c = parseConfig(minimal, 'ok.yml');
    expect(c.scheduler).toMatchObject({
      step: 60_000,
      infer_every: 60_000,
      fit_every: 3_600_000,
      fit_window: 86_400_000,
      fit_min_samples: 168,
      accept_after: 600_000,
      timezone: 'UTC',
    });
    expect(c.reader).toMatchObject({ timeout: 10_000, max_points_per_query: 11000, accept_encoding: 'identity', group_by: ['service'] });
    expect(c.reader.signals.traffic).toEqual({ query: 'sum(rate(x[1m]))', direction: 'both', min_deviation: 0, min_relative_deviation: 0 });
    // The models some alert reads; mad and the per-series forest only when a config names them.
    expect(Object.keys(c.models).sort()).toEqual(['isolation_forest_group', 'jump', 'pattern', 'seasonal', 'zscore']);
    expect(c.models.jump).toEqual({ window: 3, factor: 1.75, min_samples: 30, calibration_window: 86_400_000, min_calibration: 100 });
    expect(c.models.pattern).toEqual({ window: 8, history: 1000, factor: 1.25, min_samples: 20, calibration_window: 86_400_000 });
    expect(c.models.zscore).toEqual({ threshold: 6.5, min_samples: 30, contamination: 0.001, adapt_samples: 120, risk: 0 });
    expect(c.models.seasonal).toEqual({ min_samples_per_slot: 3, memory: 240, models: ['pattern', 'isolation_forest'] });
    expect(c.ensemble).toEqual({ combine: 'max', hold_samples: 10 });
    expect(parseConfig(minimal + 'models: {isolation_forest: {}}\n', 'ok.yml').models.isolation_forest).toMatchObject({ trees: 32, sample_size: 256 });
    expect(c.server.listen).toBe('0.0.0.0:10190');
  });

  it("remembers the pattern model's distances for a day at least, and `history` samples at least", () => {
    const calibration = (yaml: string) => {
      const c = parseConfig(minimal + yaml, 'ok.yml');
      return seriesModelConfig(c, c.reader.signals.traffic).detectors.pattern?.calibration;
    };
    expect(calibration('')).toBe(1440);
    expect(calibration('scheduler: {step: 5m, infer_every: 5m}\n')).toBe(1000);
    expect(calibration('scheduler: {step: 15s}\nmodels: {pattern: {calibration_window: 2h}}\n')).toBe(1000);
    expect(calibration('scheduler: {step: 1s}\nmodels: {pattern: {calibration_window: 2d}}\n')).toBe(100000);
  });

  it('refuses a query PromQL cannot parse, naming the signal and where; reader.check_promql: false lets MetricsQL through', () => {
    const yaml = (q: string, extra = '') =>
      `reader:\n  url: http://127.0.0.1:9090\n${extra}  signals:\n    latency: {query: ${JSON.stringify(q)}}\n    traffic: {query: up}\n`;
    expect(problems(yaml('histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m]))'))).toEqual([
      'bad.yml: reader.signals.latency.query: PromQL syntax error at line 1, column 58 (at the end of the query)',
    ]);
    // MetricsQL's WITH templates are not PromQL: there, and only there, the hint to switch the check off.
    const metricsql = 'with (f = rate(x[5m])) f';
    expect(problems(yaml(metricsql))[0]).toMatch(
      /^bad\.yml: reader\.signals\.latency\.query: PromQL syntax error at line 1, column \d+ .*\(if this is MetricsQL: reader\.check_promql: false\)$/,
    );
    expect(parseConfig(yaml(metricsql, '  check_promql: false\n'), 'ok.yml').reader.signals.latency.query).toBe(metricsql);
  });

  it('defaults the ensemble to the pattern model, the z-score and the jump model at their own scales when enabled, else to every enabled model', () => {
    expect(ensembleModels(parseConfig(minimal, 'ok.yml'))).toEqual(['pattern', 'zscore', 'jump']);
    expect(ensembleModels(parseConfig(minimal + 'models: {jump: {}, mad: {}}\n', 'ok.yml'))).toEqual(['jump']);
    expect(ensembleScale(parseConfig(minimal, 'ok.yml'))).toBeUndefined();
    expect(ensembleScale(parseConfig(minimal + 'ensemble: {scale: {zscore: 0.5}}\n', 'ok.yml'))).toEqual({ zscore: 0.5 });
    expect(ensembleModels(parseConfig(minimal + 'models: {pattern: {}, mad: {}}\n', 'ok.yml'))).toEqual(['pattern']);
    expect(ensembleScale(parseConfig(minimal + 'ensemble: {models: [zscore, pattern]}\n', 'ok.yml'))).toBeUndefined();
    expect(ensembleModels(parseConfig(minimal + 'models: {zscore: {}, mad: {}}\n', 'ok.yml'))).toEqual(['zscore', 'mad']);
    expect(ensembleModels(parseConfig(minimal + 'models: {mad: {}, pattern: {}}\nensemble: {models: [mad, pattern]}\n', 'ok.yml'))).toEqual(['mad', 'pattern']);
    // mad is off by default: naming it in the ensemble alone says so.
    expect(() => parseConfig(minimal + 'ensemble: {models: [mad, pattern]}\n', 'bad.yml')).toThrow(
      /^bad\.yml: ensemble\.models\.0: model mad is not enabled in models$/,
    );
  });

  it('refuses a seasonal memory above 1,000,000 (its slot weights are kept as Float32 whole numbers), naming the field', () => {
    expect(parseConfig(minimal + 'models: {seasonal: {memory: 1000000}, zscore: {}}\n', 'ok.yml').models.seasonal?.memory).toBe(1_000_000);
    expect(() => parseConfig(minimal + 'models: {seasonal: {memory: 1000001}, zscore: {}}\n', 'bad.yml')).toThrow(/^bad\.yml: models\.seasonal\.memory: /);
  });

  it('ships an example config that is valid as is', () => {
    const c = loadConfig(join(__dirname, '..', '..', 'anomaly-exporter.yml'));
    expect(Object.keys(c.reader.signals).sort()).toEqual(['errors', 'latency', 'traffic']);
  });

  const cases: [string, string, RegExp][] = [
    ['an unknown top-level key', minimal + 'foo: 1\n', /^bad\.yml: foo: unknown key$/],
    [
      'an unknown nested key',
      minimal.replace("{query: 'sum(rate(x[1m]))'}", '{query: up, dirction: above}'),
      /^bad\.yml: reader\.signals\.traffic\.dirction: unknown key$/,
    ],
    ['a bad duration', minimal + 'scheduler: {step: 5x}\n', /^bad\.yml: scheduler\.step: "5x" is not a duration/],
    ['a wrong type', minimal + 'reader2: 1\n', /reader2: unknown key/],
    ['a missing query', `reader:\n  url: http://a:1\n  signals:\n    x: {direction: above}\n`, /^bad\.yml: reader\.signals\.x\.query: is required$/],
    ['no signals', `reader:\n  url: http://a:1\n  signals: {}\n`, /reader\.signals: define at least one signal/],
    ['a bad URL', `reader:\n  url: ftp://a\n  signals:\n    x: {query: up}\n`, /reader\.url: expected an http/],
    ['a bad direction', minimal.replace("{query: 'sum(rate(x[1m]))'}", '{query: up, direction: sideways}'), /reader\.signals\.traffic\.direction: /],
    ['a bad signal name', minimal.replace('traffic:', '"bad-name":'), /reader\.signals\.bad-name: signal names/],
    ['a negative min_deviation', minimal.replace("{query: 'sum(rate(x[1m]))'}", '{query: up, min_deviation: -1}'), /min_deviation: /],
    ['a bad listen address', minimal + 'server: {listen: nope}\n', /server\.listen: expected HOST:PORT/],
    ['a fit window shorter than two steps', minimal + 'scheduler: {step: 1m, fit_window: 1m}\n', /scheduler\.fit_window: must cover at least two steps/],
    ['an unknown time zone', minimal + 'scheduler: {timezone: Mars/Olympus}\n', /scheduler\.timezone: unknown IANA time zone/],
    ['a bad cron expression', minimal + 'scheduler: {fit_cron: "every day"}\n', /scheduler\.fit_cron: expected a cron expression/],
    ['no model at all', minimal + 'models: {}\n', /models: enable at least one model/],
    [
      'an ensemble model that is not enabled',
      minimal + 'models: {zscore: {}}\nensemble: {models: [zscore, pattern]}\n',
      /^bad\.yml: ensemble\.models\.1: model pattern is not enabled in models$/,
    ],
    ['an unknown ensemble model', minimal + 'ensemble: {models: [knn]}\n', /^bad\.yml: ensemble\.models\.0: /],
    [
      'a pattern history shorter than two windows',
      minimal + 'models: {pattern: {window: 10, history: 16}}\n',
      /models\.pattern\.history: must be at least twice the window/,
    ],
    [
      'a pattern min_samples within the window',
      minimal + 'models: {pattern: {window: 10, min_samples: 8}}\n',
      /models\.pattern\.min_samples: must be larger than the window/,
    ],
    [
      'a secret source conflict',
      minimal.replace('  signals:', '  auth: {bearer_token_file: /a, bearer_token_env: B}\n  signals:'),
      /reader\.auth: set at most one/,
    ],
    [
      'a group forest with change columns over more than 16 channels',
      minimal + 'models: {pattern: {}, isolation_forest_group: {max_channels: 20}}\n',
      /models\.isolation_forest_group\.max_channels: with changes each channel is two columns/,
    ],
    ['server.allowed_hosts that are not host names', minimal + 'server: {allowed_hosts: ["http://x/"]}\n', /server\.allowed_hosts\.0: a host name/],
    ['duplicate keys', minimal + 'server: {}\nserver: {}\n', /not valid YAML/],
    ['not YAML at all', ': : :\n  - [', /not valid YAML/],
    ['a list instead of a mapping', '- a\n- b\n', /expected a YAML mapping/],
  ];
  it.each(cases)('rejects %s, naming the file, the field and the reason', (_name, text, pattern) => {
    expect(problems(text).some((line) => pattern.test(line))).toBe(true);
  });

  it('reports every problem at once', () => {
    const lines = problems(minimal + 'foo: 1\nscheduler: {step: 5x}\n');
    expect(lines).toHaveLength(2);
  });

  it('names an unreadable file', () => {
    expect(() => loadConfig('/nonexistent/anomaly.yml')).toThrow(/^\/nonexistent\/anomaly\.yml: \(root\): cannot read file: ENOENT/);
  });

  it('applies flag and environment overrides over the file, and validates them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'a.yml');
    writeFileSync(file, minimal);
    const c = loadConfig(file, { listen: '127.0.0.1:1234', sourceUrl: 'http://127.0.0.1:9999' });
    expect(c.server.listen).toBe('127.0.0.1:1234');
    expect(c.reader.url).toBe('http://127.0.0.1:9999');
    expect(() => loadConfig(file, { listen: 'bad' })).toThrow(/server\.listen/);
  });
});

describe('reloadedConfig', () => {
  it('keeps the settings a running exporter cannot change at their running value and names those the reload changed', () => {
    const text = (listen: string, level: string, fitThreads: number) =>
      `reader: {url: "http://127.0.0.1:9090", signals: {latency: {query: lat}}}\nserver: {listen: "${listen}"}\nlogging: {level: ${level}}\nmodels: {zscore: {}, fit_threads: ${fitThreads}}\n`;
    const running = parseConfig(text('127.0.0.1:10190', 'info', 2), 'a.yml');
    const same = reloadedConfig(running, parseConfig(text('127.0.0.1:10190', 'debug', 2), 'a.yml'));
    expect(same.needsRestart).toEqual([]);
    expect(same.next.logging.level).toBe('debug');
    const moved = reloadedConfig(running, parseConfig(text('127.0.0.1:9999', 'debug', 4), 'a.yml'));
    expect(moved.needsRestart).toEqual(['server.listen', 'models.fit_threads']);
    expect(moved.next.server.listen).toBe('127.0.0.1:10190');
    expect(moved.next.models.fit_threads).toBe(2);
    expect(moved.next.logging.level).toBe('debug');
  });
});
