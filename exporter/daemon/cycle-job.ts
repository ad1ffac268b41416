/**
 * One scheduled cycle as the daemon runs it: under the cycle lock (a reload waits for it), with
 * fit_timeout instead of the cycle timeout when it refits, counted, timed, recorded for /readyz
 * and logged (a warning when a signal failed).
 */
import { errorMessage } from '../../common/errors';
import { Logger } from '../../common/logger';
import { Mutex } from '../../common/mutex';
import { ExporterConfig } from '../config/config';
import { ScoringPipeline } from '../cycle/scoring-pipeline';
import { SelfMetrics } from '../publish/self-metrics';
import { Clock, PeriodicRunnerOptions, RunJob } from './periodic-runner';
import { Readiness } from './readiness';

export interface CycleJobParts {
  pipeline: () => ScoringPipeline;
  config: () => ExporterConfig;
  lock: Mutex;
  metrics: SelfMetrics;
  readiness: Readiness;
  log: Logger;
  clock: Clock;
}

export function cycleJob(p: CycleJobParts): RunJob {
  return async (signal, _scheduledAt, deadline) => {
    p.metrics.cycles.inc();
    const end = p.metrics.cycleDuration.startTimer();
    const report = await p.lock.run(() => {
      const now = new Date(p.clock.now());
      // A refit reads a whole fit window and fits: it gets fit_timeout, so a cold start at scale
      // is not cut by the infer cycle's timeout and redone over and over.
      if (p.pipeline().refitsAt(now)) deadline.setTimeoutMs(p.config().scheduler.fit_timeout);
      return p.pipeline().runOnce(now, signal);
    });
    end();
    p.readiness.record(report);
    const failed = Object.entries(report.signals).filter(([, r]) => !r.ok);
    p.log.log(failed.length ? 'warn' : 'debug', 'cycle done', {
      duration_seconds: Number(report.durationSeconds.toFixed(3)),
      source_up: report.sourceUp,
      series: Object.values(report.signals).reduce((a, r) => a + r.series, 0),
      fitted: Object.entries(report.signals)
        .filter(([, r]) => r.fitted)
        .map(([n]) => n),
      failed: failed.map(([n, r]) => ({ signal: n, error: r.error })),
    });
  };
}

/** What the runner reports at each cycle's end: a cut cycle and a failed one are counted and logged. */
export function cycleEnd(metrics: SelfMetrics, log: Logger): NonNullable<PeriodicRunnerOptions['onRunEnd']> {
  return (o) => {
    if (o.timedOut) {
      metrics.cycleTimeouts.inc();
      log.warn('cycle cut by its timeout; in-flight queries aborted', { duration_ms: o.durationMs });
    }
    if (o.error) log.error('cycle failed', { error: errorMessage(o.error) });
  };
}
