import { ENSEMBLE_MODEL, INCIDENT_PATTERN_NAMES, METRIC } from '../../common/vocabulary';
import { Snapshot } from './snapshot';

/**
 * Renders the snapshot's public metrics in the Prometheus text format (version 0.0.4).
 * prom-client formats label sets value by value on every scrape; here each series' label string
 * is escaped once and reused by its eight lines, and the text of a snapshot is built once and
 * served to every scrape until the next cycle replaces the snapshot.
 */
export function renderSnapshot(s: Snapshot, inferEvery: string): string {
  const sink = new ByteSink();
  renderSnapshotTo(sink, s, inferEvery);
  return Buffer.concat(sink.finish()).toString();
}

/**
 * Writes the exposition text into `out` line by line: each line is UTF-8 encoded as soon as it is
 * made, so a render of 10,000 series leaves 1 MB buffers, not 80,000 strings and their join.
 */
function renderSnapshotTo(out: ByteSink, s: Snapshot, inferEvery: string): void {
  const every = `Computed every ${inferEvery}.`;
  const labelStrings = s.series.map((r) => formatLabels(r.labels));
  const family = (name: string, help: string) => out.push(`# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} gauge\n`);

  family(METRIC.score, `Anomaly score per model and for the ensemble: 0 at the expected value, 1 at the band edge, above 1 anomalous. ${every}`);
  s.series.forEach((r, i) => {
    const l = labelStrings[i];
    for (const model in r.scores) out.push(`${METRIC.score}{${l},model="${escapeLabel(model)}"} ${num(r.scores[model])}\n`);
    out.push(`${METRIC.score}{${l},model="${ENSEMBLE_MODEL}"} ${num(r.ensemble)}\n`);
  });
  family(METRIC.observedValue, `The newest value that was scored. ${every}`);
  s.series.forEach((r, i) => out.push(`${METRIC.observedValue}{${labelStrings[i]}} ${num(r.value)}\n`));
  const band: [string, string, 'expected' | 'lower' | 'upper'][] = [
    [METRIC.expectedValue, `The ensemble's expected value (from the statistical models). ${every}`, 'expected'],
    [METRIC.expectedLower, `Lower edge of the ensemble's expected band (score 1 on the low side). ${every}`, 'lower'],
    [METRIC.expectedUpper, `Upper edge of the ensemble's expected band (score 1 on the high side). ${every}`, 'upper'],
  ];
  for (const [name, help, key] of band) {
    family(name, help);
    s.series.forEach((r, i) => {
      if (Number.isFinite(r[key])) out.push(`${name}{${labelStrings[i]}} ${num(r[key])}\n`);
    });
  }
  family(METRIC.onsetTimestamp, `Unix time at which the current anomalous stretch (ensemble score above 1) began; absent when normal. ${every}`);
  s.series.forEach((r, i) => {
    if (r.onsetSeconds !== undefined) out.push(`${METRIC.onsetTimestamp}{${labelStrings[i]}} ${num(r.onsetSeconds)}\n`);
  });
  if (s.series.some((r) => r.maintenance)) {
    family(
      METRIC.maintenance,
      `1 while the series' newest sample lies in a maintenance window (a silence marked "anomaly: maintenance"): scored, but the shipped rules do not alert; absent otherwise. ${every}`,
    );
    s.series.forEach((r, i) => {
      if (r.maintenance) out.push(`${METRIC.maintenance}{${labelStrings[i]}} 1\n`);
    });
  }
  const groupLabels = s.groups.map((g) => formatLabels(g.labels));
  family(METRIC.anomalousSignals, `Signals of the group whose ensemble anomaly score is above 1 now. ${every}`);
  s.groups.forEach((g, i) => out.push(`${METRIC.anomalousSignals}${braces(groupLabels[i])} ${g.anomalousSignals}\n`));
  if (s.groups.some((g) => g.forestScore !== undefined)) {
    family(METRIC.groupScore, `Anomaly score of the group's signals taken together (multivariate isolation forest): above 1 anomalous. ${every}`);
    s.groups.forEach((g, i) => {
      if (g.forestScore !== undefined) out.push(`${METRIC.groupScore}${braces(groupLabels[i])} ${num(g.forestScore)}\n`);
    });
    family(
      METRIC.groupContribution,
      `Each signal's share (0 to 1, the group's shares sum to 1) in what makes the group's signals together unusual now (the splits of its isolation forest that isolate the newest row). ${every}`,
    );
    s.groups.forEach((g, i) => {
      const l = groupLabels[i] ? `${groupLabels[i]},` : '';
      for (const [signal, share] of Object.entries(g.forestContributions ?? {}))
        out.push(`${METRIC.groupContribution}{${l}signal="${escapeLabel(signal)}"} ${num(share)}\n`);
    });
  }
  family(METRIC.signalCorrelation, `Correlation of two signals of the group over the correlation window, by method (pearson, spearman), in [-1, 1]. ${every}`);
  s.groups.forEach((g, i) => {
    const l = groupLabels[i] ? `${groupLabels[i]},` : '';
    for (const c of g.correlations)
      out.push(
        `${METRIC.signalCorrelation}{${l}signal_a="${escapeLabel(c.signalA)}",signal_b="${escapeLabel(c.signalB)}",method="${c.method}"} ${num(c.value)}\n`,
      );
  });
  family(
    METRIC.incidentInfo,
    `1 while the group has anomalous signals; first_signal moved first, pattern is one of ${INCIDENT_PATTERN_NAMES.join(', ')}. ${every}`,
  );
  s.groups.forEach((g, i) => {
    if (!g.incident) return;
    const l = groupLabels[i] ? `${groupLabels[i]},` : '';
    out.push(`${METRIC.incidentInfo}{${l}first_signal="${escapeLabel(g.incident.firstSignal)}",pattern="${g.incident.pattern}"} 1\n`);
  });
}

/** Appends UTF-8 text into 1 MB buffers. */
class ByteSink {
  private static readonly CHUNK = 1 << 20;
  private readonly chunks: Buffer[] = [];
  private buf = Buffer.allocUnsafe(ByteSink.CHUNK);
  private pos = 0;

  push(text: string): void {
    // At most 3 bytes per UTF-16 unit: a line that might not fit starts a new buffer.
    if (this.pos + text.length * 3 > this.buf.length) {
      this.flush();
      if (text.length * 3 > this.buf.length) {
        this.chunks.push(Buffer.from(text));
        return;
      }
    }
    this.pos += this.buf.write(text, this.pos);
  }

  finish(): Buffer[] {
    this.flush();
    return this.chunks;
  }

  private flush(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(ByteSink.CHUNK);
    this.pos = 0;
  }
}

/**
 * Caches the rendered body of the latest snapshot (snapshots are immutable) as UTF-8 buffers, so
 * every scrape writes the same bytes instead of re-encoding 13 MB of text at 10,000 series.
 */
export class SnapshotPublisher {
  private cachedFor?: Snapshot;
  private cached: readonly Buffer[] = [];

  constructor(
    private readonly current: () => Snapshot,
    private inferEvery: string,
  ) {}

  /** The infer interval shown in HELP texts, after a reload changed it. */
  setInterval(inferEvery: string): void {
    if (inferEvery === this.inferEvery) return;
    this.inferEvery = inferEvery;
    this.cachedFor = undefined;
  }

  render(): readonly Buffer[] {
    const s = this.current();
    if (s !== this.cachedFor) {
      const sink = new ByteSink();
      renderSnapshotTo(sink, s, this.inferEvery);
      this.cached = sink.finish();
      this.cachedFor = s;
    }
    return this.cached;
  }
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  let out = '';
  for (const k in labels) out += `${out ? ',' : ''}${k}="${escapeLabel(labels[k])}"`;
  return out;
}

const braces = (l: string) => (l ? `{${l}}` : '');

/** Label values escape backslash, double quote and line feed (text format 0.0.4). */
export function escapeLabel(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Go-style float text, as Prometheus parses it: NaN, +Inf, -Inf. */
function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
