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
