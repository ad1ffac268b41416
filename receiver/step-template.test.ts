import fc from 'fast-check';
import { parseTemplate, renderTemplate } from './step-template';

describe('step templates', () => {
  it('renders labels and annotations, URL- or JSON-encoded', () => {
    const data = { labels: { service: 'check out/&?' }, annotations: { summary: 'say "hi"' } };
    expect(renderTemplate(parseTemplate('http://demo/admin/restart?service={{ labels.service }}', 'url'), data)).toBe(
      'http://demo/admin/restart?service=check%20out%2F%26%3F',
    );
    expect(
      JSON.parse(renderTemplate(parseTemplate('{"service": {{labels.service}}, "why": {{ annotations.summary }}, "none": {{ labels.nope }}}', 'json'), data)),
    ).toEqual({ service: 'check out/&?', why: 'say "hi"', none: '' });
  });

  it('survives lone surrogates from JSON input', () => {
    const v = JSON.parse('"a\\ud800b"') as string;
    expect(renderTemplate(parseTemplate('{{ labels.v }}', 'url'), { labels: { v }, annotations: {} })).toBe('a%EF%BF%BDb');
  });

  it('refuses anything but labels.NAME and annotations.NAME', () => {
    for (const bad of [
      '{{ process.env.HOME }}',
      '{{ labels }}',
      '{{ labels.a.b }}',
      '{{ .Labels.service }}',
      '{{ labels.service | sh }}',
      'x {{ labels.a',
      'x }} y',
    ]) {
      expect(() => parseTemplate(bad, 'url')).toThrow();
    }
  });

  it('round-trips any value: URL-decoding or JSON-parsing the output gives back exactly the label', () => {
    const url = parseTemplate('{{ labels.v }}', 'url');
    const json = parseTemplate('{"v": {{ labels.v }}}', 'json');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (v) => {
        expect(decodeURIComponent(renderTemplate(url, { labels: { v }, annotations: {} }))).toBe(v);
        expect(JSON.parse(renderTemplate(json, { labels: { v }, annotations: {} })).v).toBe(v);
      }),
      { numRuns: 500 },
    );
  });
});
