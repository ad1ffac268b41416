import { matches, matchesAll, parseMatcher } from './label-matcher';

describe('label matchers', () => {
  const labels = { alertname: 'AnomalousSignal', service: 'checkout', signal: 'latency' };
  it.each([
    ['service="checkout"', true],
    ['service!="checkout"', false],
    ['signal=~"latency|errors"', true],
    ['signal=~"lat"', false], // anchored, as in Alertmanager
    ['signal!~"traffic"', true],
    ['missing=""', true],
    ['missing!=""', false],
    ['service=checkout', true],
    ['service="a \\"quoted\\" value"', false],
  ])('%s → %s', (text, expected) => {
    expect(matches(parseMatcher(text), labels)).toBe(expected);
  });

  it('requires every matcher', () => {
    expect(matchesAll([parseMatcher('service="checkout"'), parseMatcher('signal=~"errors"')], labels)).toBe(false);
    expect(matchesAll([], labels)).toBe(true);
  });

  it('names what is wrong with a bad matcher', () => {
    expect(() => parseMatcher('service')).toThrow(/is not a matcher/);
    expect(() => parseMatcher('signal=~"("')).toThrow(/invalid regular expression/);
    expect(parseMatcher('x="a \\"b\\""').value).toBe('a "b"');
  });
});
