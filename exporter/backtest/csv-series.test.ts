import fc from 'fast-check';
import { csvCells, parseTimestamp } from './csv-series';

describe('CSV cells and timestamps', () => {
  it('reads back any cells written with RFC 4180 quoting, commas and quotes inside included', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string().filter((c) => !/[\r\n]/.test(c)),
          { minLength: 1, maxLength: 6 },
        ),
        (cells) => {
          const line = cells.map((c) => `"${c.replace(/"/g, '""')}"`).join(',');
          expect(csvCells(line)).toEqual(cells.map((c) => c.trim()));
        },
      ),
      { numRuns: 300 },
    );
    expect(csvCells('a, b ,c')).toEqual(['a', 'b', 'c']);
    expect(csvCells('2026-01-01 00:00,"1,234"')).toEqual(['2026-01-01 00:00', '1,234']);
  });

  it('reads real instants and refuses impossible ones rather than rolling them over', () => {
    expect(parseTimestamp('2026-02-28 23:59:59')).toBe(Date.UTC(2026, 1, 28, 23, 59, 59) / 1000);
    expect(parseTimestamp('2024-02-29T12:00:00+01:00')).toBe(Date.UTC(2024, 1, 29, 11) / 1000);
    expect(parseTimestamp('1700000000')).toBe(1700000000);
    for (const bad of ['2026-13-45 00:00', '2026-02-29 00:00', '2026-04-31T00:00:00Z', '2026-01-01 24:00', '2026-01-01 10:60', 'yesterday']) {
      expect([bad, parseTimestamp(bad)]).toEqual([bad, NaN]);
    }
  });
});
