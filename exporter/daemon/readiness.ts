import { RunReport } from '../cycle/scoring-pipeline';

/** Cycles in a row a signal may fail before the exporter reports itself not ready. */
export const FAILED_CYCLES_NOT_READY = 3;

/**
 * What /readyz answers: not ready until a cycle has reached the source, and while any signal has
 * failed its last FAILED_CYCLES_NOT_READY cycles (a broken query, a source that refuses it), with
 * the reason. One failed cycle is a blip; a signal failing every cycle scores nothing, and a
 * rollout or a load balancer should know.
 */
export class Readiness {
  private hadSuccess = false;
  private readonly failures = new Map<string, { count: number; error: string }>();

  /**
   * A cycle cut by its timeout counts as failed for each signal it cut: with cycle_timeout under
   * the reader's timeout × attempts every read is cut, and that exporter scores nothing.
   */
  record(report: RunReport): void {
    if (report.sourceUp) this.hadSuccess = true;
    for (const [signal, r] of Object.entries(report.signals)) {
      if (r.ok) this.failures.delete(signal);
      else {
        const error = report.aborted ? 'cut by its timeout (scheduler.cycle_timeout) before its read finished' : (r.error ?? 'failed');
        this.failures.set(signal, { count: (this.failures.get(signal)?.count ?? 0) + 1, error });
      }
    }
  }

  /** After a reload: failures of signals no longer configured stop counting. */
  keepOnly(signals: readonly string[]): void {
    for (const s of [...this.failures.keys()]) if (!signals.includes(s)) this.failures.delete(s);
  }

  /** Why the exporter is not ready, or undefined when it is. */
  problem(): string | undefined {
    if (!this.hadSuccess) return 'no successful cycle yet';
    const failing = [...this.failures].filter(([, f]) => f.count >= FAILED_CYCLES_NOT_READY);
    if (failing.length === 0) return undefined;
    return failing.map(([signal, f]) => `signal ${signal} failed its last ${f.count} cycles: ${f.error}`).join('; ');
  }
}
