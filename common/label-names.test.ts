import fc from 'fast-check';
import { exposableLabelName } from './label-names';

describe('label names for the exposition format', () => {
  it('keeps valid names and repairs the others', () => {
    expect(exposableLabelName('service')).toBe('service');
    expect(exposableLabelName('_x')).toBe('_x');
    expect(exposableLabelName('bad-name')).toBe('bad_name');
    expect(exposableLabelName('dotted.name')).toBe('dotted_name');
    expect(exposableLabelName('0digit')).toBe('_0digit');
    expect(exposableLabelName('__reserved')).toBe('_reserved');
    expect(exposableLabelName('ünïcode')).toBe('_n_code');
    expect(exposableLabelName('')).toBe('');
  });

  it('always gives a valid, unreserved name for a non-empty one (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), (name) => {
        const out = exposableLabelName(name);
        expect(out).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
        expect(out.startsWith('__')).toBe(false);
      }),
    );
  });
});
