/** The demo writes its signals' values as the product's pages do: one formatter's text, one rounding rule. */
import fc from 'fast-check';
import { formatWithUnit } from '../common/units';
import { formatSignalValue, SIGNAL_UNIT } from '../demo/loop-timeline';

describe("the demo's values", () => {
  it.each(Object.entries(SIGNAL_UNIT))('%s (%s): the same text as formatWithUnit', (signal, unit) => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), (v) => {
        expect(formatSignalValue(v, signal)).toBe(formatWithUnit(v, unit));
      }),
      { numRuns: 2000 },
    );
    expect(formatSignalValue(undefined, signal)).toBe('–');
  });

  it('states units where the demo printed bare numbers', () => {
    expect(formatSignalValue(0, 'errors')).toBe('0 %');
    expect(formatSignalValue(19.78, 'traffic')).toBe('19.78 requests/s');
    expect(formatSignalValue(0.4819, 'latency')).toBe('481.9 ms');
  });
});
