/**
 * Gives the event loop a turn during a long walk over series or groups, every `everyMs` of work,
 * so /healthz and /metrics answer while a cycle of 30,000 series runs (a walk of 1.5 s in one
 * piece held every request that long). Use: `if (turns.due()) await turns.take();` in the loop.
 */
export class LoopTurns {
  private since = performance.now();

  constructor(private readonly everyMs = 20) {}

  /** Whether the walk has run `everyMs` since its last turn. */
  due(): boolean {
    return performance.now() - this.since > this.everyMs;
  }

  /** Lets whatever waits (timers, requests) run, then goes on. */
  async take(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}
