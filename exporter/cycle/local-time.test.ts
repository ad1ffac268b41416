import { SeriesModel } from '../../models';
import { hourOfWeek, hoursOfWeek } from './local-time';

describe('hourOfWeek', () => {
  it('counts from Monday 00:00 in UTC', () => {
    expect(hourOfWeek(Date.UTC(2024, 0, 1, 0, 30) / 1000, 'UTC')).toBe(0); // Monday
    expect(hourOfWeek(Date.UTC(2024, 0, 7, 23, 59) / 1000, 'UTC')).toBe(167); // Sunday
  });

  it('follows a time zone across the spring daylight-saving change (Europe/Berlin, 2024-03-31)', () => {
    // 00:30 UTC = 01:30 CET; 01:30 UTC = 03:30 CEST: local 02:00-03:00 does not exist that day.
    const sunday = 6 * 24;
    expect(hourOfWeek(Date.UTC(2024, 2, 31, 0, 30) / 1000, 'Europe/Berlin')).toBe(sunday + 1);
    expect(hourOfWeek(Date.UTC(2024, 2, 31, 1, 30) / 1000, 'Europe/Berlin')).toBe(sunday + 3);
    // The same local noon on either side of the change is the same slot.
    expect(hourOfWeek(Date.UTC(2024, 2, 30, 11) / 1000, 'Europe/Berlin')).toBe(5 * 24 + 12);
    expect(hourOfWeek(Date.UTC(2024, 2, 31, 10) / 1000, 'Europe/Berlin')).toBe(sunday + 12);
  });

  it('handles half-hour zones (Asia/Kolkata, UTC+5:30)', () => {
    expect(hoursOfWeek([Date.UTC(2024, 0, 1, 0, 0) / 1000, Date.UTC(2024, 0, 1, 0, 30) / 1000], 'Asia/Kolkata')).toEqual(Uint8Array.from([5, 6]));
  });
});

describe('seasonal scoring across a daylight-saving change', () => {
  it('a daily cycle in local time stays silent through the switch, with a seasonal band', () => {
    const zone = 'Europe/Berlin';
    const STEP = 300;
    const start = Date.UTC(2024, 2, 24) / 1000; // a week before the switch on 2024-03-31
    const localHour = (t: number) => {
      const slot = hoursOfWeek([t], zone)[0] % 24;
      const minute = ((t % 3600) + 3600) % 3600;
      return slot + minute / 3600;
    };
    const value = (t: number, i: number) => 100 + 50 * Math.sin((2 * Math.PI * localHour(t)) / 24) + ((i * 7919) % 11) / 10;
    const config = {
      detectors: {
        zscore: { threshold: 4, minSamples: 30, contamination: 0.01, adaptSamples: 0 },
        mad: { threshold: 5, minSamples: 30, contamination: 0.01, adaptSamples: 0 },
      },
      seasonal: { minSamplesPerSlot: 3, memory: 240 },
      combine: 'median' as const,
      scoring: { direction: 'both' as const, minDeviation: 0, minRelativeDeviation: 0 },
      levelAlpha: 0.1,
    };
    const m = new SeriesModel(config);
    const day = 288;
    const scoresAfterSwitch: number[] = [];
    const widthsAfterSwitch: number[] = [];
    for (let d = 1; d < 10; d++) {
      const trainTimes = Float64Array.from({ length: day }, (_, i) => start + ((d - 1) * day + i) * STEP);
      const train = Float64Array.from(trainTimes, (t, i) => value(t, i));
      m.fit(train, 0, { times: trainTimes, slots: hoursOfWeek(trainTimes, zone) });
      const times = Float64Array.from({ length: day }, (_, i) => start + (d * day + i) * STEP);
      const s = m.score(
        Float64Array.from(times, (t, i) => value(t, i + 7)),
        hoursOfWeek(times, zone),
      );
      if (times[0] >= Date.UTC(2024, 2, 31) / 1000) {
        scoresAfterSwitch.push(...s.ensemble);
        for (let i = 0; i < day; i++) widthsAfterSwitch.push(s.upper[i] - s.lower[i]);
      }
    }
    expect(scoresAfterSwitch.length).toBeGreaterThan(day);
    expect(Math.max(...scoresAfterSwitch)).toBeLessThanOrEqual(1);
    // The band follows the cycle instead of spanning it: much narrower than its 100-unit swing.
    expect(Math.max(...widthsAfterSwitch)).toBeLessThan(60);
  });
});
