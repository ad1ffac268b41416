import { FitCron } from './fit-cron';

const until = async (done: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
};

describe('FitCron', () => {
  it('requests a refit at each tick of its expression, keeps its schedule when a reload leaves it, and stops when it is removed', async () => {
    let requests = 0;
    const cron = new FitCron(() => requests++);
    // Every second (node-cron's six-field form).
    await cron.schedule('* * * * * *', 'UTC');
    await until(() => requests >= 1, 2500);
    expect(requests).toBeGreaterThanOrEqual(1);
    // The same expression and zone: the running schedule stays (no second task ticking beside it).
    await cron.schedule('* * * * * *', 'UTC');
    const before = requests;
    await new Promise((r) => setTimeout(r, 1100));
    expect(requests - before).toBeGreaterThanOrEqual(1);
    expect(requests - before).toBeLessThanOrEqual(2);
    // Removed: no more refits.
    await cron.schedule(undefined, 'UTC');
    const after = requests;
    await new Promise((r) => setTimeout(r, 1100));
    expect(requests).toBe(after);
    await cron.stop();
  });
});
