/**
 * The config `init` writes: the source, the group labels, and the signals of every preset found,
 * each with a comment that says what it measures and where it came from; the rest left to the
 * defaults, with a pointer to where they are described.
 */
import { presetSignalEntries } from '../presets';
import { Discovery } from './discover';

/** A YAML single-quoted scalar: any text, a quote doubled. */
function quoted(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** How init reached the source, written into the config so `run` reaches it the same way. */
export interface SourceAccess {
  headers?: Record<string, string>;
  bearerTokenFile?: string;
}

export function renderInitConfig(url: string, d: Discovery, at: Date, access: SourceAccess = {}): string {
  const entries = presetSignalEntries(d.found.flatMap((f) => f.signals.map((s) => ({ preset: f.preset, signal: s.signal, query: s.query }))));
  const groupBy = [...new Set(d.found.map((f) => f.groupLabel))];
  const lines: string[] = [
    `# Written by \`anomaly-exporter init --source ${url}\` on ${at.toISOString().slice(0, 10)}.`,
    `# The source holds ${plural(d.metricNames, 'metric name')}; these presets matched:`,
    ...d.found.map(
      (f) =>
        `#   ${f.preset.name}: ${f.preset.title}; grouped by ${f.groupLabel}${f.groups === undefined ? '' : ` (${plural(f.groups, 'value')} now)`}` +
        (f.missing.length ? `; not written, for want of their metrics: ${f.missing.map((s) => s.name).join(', ')}` : ''),
    ),
    '# Try every query: anomaly-exporter check --config FILE --source URL',
    '# Run it:          anomaly-exporter run --config FILE',
    '# Every other setting has its default (docs/configuration.md); `preset: NAME` instead of',
    '# reader.signals takes a preset as it is.',
    'reader:',
    `  url: ${quoted(url)}`,
    ...(access.headers && Object.keys(access.headers).length
      ? ['  headers:', ...Object.entries(access.headers).map(([k, v]) => `    ${quoted(k)}: ${quoted(v)}`)]
      : []),
    ...(access.bearerTokenFile ? [`  auth: {bearer_token_file: ${quoted(access.bearerTokenFile)}}   # read at start; never written here`] : []),
    `  group_by: [${groupBy.join(', ')}]   # the labels that name a service: one group of signals per value`,
    '  signals:',
  ];
  for (const e of entries) {
    lines.push(`    # ${e.preset.name}: ${e.signal.help}`);
    lines.push(`    ${e.name}:`);
    lines.push(`      query: ${quoted(e.config.query)}`);
    lines.push(`      unit: ${e.config.unit}`);
    lines.push(`      direction: ${e.config.direction}`);
    if (e.config.kind) lines.push(`      kind: ${e.config.kind}`);
    if (e.config.min_deviation !== undefined)
      lines.push(`      min_deviation: ${e.config.min_deviation}   # ${e.config.unit}: a smaller deviation never pages`);
    if (e.config.min_relative_deviation !== undefined)
      lines.push(
        `      min_relative_deviation: ${e.config.min_relative_deviation}   # a deviation under ${e.config.min_relative_deviation * 100} % of the expected value never pages`,
      );
  }
  return `${lines.join('\n')}\n`;
}
