import fc from 'fast-check';
import { headingId, markdownToHtml } from './markdown';

describe('markdownToHtml', () => {
  it('renders headings with GitHub ids, lists, code, bold and links', () => {
    const html = markdownToHtml(
      '# Runbooks\n\n## AnomalousSignal\n\nOne signal **scored** above 1; see `anomaly_score` and [the README](README.md).\n\n1. Open the dashboard\n   link: is it outside?\n2. Check\n\n- a\n- b\n\n```\nkubectl get pods\n```\n',
    );
    expect(html).toContain('<h2 id="anomaloussignal">AnomalousSignal</h2>');
    expect(html).toContain('<p>One signal <b>scored</b> above 1; see <code>anomaly_score</code> and <a href="README.md">the README</a>.</p>');
    expect(html).toContain('<ol><li>Open the dashboard link: is it outside?</li><li>Check</li></ol>');
    expect(html).toContain('<ul><li>a</li><li>b</li></ul>');
    expect(html).toContain('<pre><code>kubectl get pods</code></pre>');
    expect(headingId('High latency (p95)!')).toBe('high-latency-p95');
  });

  it('never lets text through as markup, and links only to http(s), relative paths or anchors', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const html = markdownToHtml(text);
        const tags = [...html.matchAll(/<\/?([a-z0-9]+)[^>]*>/g)].map((m) => m[1]);
        for (const t of tags) expect(['p', 'h1', 'h2', 'h3', 'h4', 'ul', 'ol', 'li', 'pre', 'code', 'b', 'i', 'a']).toContain(t);
        expect(html).not.toMatch(/href="javascript:/i);
      }),
      { numRuns: 300 },
    );
    expect(markdownToHtml('[x](javascript:alert(1))')).not.toContain('<a ');
    expect(markdownToHtml('<script>alert(1)</script>')).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
  });
});
