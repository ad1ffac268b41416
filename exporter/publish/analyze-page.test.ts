/** The Analyse page's form: presets only for ranges the API accepts at the step, and 24-hour UTC time fields. */
/** The analyze API's limit, as the daemon passes it (exporter/analyze/analyze-api.ts MAX_POINTS). */
const MAX_POINTS = 50_000;
import { rangePresets, renderAnalyzePage } from './analyze-page';

const page = (stepSeconds: number) =>
  renderAnalyzePage({
    signals: { latency: { query: 'x', unit: 'seconds' } },
    version: 'v',
    source: 'http://p',
    stepSeconds,
    anyQuery: true,
    maxPoints: MAX_POINTS,
  });
const presetsOf = (html: string) => [...html.matchAll(/data-hours="(\d+)">([^<]+)</g)].map((m) => m[2]);

describe('Analyse page presets', () => {
  it('offers only presets whose range fits the step limit, and says why the others are missing', () => {
    // The demo's 1 s step: 24 h is 86,401 steps, over 50,000.
    expect(presetsOf(page(1))).toEqual(['1 h', '6 h']);
    expect(page(1)).toContain('24 h and 7 d would be more than 50,000 steps of 1 s (scheduler.step');
    expect(page(1)).toContain('the longest range here is 13.9 h');
    expect(presetsOf(page(10))).toEqual(['1 h', '6 h', '24 h']);
    expect(presetsOf(page(60))).toEqual(['1 h', '6 h', '24 h', '7 d']);
    expect(page(60)).not.toContain('analyze-presets-note');
    for (const step of [1, 5, 10, 15, 30, 60])
      for (const [hours] of rangePresets(step, MAX_POINTS).offered) expect((hours * 3600) / step + 1).toBeLessThanOrEqual(MAX_POINTS);
  });

  it('takes UTC times as 24-hour text, never a datetime-local field (which shows AM/PM)', () => {
    const html = page(60);
    expect(html).not.toContain('datetime-local');
    expect(html).toMatch(/<input type="text" name="from" [^>]*placeholder="YYYY-MM-DD HH:MM"/);
  });
});
