import { RunReport } from '../cycle/scoring-pipeline';
import { FAILED_CYCLES_NOT_READY, Readiness } from './readiness';

const report = (signals: Record<string, string | undefined>, extra: Partial<RunReport> = {}): RunReport =>
  ({
    sourceUp: true,
    aborted: false,
    durationSeconds: 0.1,
    signals: Object.fromEntries(
      Object.entries(signals).map(([name, error]) => [name, { ok: error === undefined, fitted: false, fittedSeries: 0, series: 1, error }]),
    ),
    ...extra,
  }) as RunReport;

describe('Readiness', () => {
  it('is not ready before a cycle reaches the source, then ready', () => {
    const r = new Readiness();
    expect(r.problem()).toBe('no successful cycle yet');
    r.record(report({ a: 'connection refused' }, { sourceUp: false }));
    expect(r.problem()).toBe('no successful cycle yet');
    r.record(report({ a: undefined }));
    expect(r.problem()).toBeUndefined();
  });

  it(`is not ready while a signal has failed its last ${FAILED_CYCLES_NOT_READY} cycles, naming it and its error, and ready again when it works`, () => {
    const r = new Readiness();
    r.record(report({ a: undefined, b: undefined }));
    for (let i = 1; i < FAILED_CYCLES_NOT_READY; i++) {
      r.record(report({ a: undefined, b: 'bad_data: parse error' }));
      expect(r.problem()).toBeUndefined();
    }
    r.record(report({ a: undefined, b: 'bad_data: parse error' }));
    expect(r.problem()).toBe(`signal b failed its last ${FAILED_CYCLES_NOT_READY} cycles: bad_data: parse error`);
    r.record(report({ a: undefined, b: undefined }));
    expect(r.problem()).toBeUndefined();
  });

  it('counts a cycle cut by its timeout as failed for the signals it cut (cycle_timeout under timeout × attempts)', () => {
    const r = new Readiness();
    r.record(report({ a: undefined, b: undefined }));
    for (let i = 0; i < FAILED_CYCLES_NOT_READY; i++) r.record(report({ a: 'query aborted (cycle timeout or shutdown)', b: undefined }, { aborted: true }));
    expect(r.problem()).toBe(
      `signal a failed its last ${FAILED_CYCLES_NOT_READY} cycles: cut by its timeout (scheduler.cycle_timeout) before its read finished`,
    );
    r.record(report({ a: undefined, b: undefined }));
    expect(r.problem()).toBeUndefined();
  });
});
