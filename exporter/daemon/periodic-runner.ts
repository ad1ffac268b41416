/** Time source and timers, injectable so that tests never sleep. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface RunOutcome {
  timedOut: boolean;
  error?: unknown;
  durationMs: number;
}

/**
 * Lets a run that knows it has more to do than an ordinary one (a refit) take a longer deadline
 * than `timeoutMs`, counted from the run's start. It is still one run: the schedule waits for it.
 */
export interface RunDeadline {
  setTimeoutMs(ms: number): void;
}

/** One run: aborted through `signal` at its deadline, which the run may move (setTimeoutMs). */
export type RunJob = (signal: AbortSignal, scheduledAt: number, deadline: RunDeadline) => Promise<unknown>;

export interface PeriodicRunnerOptions {
  intervalMs: number;
  /** A run still going after this long is aborted (its AbortSignal fires) and counted. */
  timeoutMs: number;
  clock?: Clock;
  onRunEnd?: (outcome: RunOutcome) => void;
}

/**
 * Runs `task` every `intervalMs`, never overlapping (like OpenTelemetry's
 * PeriodicExportingMetricReader): the next run is scheduled when the current one ends, at the next
 * interval boundary after its start; a run that hits its timeout is aborted and the schedule
 * carries on on time. Timers are unref'd so they never keep the process alive.
 */
export class PeriodicRunner {
  private timer: unknown;
  private running?: Promise<void>;
  private controller?: AbortController;
  private stopped = true;
  private readonly clock: Clock;

  constructor(
    private readonly task: RunJob,
    private readonly opts: PeriodicRunnerOptions,
  ) {
    if (opts.intervalMs <= 0 || opts.timeoutMs <= 0) throw new RangeError('interval and timeout must be positive');
    this.clock = opts.clock ?? systemClock;
  }

  /** New interval and timeout (a config reload); they apply from the next scheduled run. */
  retime(intervalMs: number, timeoutMs: number): void {
    if (intervalMs <= 0 || timeoutMs <= 0) throw new RangeError('interval and timeout must be positive');
    this.opts.intervalMs = intervalMs;
    this.opts.timeoutMs = timeoutMs;
  }

  /** Starts with an immediate run. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(this.clock.now(), 0);
  }

  /** Stops scheduling, aborts a run in flight and waits for it to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.controller?.abort(new Error('runner stopped'));
    await this.running;
  }

  private schedule(at: number, delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.running = this.runOnce(at);
    }, delayMs);
  }

  private async runOnce(scheduledAt: number): Promise<void> {
    const started = this.clock.now();
    const controller = new AbortController();
    this.controller = controller;
    let timedOut = false;
    let timeoutHandle: unknown;
    let fire: () => void = () => undefined;
    const timeout = new Promise<void>((resolve) => {
      fire = () => {
        timedOut = true;
        controller.abort(new Error(`run exceeded its timeout`));
        resolve();
      };
      timeoutHandle = this.clock.setTimeout(fire, this.opts.timeoutMs);
    });
    const deadline: RunDeadline = {
      setTimeoutMs: (ms) => {
        if (timedOut || controller.signal.aborted) return;
        this.clock.clearTimeout(timeoutHandle);
        timeoutHandle = this.clock.setTimeout(fire, Math.max(0, started + ms - this.clock.now()));
      },
    };
    let error: unknown;
    // The task gets the abort signal; we stop waiting for it at the timeout either way, so a task
    // that ignores its signal cannot hold up the schedule.
    await Promise.race([this.task(controller.signal, scheduledAt, deadline).catch((e) => (error = e)), timeout]);
    this.clock.clearTimeout(timeoutHandle);
    this.controller = undefined;
    const ended = this.clock.now();
    this.opts.onRunEnd?.({ timedOut, error, durationMs: ended - started });
    // Next run at the first interval boundary after this run's scheduled time that is not past.
    const interval = this.opts.intervalMs;
    let next = scheduledAt + interval;
    if (next < ended) next = scheduledAt + Math.ceil((ended - scheduledAt) / interval) * interval;
    this.schedule(next, Math.max(0, next - ended));
  }
}
