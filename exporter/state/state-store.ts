import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, fsyncSync, mkdirSync, openSync, closeSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Logger } from '../../common/logger';
import { labelKey } from '../read/query-range-response';
import { Shard } from '../shard/shard';
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
    mkdirSync(this.dir, { recursive: true });
    const target = this.file(s.signal);
    const tmp = `${target}.${process.pid}.tmp`;
    const out = createWriteStream(tmp);
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
    try {
      const write = async (line: string) => {
        if (!out.write(line + '\n')) await once(out, 'drain');
      };
      await write(JSON.stringify(header));
      // Encoded one series at a time: the state of 10,000 forests never exists as one string.
      for (const series of s.series) await write(JSON.stringify({ ...series, model: encodeState(series.model, NATIVE_BASE64) }));
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
