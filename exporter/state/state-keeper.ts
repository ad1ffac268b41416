/**
 * The model state on disk over a daemon's life: restored once at start, saved every
 * `state.save_every` and at stop (every signal's models, the group forests and the feedback
 * marks). A save never throws and never overlaps the one before it; a failed one is logged.
 */
import { errorMessage } from '../../common/errors';
import { Logger } from '../../common/logger';
import { ExporterConfig, shardSpec } from '../config/config';
import { ScoringPipeline } from '../cycle/scoring-pipeline';
import { Shard } from '../shard/shard';
import { StateStore } from './state-store';

export class StateKeeper {
  private readonly store?: StateStore;
  private timer?: NodeJS.Timeout;
  private everyMs = 0;
  private saving = false;

  /** Nothing is kept without `state.dir`; the directory and the shard are fixed for the process's life. */
  constructor(
    config: ExporterConfig,
    private readonly pipeline: () => ScoringPipeline,
    private readonly log: Logger,
  ) {
    if (config.state.dir) this.store = new StateStore(config.state.dir, log, new Shard(shardSpec(config), config.reader.group_by));
  }

  /** Loads saved model state, signal by signal; anything unusable is logged and skipped. */
  async restore(config: ExporterConfig): Promise<void> {
    const store = this.store;
    if (!store) return;
    const pipeline = this.pipeline();
    store.cleanTemporary();
    for (const signal of Object.keys(config.reader.signals)) {
      const { signalHash, detectorHashes } = pipeline.stateHashes(signal);
      const saved = await store.load(signal, signalHash, detectorHashes);
      if (saved) this.log.info('model state restored', { signal, series: pipeline.restoreState(saved) });
    }
    try {
      const marks = pipeline.feedback.load(store.dir);
      if (marks) this.log.info('feedback marks restored', { marks });
    } catch (err) {
      this.log.warn('feedback marks not restored', { error: errorMessage(err) });
    }
    const groupsHash = pipeline.groupForestsHash;
    if (groupsHash !== undefined) {
      const groups = await store.loadGroups(groupsHash);
      if (groups.length) this.log.info('group forests restored', { groups: pipeline.restoreGroupForests(groups) });
    }
  }

  /** Saves every signal's model state (atomic per file). Never throws: a failed save is logged. */
  async save(): Promise<void> {
    const store = this.store;
    if (!store || this.saving) return;
    this.saving = true;
    const started = performance.now();
    const pipeline = this.pipeline();
    try {
      for (const s of pipeline.exportState()) await store.save(s);
      const groupsHash = pipeline.groupForestsHash;
      if (groupsHash !== undefined) await store.saveGroups(pipeline.exportGroupForests(), groupsHash);
      pipeline.feedback.save(store.dir);
      this.log.debug('model state saved', { dir: store.dir, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) });
    } catch (err) {
      this.log.error('saving model state failed', { dir: store.dir, error: errorMessage(err) });
    } finally {
      this.saving = false;
    }
  }

  /** Saves every `state.save_every` from now on (a reload that changes it restarts the timer). */
  schedule(config: ExporterConfig): void {
    if (!this.store || (this.timer && config.state.save_every === this.everyMs)) return;
    if (this.timer) clearInterval(this.timer);
    this.everyMs = config.state.save_every;
    this.timer = setInterval(() => void this.save(), this.everyMs);
    this.timer.unref();
  }

  /** Stops the timer and saves one last time. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.save();
  }
}
