import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, errorMessage } from '../../common/errors';
import { PrometheusError, PrometheusHttp } from '../../common/prometheus-http';
import { readSecret } from '../../common/secrets';
import { parseConfig } from '../../exporter/config/config';
import { discover, DiscoveryError } from '../../exporter/init/discover';
import { renderInitConfig } from '../../exporter/init/init-config';
import { PRESETS } from '../../exporter/presets';
import { Command, parse, UsageError } from '../command';
import { tryQueries } from '../try-queries';

const USAGE = `Usage: anomaly-exporter init --source URL [--out FILE] [--force] [--header NAME:VALUE] [--bearer-token-file FILE]

Reads what a Prometheus-compatible source holds (metric names and their labels, through its HTTP
API) and writes a commented config with the signals of every preset it finds, grouped by the
label that names a service. The config is checked, and each query run once against the source,
before it is written: init never writes a config that \`check --source\` refuses.

  --source URL  the source's base URL, e.g. http://127.0.0.1:9090
  --out FILE    where to write the config (default: standard output; the summary goes to stderr)
  --force       overwrite FILE if it exists
  --header NAME:VALUE      a header for every request (e.g. X-Scope-OrgID:tenant-1 for Mimir);
                           it goes into the config's reader.headers
  --bearer-token-file FILE a bearer token for the source, read from FILE; the config names the
                           file (reader.auth.bearer_token_file), never the token

Presets:
${PRESETS.map((p) => `  ${p.name.padEnd(20)}${p.title}`).join('\n')}

Exit 0: written. Exit 1: the source could not be read, holds none of the presets' metrics, or
refused a query (nothing written). Exit 2: a bad command line, or FILE exists without --force.
`;

/** Discovery reads a few small answers: a source slower than this is down for init's purpose. */
const TIMEOUT_MS = 15_000;
/** The metric-name list of a large source (100,000 names is about 4 MB) and nothing larger. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

export const initCommand: Command = {
  summary: 'write a config for a source: finds the presets its metrics match (exit 0 written, 1 nothing found or unreachable)',
  synopsis: ['init --source URL [--out FILE] [--force] [--header NAME:VALUE] [--bearer-token-file FILE]'],
  async run(args) {
    const v = parse(
      args,
      {
        source: { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean', default: false },
        header: { type: 'string' },
        'bearer-token-file': { type: 'string' },
      },
      USAGE,
    );
    if (!v) return 0;
    const source = v.source;
    if (!source) throw new UsageError(`init: --source URL is required\n\n${USAGE}`);
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      throw new UsageError(`init: --source ${source}: not a URL (expected e.g. http://127.0.0.1:9090)\n\n${USAGE}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`init: --source ${source}: expected an http:// or https:// URL`);
    const out = v.out;
    if (out !== undefined && existsSync(out) && !v.force) throw new UsageError(`init: ${out} exists; pass --force to overwrite it`);
    const say = (line: string) => process.stderr.write(`${line}\n`);
    const headers: Record<string, string> = {};
    if (v.header !== undefined) {
      const at = v.header.indexOf(':');
      const name = at > 0 ? v.header.slice(0, at).trim() : '';
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw new UsageError(`init: --header ${v.header}: expected NAME:VALUE, e.g. X-Scope-OrgID:tenant-1`);
      headers[name] = v.header.slice(at + 1).trim();
    }
    // Absolute: `run` may start from another directory.
    const tokenFile = v['bearer-token-file'] === undefined ? undefined : resolve(v['bearer-token-file']);
    let bearerToken: string | undefined;
    if (tokenFile !== undefined) {
      try {
        bearerToken = readSecret({ file: tokenFile }, 'bearer token');
      } catch (err) {
        throw new UsageError(`init: --bearer-token-file: ${errorMessage(err)}`);
      }
    }

    const http = new PrometheusHttp({ url: source, timeoutMs: TIMEOUT_MS, maxResponseBytes: MAX_ANSWER_BYTES, headers, bearerToken });
    let d;
    try {
      d = await discover(http);
    } catch (err) {
      if (err instanceof PrometheusError || err instanceof DiscoveryError) {
        say(`init: could not read ${source}${err instanceof PrometheusError ? ` (${err.kind})` : ''}: ${errorMessage(err)}`);
        return 1;
      }
      throw err;
    }
    if (d.found.length === 0) {
      say(`init: ${source} holds ${d.metricNames.toLocaleString('en-US')} metric names, and none of any preset's:`);
      for (const p of PRESETS) say(`  ${p.name}: ${p.metrics.join(', ')}${p.groupLabels.length ? ` (with a ${p.groupLabels.join(' or ')} label)` : ''}`);
      say('Nothing written. Write the signals by hand (docs/configuration.md, reader.signals): any PromQL the source answers.');
      return 1;
    }
    const file = out ?? '<init>';
    const text = renderInitConfig(source, d, new Date(), { headers, bearerTokenFile: tokenFile });
    let config;
    try {
      config = parseConfig(text, file);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      say(`init: the config it made is refused by check, so it is not written (a bug: please report it with this output):\n${err.message}\n---\n${text}`);
      return 1;
    }
    for (const f of d.found)
      say(`${f.preset.name}: ${f.signals.map((s) => s.signal.name).join(', ')} by ${f.groupLabel}${f.groups === undefined ? '' : ` (${f.groups} now)`}`);
    // Each query once against the source, as `check --source` would: a refused one means no config.
    const refused = await tryQueries(config, file, process.stderr, process.stderr);
    if (refused > 0) {
      say(`init: ${source} refused ${refused} of the queries; nothing written`);
      return 1;
    }
    if (out === undefined) {
      process.stdout.write(text);
      return 0;
    }
    // Whole or not at all: a config half written by a full disk would be read as it is.
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, out);
    say(`${out}: written (${Object.keys(config.reader.signals).length} signals). Run it: anomaly-exporter run --config ${out}`);
    return 0;
  },
};
