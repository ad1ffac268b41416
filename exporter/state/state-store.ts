import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, fsyncSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Logger } from '../../common/logger';
import { labelKey } from '../read/query-range-response';
import { Shard } from '../shard/shard';
import type { SavedGroupForest } from '../group/group-forests';
import { errorMessage } from '../../common/errors';
import { Base64Codec, decodeState, encodeState, keepDetectorStates, SeriesModelState } from '../../models';

export const STATE_FORMAT = 'anomaly-exporter-state';
export const STATE_VERSION = 1;

/** One series' saved state. `model` is a SeriesModelState (typed arrays; base64 only on disk). */
export interface SavedSeries {
  labels: Record<string, string>;
  lastTs: number;
  onset?: number;
  /** Samples since the last score above 1, while the series is anomalous. */
  sinceFlag?: number;
  /** Past incidents left out of refits, [onset, end] in seconds. */
  incidents?: [number, number][];
  /** Start of the ongoing incident's rise (its samples above half the band before its onset). */
  riseStart?: number;
  /** Per past incident, its largest deviations above and below the expected value, and its onset. */
  incidentPeaks?: number[][];
  /** What operator feedback taught: [mark id, span start, deviation above, deviation below] per false-positive mark. */
  taught?: [string, number, number, number][];
  model: SeriesModelState;
}

export interface SavedSignal {
  signal: string;
  /** Hash of what every model of the signal depends on (query, scoring, step). */
  signalHash: string;
  /** Per detector name, a hash of its options: a changed detector is dropped alone. */
  detectorHashes: Record<string, string>;
  lastFit: number;
  series: SavedSeries[];
}

interface GroupsHeader {
  format: string;
  version: number;
  kind: 'group_forests';
  options_hash: string;
  saved_at: string;
  groups: number;
}

interface Header {
  format: string;
  version: number;
  signal: string;
  signal_hash: string;
  detector_hashes: Record<string, string>;
  saved_at: string;
  last_fit: number;
  series: number;
}

export function stableHash(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(value, Object.keys(flatKeys(value)).sort()))
    .digest('hex')
    .slice(0, 16);
}

function flatKeys(value: unknown, out: Record<string, true> = {}): Record<string, true> {
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out[k] = true;
      flatKeys(v, out);
    }
  }
  return out;
}

/** Node's native base64: the models' tree walk with a faster codec for 10,000 forests. */
const NATIVE_BASE64: Base64Codec = {
  encode: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
  decode: (text) => Buffer.from(text, 'base64'),
};

/**
 * Model state on disk: one file per signal (`<signal>.state.ndjson`), a header line then a line per
 * series, written to a temporary file, fsynced and renamed over the old one, so a crash mid-save
 * leaves the previous state whole. A file that is corrupt, foreign or from another config is
 * logged and ignored, never fatal.
 */
export class StateStore {
  constructor(
    readonly dir: string,
    private readonly log: Logger,
    /** A sharded replica saves to its own file and, on start, takes its series from every replica's. */
    private readonly shard?: Shard,
  ) {}

  private file(signal: string): string {
    const spec = this.shard?.sharded ? this.shard.spec : undefined;
    return join(this.dir, spec ? `${signal}.shard-${spec.index}-of-${spec.count}.state.ndjson` : `${signal}.state.ndjson`);
  }

  /** Every file holding the signal's state: this replica's first, then the other shards' and the unsharded one. */
  private files(signal: string): string[] {
    const own = this.file(signal);
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      /* no directory yet */
    }
    const isStateOf = (n: string) => {
      if (n === `${signal}.state.ndjson`) return true;
      const prefix = `${signal}.shard-`;
      return n.startsWith(prefix) && n.endsWith('.state.ndjson') && /^\d+-of-\d+$/.test(n.slice(prefix.length, -'.state.ndjson'.length));
    };
    const others = names
      .filter(isStateOf)
      .map((n) => join(this.dir, n))
      .filter((f) => f !== own)
      .sort();
    return [own, ...others];
  }

  async save(s: SavedSignal): Promise<void> {
    const header: Header = {
      format: STATE_FORMAT,
      version: STATE_VERSION,
      signal: s.signal,
      signal_hash: s.signalHash,
      detector_hashes: s.detectorHashes,
      saved_at: new Date().toISOString(),
      last_fit: s.lastFit,
      series: s.series.length,
    };
    // Encoded one series at a time: the state of 10,000 forests never exists as one string.
    await this.writeAtomically(this.file(s.signal), JSON.stringify(header), s.series, (series) =>
      JSON.stringify({ ...series, model: encodeState(series.model, NATIVE_BASE64) }),
    );
  }

  /** Writes a header line and a line per item to a temporary file, fsyncs it and renames it over `target`. */
  private async writeAtomically<T>(target: string, header: string, items: readonly T[], line: (item: T) => string): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    const out = createWriteStream(tmp);
    try {
      const write = async (text: string) => {
        if (!out.write(text + '\n')) await once(out, 'drain');
      };
      await write(header);
      for (const item of items) await write(line(item));
      out.end();
      await once(out, 'finish');
      const fd = openSync(tmp, 'r');
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, target);
    } catch (err) {
      out.destroy();
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  /** The group forests' file (one per replica when sharded); signal names cannot hold a hyphen, so it never meets a signal's. */
  private groupsFile(shardIndex?: number, shardCount?: number): string {
    return join(this.dir, shardCount !== undefined ? `group-forests.shard-${shardIndex}-of-${shardCount}.state.ndjson` : 'group-forests.state.ndjson');
  }

  /** Saves the group forests, made under the options `optionsHash` stands for. */
  async saveGroups(groups: readonly SavedGroupForest[], optionsHash: string): Promise<void> {
    const spec = this.shard?.sharded ? this.shard.spec : undefined;
    const header: GroupsHeader = {
      format: STATE_FORMAT,
      version: STATE_VERSION,
      kind: 'group_forests',
      options_hash: optionsHash,
      saved_at: new Date().toISOString(),
      groups: groups.length,
    };
    await this.writeAtomically(this.groupsFile(spec?.index, spec?.count), JSON.stringify(header), groups, (g) =>
      JSON.stringify({ ...g, forest: encodeState(g.forest, NATIVE_BASE64) }),
    );
  }

  /**
   * The saved group forests made under the same options: this replica's file first, then the
   * others' (after a reshard a group's forest comes from wherever it was saved), only the groups
   * this replica owns. A file that is corrupt, foreign or from other options is logged and ignored.
   */
  async loadGroups(optionsHash: string): Promise<SavedGroupForest[]> {
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const files = names.filter((n) => n === 'group-forests.state.ndjson' || /^group-forests\.shard-\d+-of-\d+\.state\.ndjson$/.test(n)).sort();
    const spec = this.shard?.sharded ? this.shard.spec : undefined;
    const own = this.groupsFile(spec?.index, spec?.count).slice(this.dir.length + 1);
    files.sort((a, b) => Number(b === own) - Number(a === own));
    const byKey = new Map<string, SavedGroupForest>();
    for (const name of files) {
      const file = join(this.dir, name);
      try {
        const lines = readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '');
        const header = JSON.parse(lines[0] ?? 'null') as GroupsHeader | null;
        if (!header || header.format !== STATE_FORMAT || header.version !== STATE_VERSION || header.kind !== 'group_forests')
          throw new Error('not a group forests state file');
        if (header.options_hash !== optionsHash) {
          this.log.info('group forest options changed since the state was saved; the forests start fresh', { file });
          continue;
        }
        if (lines.length - 1 !== header.groups) throw new Error(`truncated: ${lines.length - 1} of ${header.groups} groups`);
        for (const line of lines.slice(1)) {
          const g = JSON.parse(line) as SavedGroupForest;
          if (!g || typeof g.key !== 'string' || typeof g.labels !== 'object' || g.labels === null) throw new Error('malformed group entry');
          if (this.shard && !this.shard.owns(g.labels)) continue;
          const known = byKey.get(g.key);
          if (!known || known.lastFit < g.lastFit) byKey.set(g.key, { ...g, forest: decodeState(g.forest, NATIVE_BASE64) as SavedGroupForest['forest'] });
        }
      } catch (err) {
        this.log.warn('group forests state file corrupt or foreign; ignored, those forests start fresh', { file, error: errorMessage(err) });
      }
    }
    return [...byKey.values()];
  }

  /**
   * The saved state of a signal if it is readable and was made with the same signal config;
   * detectors whose options changed are removed from each series' model state.
   */
  async load(signal: string, signalHash: string, detectorHashes: Record<string, string>): Promise<SavedSignal | undefined> {
    if (!this.shard) return this.loadFile(this.file(signal), signal, signalHash, detectorHashes);
    // Sharded, or sharded before: a series' newest state wins, wherever it was saved, and only
    // the series this replica owns are kept (after COUNT changed, moved series warm up from here).
    const bySeries = new Map<string, SavedSeries>();
    let lastFit = Infinity;
    let found = false;
    for (const file of this.files(signal)) {
      const saved = await this.loadFile(file, signal, signalHash, detectorHashes);
      if (!saved) continue;
      found = true;
      lastFit = Math.min(lastFit, saved.lastFit);
      for (const x of saved.series) {
        if (!this.shard.owns(x.labels)) continue;
        const key = labelKey(x.labels);
        const known = bySeries.get(key);
        if (!known || known.lastTs < x.lastTs) bySeries.set(key, x);
      }
    }
    return found ? { signal, signalHash, detectorHashes, lastFit, series: [...bySeries.values()] } : undefined;
  }

  private async loadFile(file: string, signal: string, signalHash: string, detectorHashes: Record<string, string>): Promise<SavedSignal | undefined> {
    let stream;
    try {
      stream = createReadStream(file, { encoding: 'utf8' });
      await once(stream, 'open');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn('state file unreadable; starting fresh', { file, error: errorMessage(err) });
      return undefined;
    }
    try {
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      let header: Header | undefined;
      const series: SavedSeries[] = [];
      for await (const line of lines) {
        if (!header) {
          header = JSON.parse(line) as Header;
          if (header.format !== STATE_FORMAT || header.version !== STATE_VERSION || header.signal !== signal) {
            throw new Error(`not an ${STATE_FORMAT} v${STATE_VERSION} file for signal ${signal}`);
          }
          if (header.signal_hash !== signalHash) {
            this.log.info('signal config changed since the state was saved; its models start fresh', { signal, file });
            return undefined;
          }
          continue;
        }
        if (line.trim() === '') continue;
        const entry = JSON.parse(line) as SavedSeries;
        if (!entry || typeof entry.labels !== 'object' || typeof entry.lastTs !== 'number') throw new Error('malformed series entry');
        const saved = header.detector_hashes;
        const model = decodeState(entry.model, NATIVE_BASE64) as SeriesModelState;
        // A detector whose options changed since the save starts fresh; the others keep their fits.
        series.push({ ...entry, model: keepDetectorStates(model, (name) => saved[name] !== undefined && saved[name] === detectorHashes[name]) });
      }
      if (!header) throw new Error('empty state file');
      if (series.length !== header.series) throw new Error(`truncated: ${series.length} of ${header.series} series`);
      const changed = Object.keys(detectorHashes).filter((d) => header!.detector_hashes[d] !== detectorHashes[d]);
      if (changed.length) this.log.info('model options changed since the state was saved; those models start fresh', { signal, models: changed });
      return { signal, signalHash, detectorHashes, lastFit: header.last_fit, series };
    } catch (err) {
      this.log.warn('state file corrupt or foreign; ignored, models start fresh', { file, error: errorMessage(err) });
      return undefined;
    } finally {
      stream.destroy();
    }
  }

  /** Removes leftovers of interrupted saves. */
  cleanTemporary(): void {
    try {
      for (const name of readdirSync(this.dir)) if (name.endsWith('.tmp')) rmSync(join(this.dir, name), { force: true });
    } catch {
      /* no directory yet */
    }
  }
}
