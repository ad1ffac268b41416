import { FakeClock } from '../../test/doubles/fake-clock';
import { PeriodicRunner, RunOutcome } from './periodic-runner';

/** A task that takes `ms` of fake time unless aborted first. */
function timedTask(clock: FakeClock, ms: () => number, log: { start: number; end?: number; aborted?: boolean }[]) {
  return (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const entry: { start: number; end?: number; aborted?: boolean } = { start: clock.now() };
      log.push(entry);
      const h = clock.setTimeout(() => {
        entry.end = clock.now();
        resolve();
      }, ms());
      signal.addEventListener('abort', () => {
        clock.clearTimeout(h);
        entry.aborted = true;
        entry.end = clock.now();
        resolve();
      });
    });
}

describe('PeriodicRunner', () => {
  it('runs at once, then on every interval boundary', async () => {
    const clock = new FakeClock(0);
    const log: { start: number }[] = [];
    const runner = new PeriodicRunner(
      timedTask(clock, () => 100, log),
      { intervalMs: 1000, timeoutMs: 900, clock },
    );
    runner.start();
    await clock.advance(3500);
    expect(log.map((e) => e.start)).toEqual([0, 1000, 2000, 3000]);
    await runner.stop();
  });

  it('never overlaps: a long run pushes the next one to the following boundary', async () => {
    const clock = new FakeClock(0);
    const log: { start: number; end?: number }[] = [];
    const durations = [1500, 100, 100];
    const runner = new PeriodicRunner(
      timedTask(clock, () => durations.shift() ?? 100, log),
      { intervalMs: 1000, timeoutMs: 5000, clock },
    );
    runner.start();
    await clock.advance(3500);
    expect(log.map((e) => e.start)).toEqual([0, 2000, 3000]);
    for (let i = 1; i < log.length; i++) expect(log[i].start).toBeGreaterThanOrEqual(log[i - 1].end!);
    await runner.stop();
  });

  it('aborts a run at its timeout, reports it, and starts the next run on time', async () => {
    const clock = new FakeClock(0);
    const log: { start: number; end?: number; aborted?: boolean }[] = [];
    const outcomes: RunOutcome[] = [];
    const durations = [60_000, 100];
    const runner = new PeriodicRunner(
      timedTask(clock, () => durations.shift() ?? 100, log),
      { intervalMs: 1000, timeoutMs: 800, clock, onRunEnd: (o) => outcomes.push(o) },
    );
    runner.start();
    await clock.advance(1500);
    expect(log[0]).toEqual({ start: 0, end: 800, aborted: true });
    expect(outcomes[0].timedOut).toBe(true);
    expect(log[1].start).toBe(1000);
    expect(outcomes[1].timedOut).toBe(false);
    await runner.stop();
  });

  it('lets a run take a longer deadline (a refit), counted from its start, and then keeps the schedule', async () => {
    const clock = new FakeClock(0);
    const log: { start: number; end?: number; aborted?: boolean }[] = [];
    const outcomes: RunOutcome[] = [];
    const durations = [2500, 100, 60_000, 100];
    const task = timedTask(clock, () => durations.shift() ?? 100, log);
    let run = 0;
    const runner = new PeriodicRunner(
      (signal, _at, deadline) => {
        // Runs 1 and 3 refit: 5 s; run 3 outlasts even that.
        if (run++ % 2 === 0) deadline.setTimeoutMs(5000);
        return task(signal);
      },
      { intervalMs: 1000, timeoutMs: 800, clock, onRunEnd: (o) => outcomes.push(o) },
    );
    runner.start();
    await clock.advance(9000);
    expect(log[0]).toEqual({ start: 0, end: 2500 });
    expect(outcomes[0].timedOut).toBe(false);
    // The next run waits for the boundary after the long one, with the ordinary timeout again.
    expect(log[1]).toEqual({ start: 3000, end: 3100 });
    expect(log[2]).toEqual({ start: 4000, end: 9000, aborted: true });
    expect(outcomes[2].timedOut).toBe(true);
    await runner.stop();
  });

  it('does not wait for a task that ignores its abort signal', async () => {
    const clock = new FakeClock(0);
    const starts: number[] = [];
    const runner = new PeriodicRunner(
      async () => {
        starts.push(clock.now());
        await new Promise(() => undefined);
      },
      { intervalMs: 1000, timeoutMs: 500, clock },
    );
    runner.start();
    await clock.advance(2100);
    expect(starts).toEqual([0, 1000, 2000]);
    void runner.stop();
  });

  it('reports a task error and keeps going', async () => {
    const clock = new FakeClock(0);
    const outcomes: RunOutcome[] = [];
    let n = 0;
    const runner = new PeriodicRunner(
      async () => {
        if (n++ === 0) throw new Error('first run fails');
      },
      { intervalMs: 1000, timeoutMs: 500, clock, onRunEnd: (o) => outcomes.push(o) },
    );
    runner.start();
    await clock.advance(1100);
    expect((outcomes[0].error as Error).message).toBe('first run fails');
    expect(outcomes[1].error).toBeUndefined();
    await runner.stop();
  });

  it('stop() aborts the run in flight and schedules nothing more', async () => {
    const clock = new FakeClock(0);
    const log: { start: number; end?: number; aborted?: boolean }[] = [];
    const runner = new PeriodicRunner(
      timedTask(clock, () => 10_000, log),
      { intervalMs: 1000, timeoutMs: 20_000, clock },
    );
    runner.start();
    await clock.advance(10);
    await runner.stop();
    expect(log[0].aborted).toBe(true);
    await clock.advance(5000);
    expect(log).toHaveLength(1);
  });
});
