/**
 * `scheduler.fit_cron`: a cron expression (in `scheduler.timezone`) at which every signal refits
 * on the next cycle, besides `fit_every`. A reload that changes either reschedules it.
 */
import cron, { ScheduledTask } from 'node-cron';

export class FitCron {
  private task?: ScheduledTask;
  private key?: string;

  constructor(private readonly requestFit: () => void) {}

  /** Schedules `expr` (none: no cron) in `timezone`, replacing what ran before when either changed. */
  async schedule(expr: string | undefined, timezone: string): Promise<void> {
    const key = expr ? `${expr}\u0000${timezone}` : undefined;
    if (key === this.key) return;
    await this.stop();
    this.key = key;
    if (expr) this.task = cron.schedule(expr, () => this.requestFit(), { timezone, name: 'fit_cron' });
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    this.task = undefined;
    this.key = undefined;
  }
}
