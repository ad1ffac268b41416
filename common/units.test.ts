import fc from 'fast-check';
import { formatWithUnit } from './units';

describe('formatWithUnit', () => {
  it('writes each unit as people read it', () => {
    expect(formatWithUnit(0.02361, 'seconds')).toBe('23.61 ms');
    expect(formatWithUnit(1.5, 'seconds')).toBe('1.5 s');
    expect(formatWithUnit(0.0004, 'seconds')).toBe('400 µs');
    expect(formatWithUnit(300, 'seconds')).toBe('5 min');
    expect(formatWithUnit(0.0123, 'ratio')).toBe('1.23 %');
    expect(formatWithUnit(3 * 1024 * 1024, 'bytes')).toBe('3 MiB');
    expect(formatWithUnit(12.345, 'requests/s')).toBe('12.35 requests/s');
    expect(formatWithUnit(12.345)).toBe('12.35');
    expect(formatWithUnit(0, 'seconds')).toBe('0 s');
    expect(formatWithUnit(null, 'seconds')).toBe('–');
    expect(formatWithUnit(NaN)).toBe('–');
  });

  it('never prints an exponent for everyday values, and keeps the sign', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e5, max: 1e5, noNaN: true }), fc.constantFrom('seconds', 'ratio', 'bytes', 'req/s', undefined), (v, unit) => {
        const text = formatWithUnit(v, unit);
        if (Math.abs(v) >= 1e-3) expect(text).not.toMatch(/e[+-]/);
        if (v < 0 && Math.abs(v) > 1e-9) expect(text.startsWith('-')).toBe(true);
      }),
    );
  });
});
