/** The Slack message as Slack would take it: Block Kit shape, colour by severity, escaped alert data, limits kept. */
import fc from 'fast-check';
import { NotifyMessage } from './notify-step';
import { escapeMrkdwn, slackMessage, SEVERITY_COLOURS } from './slack-message';

const base = (over: Partial<NotifyMessage['alert']> = {}): NotifyMessage => ({
  runbook: 'restart-demo-service',
  episodeId: 7,
  decision: 'executed',
  reason: 'every gate passed',
  alert: {
    status: 'firing',
    labels: { alertname: 'AnomalousSignal', service: 'checkout', severity: 'critical', ...over.labels },
    annotations: { summary: 'checkout: latency is anomalous (score 2.50)', runbook_url: 'https://runbooks.example.org/anomaloussignal', ...over.annotations },
    startsAt: '2026-11-27T10:00:00Z',
    ...(over.status ? { status: over.status } : {}),
  },
});

type Block = { type: string; text?: { type: string; text: string }; fields?: { text: string }[]; elements?: { type: string; text: unknown; url?: string }[] };
const attachment = (m: Record<string, unknown>) => (m.attachments as { color: string; blocks: Block[] }[])[0];

describe('slackMessage', () => {
  it('is a header, a coloured attachment with fields, the analysis and link buttons, and a fallback text', () => {
    const msg = base();
    msg.analysis = { summary: 'checkout: latency moved first.', next_steps: ['Check the dependency.'] } as NotifyMessage['analysis'];
    const m = slackMessage(msg, 'https://receiver.example.org/episodes/7');
    expect(m.text).toMatch(/^\[executed\] AnomalousSignal checkout: checkout: latency is anomalous/);
    expect((m.blocks as Block[])[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '[executed] AnomalousSignal · checkout' } });
    const a = attachment(m);
    expect(a.color).toBe(SEVERITY_COLOURS.critical);
    expect(a.blocks.map((b) => b.type)).toEqual(['section', 'section', 'context', 'actions']);
    expect(a.blocks[0].fields!.map((f) => f.text)).toEqual([
      '*Severity*\ncritical',
      '*Decision*\nexecuted: every gate passed',
      '*Runbook*\nrestart-demo-service',
      '*Episode*\n#7',
    ]);
    expect(a.blocks[1].text!.text).toBe('checkout: latency moved first.');
    expect(a.blocks[3].elements!.map((e) => [(e.text as { text: string }).text, e.url])).toEqual([
      ['Episode', 'https://receiver.example.org/episodes/7'],
      ['Runbook', 'https://runbooks.example.org/anomaloussignal'],
    ]);
  });

  it('explains the alert with what the rules wrote: value, band, deviation and since (signals and shares for a group)', () => {
    const m = slackMessage(
      base({
        annotations: {
          summary: 's',
          value: '450ms',
          expected_band: '120ms (80ms to 160ms)',
          deviation: '+275% against expected',
          since: '2026-11-27 09:59:00 +0000 UTC',
          contributions: 'traffic 72%, latency <28%>',
        },
      }),
    );
    expect(attachment(m).blocks[1].text!.text).toBe(
      '*Now:* 450ms\n*Expected:* 120ms (80ms to 160ms)\n*Deviation:* +275% against expected\n*Since:* 2026-11-27 09:59:00 +0000 UTC\n*What moved:* traffic 72%, latency &lt;28%&gt;',
    );
  });

  it('colours warning amber, resolved green, anything else grey', () => {
    expect(attachment(slackMessage(base({ labels: { severity: 'warning' } }))).color).toBe(SEVERITY_COLOURS.warning);
    expect(attachment(slackMessage(base({ status: 'resolved' }))).color).toBe(SEVERITY_COLOURS.resolved);
    expect(attachment(slackMessage(base({ labels: { severity: 'info' } }))).color).toBe(SEVERITY_COLOURS.other);
  });

  it('leaves out buttons whose URL is relative or not http(s), so Slack does not refuse the message', () => {
    const m = slackMessage(base({ annotations: { runbook_url: 'docs/runbooks.md#anomaloussignal', dashboard: 'javascript:alert(1)' } }));
    expect(attachment(m).blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('escapes alert data, so a label cannot make a link or a mention, and keeps every Slack length limit', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 4000 }), fc.string({ maxLength: 400 }), (summary, service) => {
        const m = slackMessage(base({ labels: { service }, annotations: { summary } }));
        const header = (m.blocks as Block[])[0].text!.text;
        expect(header.length).toBeLessThanOrEqual(150);
        for (const b of attachment(m).blocks) {
          if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
          for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
          for (const t of [b.text?.text ?? '', ...(b.fields ?? []).map((f) => f.text)]) expect(t).not.toMatch(/<[^>]*>/);
        }
        // The top-level text and the attachment's fallback too: Slack reads mentions and links there.
        for (const t of [m.text as string, (attachment(m) as unknown as { fallback: string }).fallback]) {
          expect(t.length).toBeLessThanOrEqual(3000);
          expect(t).not.toMatch(/[<>]/);
        }
      }),
      { numRuns: 200 },
    );
    const forged = slackMessage(base({ labels: { service: '<!channel>' }, annotations: { summary: '<@U123> see <https://evil.example|the fix>' } }));
    expect(forged.text).toContain('&lt;!channel&gt;');
    expect(forged.text).toContain('&lt;@U123&gt; see &lt;https://evil.example|the fix&gt;');
    expect((attachment(forged) as unknown as { fallback: string }).fallback).toBe(forged.text);
    expect(escapeMrkdwn('<!channel> & <https://evil|click>')).toBe('&lt;!channel&gt; &amp; &lt;https://evil|click&gt;');
  });
});
