/**
 * The notify step's Slack message in Block Kit (https://api.slack.com/block-kit): a header, the
 * alert's summary with severity, decision, runbook and episode as fields, the analysis summary
 * and next steps, and buttons to the episode page, the runbook and the dashboard, in an
 * attachment coloured by severity (Block Kit alone has no colour bar). `text` is the fallback
 * for notifications and old clients. Alert data is escaped for mrkdwn (& < >) everywhere, the
 * fallbacks included, so a label cannot
 * forge a link or a mention, and every limit Slack enforces (which would reject the whole
 * message) is kept: header 150 characters, fields 2,000, sections 3,000, buttons only for
 * absolute http(s) URLs.
 */
import type { NotifyMessage } from './notify-step';

/** The colour bar: red for critical, amber for warning, green once resolved, grey otherwise. */
export const SEVERITY_COLOURS = { critical: '#cf222e', warning: '#d29922', resolved: '#1a7f37', other: '#8c959f' } as const;

export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const cut = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

function absoluteUrl(u: string | undefined): string | undefined {
  if (!u) return undefined;
  try {
    const url = new URL(u);
    return (url.protocol === 'http:' || url.protocol === 'https:') && u.length <= 3000 ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** The annotations the shipped anomaly rules write for on-call, in reading order, with their labels. */
export const EXPLANATION: readonly [string, string][] = [
  ['value', 'Now'],
  ['expected_band', 'Expected'],
  ['deviation', 'Deviation'],
  ['since', 'Since'],
  ['signals', 'Signals'],
  ['contributions', 'What moved'],
];

export function slackColour(msg: NotifyMessage): string {
  if (msg.alert.status === 'resolved') return SEVERITY_COLOURS.resolved;
  const severity = msg.alert.labels.severity;
  return severity === 'critical' ? SEVERITY_COLOURS.critical : severity === 'warning' ? SEVERITY_COLOURS.warning : SEVERITY_COLOURS.other;
}

/**
 * The fallback line: what a phone notification and a client without Block Kit show. Escaped like
 * the blocks: Slack reads `<!channel>`, `<@U…>` and `<https://…|label>` in it too.
 */
export function slackFallback(msg: NotifyMessage): string {
  const a = msg.alert;
  return escapeMrkdwn(
    `[${msg.decision}] ${a.labels.alertname ?? ''} ${a.labels.service ?? ''}: ${a.annotations.summary ?? ''} (runbook ${msg.runbook}, episode ${msg.episodeId}: ${msg.reason})`,
  );
}

export function slackMessage(msg: NotifyMessage, episodeUrl?: string): Record<string, unknown> {
  const a = msg.alert;
  const title = [a.labels.alertname ?? 'alert', a.labels.service].filter(Boolean).join(' · ');
  const fields = [
    ['Severity', a.labels.severity ?? '–'],
    ['Decision', `${msg.decision}: ${msg.reason}`],
    ['Runbook', msg.runbook],
    ['Episode', `#${msg.episodeId}`],
  ].map(([k, v]) => ({ type: 'mrkdwn', text: cut(`*${k}*\n${escapeMrkdwn(v)}`, 2000) }));
  const blocks: Record<string, unknown>[] = [
    { type: 'section', text: { type: 'mrkdwn', text: cut(`*${escapeMrkdwn(a.annotations.summary ?? title)}*`, 3000) }, fields },
  ];
  // What the alert rules wrote for on-call (value, band, deviation, since; the signals and their
  // shares for a group alert): readable without opening anything.
  const explained = EXPLANATION.filter(([key]) => a.annotations[key]).map(([key, label]) => `*${label}:* ${escapeMrkdwn(a.annotations[key])}`);
  if (explained.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: cut(explained.join('\n'), 3000) } });
  const analysis = msg.analysis;
  if (analysis?.summary) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: cut(escapeMrkdwn(analysis.summary), 3000) } });
  if (analysis?.next_steps.length) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: cut(`*Next:* ${escapeMrkdwn(analysis.next_steps.join(' '))}`, 3000) }] });
  }
  const buttons = [
    ['Episode', absoluteUrl(episodeUrl)],
    ['Runbook', absoluteUrl(a.annotations.runbook_url)],
    ['Dashboard', absoluteUrl(a.annotations.dashboard)],
  ]
    .filter((b): b is [string, string] => b[1] !== undefined)
    .map(([label, url]) => ({ type: 'button', text: { type: 'plain_text', text: label }, url }));
  if (buttons.length) blocks.push({ type: 'actions', elements: buttons });
  return {
    text: cut(slackFallback(msg), 3000),
    blocks: [{ type: 'header', text: { type: 'plain_text', text: cut(`[${msg.decision}] ${title}`, 150) } }],
    attachments: [{ color: slackColour(msg), fallback: cut(slackFallback(msg), 3000), blocks }],
  };
}
