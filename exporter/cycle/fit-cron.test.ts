import { FitCron } from './fit-cron';

describe('FitCron', () => {
  it('requests a refit at each tick of its expression, keeps its schedule when a reload leaves it, and stops when it is removed', async () => {
    let requests = 0;
    const cron = new FitCron(() => requests++);
    // Every second (node-cron's six-field form).
    await cron.schedule('* * * * * *', 'UTC');
    await new Promise((r) => setTimeout(r, 2200));
    expect(requests).toBeGreaterThanOrEqual(1);
    // The same expression and zone: the running schedule stays (no second task ticking beside it).
    await cron.schedule('* * * * * *', 'UTC');
    const before = requests;
    await new Promise((r) => setTimeout(r, 2100));
    expect(requests - before).toBeLessThanOrEqual(3);
    expect(requests - before).toBeGreaterThanOrEqual(1);
    // Removed: no more refits.
    await cron.schedule(undefined, 'UTC');
    const after = requests;
    await new Promise((r) => setTimeout(r, 1500));
    expect(requests).toBe(after);
    await cron.stop();
  });
});
