/**
 * When a signal refits (pure): on schedule every `fit_every`, at once when the fit_cron job asked
 * for it, and, while some of its series are still warming up, every few cycles for those alone.
 */
export interface FitScheduleOptions {
  /** scheduler.fit_every, in seconds. */
  fitEverySeconds: number;
  /** How often a warm-up refit may run: min(fit_every, 5 × infer_every), in seconds. */
  warmupRefitSeconds: number;
}

export interface FitScheduleState {
  /** End of the cycle of the last scheduled refit, seconds (-Infinity: never). */
  lastFit: number;
  /** End of the cycle of the last refit of any kind, seconds (-Infinity: never). */
  lastFitAttempt: number;
  /** The signal has no series yet, or some series' models are not fully fitted. */
  warming: boolean;
  /** The fit_cron job asked for a refit of every signal. */
  requested: boolean;
}

export type FitDecision =
  /** Refit every series. */
  | { due: true; scope: 'all' }
  /** Refit only the series still warming up (a new pod, say), not all of them. */
  | { due: true; scope: 'warming' }
  | { due: false };

export function fitOptions(scheduler: { fit_every: number; infer_every: number }): FitScheduleOptions {
  return { fitEverySeconds: scheduler.fit_every / 1000, warmupRefitSeconds: Math.min(scheduler.fit_every, 5 * scheduler.infer_every) / 1000 };
}

export function fitDecision(endSeconds: number, s: FitScheduleState, o: FitScheduleOptions): FitDecision {
  if (s.requested || endSeconds - s.lastFit >= o.fitEverySeconds) return { due: true, scope: 'all' };
  if (s.warming && endSeconds - s.lastFitAttempt >= o.warmupRefitSeconds) return { due: true, scope: 'warming' };
  return { due: false };
}

/**
 * The span a refit reads and trains on: `fit_window`, but at least `fit_min_samples` steps, so a
 * slow series (hourly recording rules, business KPIs) trains on as many samples as a fast one
 * instead of on the 24 that a day holds.
 */
export function fitWindowSeconds(scheduler: { fit_window: number; fit_min_samples: number; step: number }): number {
  return Math.max(scheduler.fit_window, scheduler.fit_min_samples * scheduler.step) / 1000;
}
