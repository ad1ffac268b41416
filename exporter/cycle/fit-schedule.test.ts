import { fitDecision, fitOptions, fitWindowSeconds } from './fit-schedule';

const opts = fitOptions({ fit_every: 3_600_000, infer_every: 60_000 });
const fresh = { lastFit: -Infinity, lastFitAttempt: -Infinity, warming: true, requested: false };

describe('fit schedule', () => {
  it('derives the warm-up refit interval: five infer intervals, never more than fit_every', () => {
    expect(opts).toEqual({ fitEverySeconds: 3600, warmupRefitSeconds: 300 });
    expect(fitOptions({ fit_every: 120_000, infer_every: 60_000 }).warmupRefitSeconds).toBe(120);
  });

  it('fits everything on the first cycle', () => {
    expect(fitDecision(1000, fresh, opts)).toEqual({ due: true, scope: 'all' });
  });

  it('refits everything once fit_every has passed, and not before', () => {
    const s = { ...fresh, lastFit: 1000, lastFitAttempt: 1000, warming: false };
    expect(fitDecision(1000 + 3599, s, opts)).toEqual({ due: false });
    expect(fitDecision(1000 + 3600, s, opts)).toEqual({ due: true, scope: 'all' });
  });

  it('refits only the series still warming up, every warm-up interval', () => {
    const s = { ...fresh, lastFit: 1000, lastFitAttempt: 1000, warming: true };
    expect(fitDecision(1000 + 299, s, opts)).toEqual({ due: false });
    expect(fitDecision(1000 + 300, s, opts)).toEqual({ due: true, scope: 'warming' });
    expect(fitDecision(1000 + 300, { ...s, lastFitAttempt: 1200 }, opts)).toEqual({ due: false });
  });

  it('refits everything at once when the fit_cron job asks, whatever the schedule says', () => {
    const s = { ...fresh, lastFit: 1000, lastFitAttempt: 1000, warming: false, requested: true };
    expect(fitDecision(1001, s, opts)).toEqual({ due: true, scope: 'all' });
  });
});

describe('fit window', () => {
  it('holds at least fit_min_samples steps: a day of hourly samples grows to a week, a day of minutes stays a day', () => {
    const day = 86_400_000;
    expect(fitWindowSeconds({ fit_window: day, fit_min_samples: 168, step: 3_600_000 })).toBe(168 * 3600);
    expect(fitWindowSeconds({ fit_window: day, fit_min_samples: 168, step: 60_000 })).toBe(86_400);
  });
});
