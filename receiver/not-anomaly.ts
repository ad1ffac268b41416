/**
 * "Not an anomaly": on-call's judgement on an episode, written to Alertmanager as a silence over
 * the alert's labels whose comment carries the false-positive marker and the episode's span. The
 * exporter reads it back (it polls Alertmanager) and learns the span as normal for the series;
 * the receiver never talks to the exporter. Recorded in the audit log; one mark per episode, even
 * under parallel clicks.
 */
import { AlertmanagerClient } from '../common/alertmanager-client';
import { errorMessage } from '../common/errors';
import { readSecret } from '../common/secrets';
import { FEEDBACK_MARKERS } from '../common/vocabulary';
import { ReceiverConfig } from './receiver-config';
import { EpisodeRow } from './store/episode-store';
import { ReceiverStore } from './store/receiver-store';

/**
 * The span starts this long before the alert's startsAt: the series crossed 1 before the alert
 * began (the rule's `for`, the recording rule's window, scrape and evaluation intervals).
 */
export const SPAN_LEAD_MS = 5 * 60_000;
const MAX_NOTE = 500;

export class NotAnomalyError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface NotAnomalyResult {
  episode: number;
  silence_id: string;
  span: { from: string; to: string };
  already?: boolean;
}

/** The silence "not an anomaly" writes for an episode (pure, for tests and the API). */
export function notAnomalySilence(e: EpisodeRow, nowMs: number, user: string, note: string, silenceForMs: number) {
  const from = new Date(e.startsAtMs - SPAN_LEAD_MS).toISOString();
  const to = new Date(Math.max(e.resolvedAtMs ?? nowMs, e.startsAtMs)).toISOString();
  // A firing episode's span is open (`FROM/`): the anomaly teaches the exporter until it ends.
  const spanText = e.resolvedAtMs === null ? `${from}/` : `${from}/${to}`;
  const clean = note.replace(/[\r\n\t]+/g, ' ').slice(0, MAX_NOTE);
  return {
    matchers: Object.entries({ alertname: e.alertname, ...e.labels })
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => ({ name, value, isRegex: false, isEqual: true })),
    startsAt: new Date(nowMs).toISOString(),
    endsAt: new Date(nowMs + silenceForMs).toISOString(),
    createdBy: `remediation-receiver (${user})`,
    comment: `${FEEDBACK_MARKERS.false_positive} span=${spanText} episode #${e.id}${clean ? `: ${clean}` : ''}`,
    span: { from, to },
  };
}

export class NotAnomalyMarker {
  /** Episodes whose mark is being written: a second click waits for nothing and is refused. */
  private readonly inFlight = new Set<number>();

  constructor(
    private readonly store: ReceiverStore,
    private readonly config: () => ReceiverConfig,
    private readonly clock: () => number,
  ) {}

  /** The mark already made for an episode, from the audit log. */
  existing(episodeId: number): NotAnomalyResult | undefined {
    const ev = this.store.auditLog.of(episodeId).find((x) => x.kind === 'marked_not_anomaly');
    if (!ev) return undefined;
    const d = ev.detail as { silence_id?: string; span?: { from: string; to: string } };
    return { episode: episodeId, silence_id: String(d.silence_id ?? ''), span: d.span ?? { from: '', to: '' }, already: true };
  }

  async mark(episodeId: number, user: string, note: string): Promise<NotAnomalyResult> {
    const am = this.config().alertmanager;
    if (!am) throw new NotAnomalyError('not an anomaly needs alertmanager.url in the receiver config (the silence goes there)', 409);
    const e = this.store.episodes.get(episodeId);
    if (!e) throw new NotAnomalyError(`no episode ${episodeId}`, 404);
    const done = this.existing(episodeId);
    if (done) return done;
    if (this.inFlight.has(episodeId)) throw new NotAnomalyError(`episode ${episodeId} is being marked already`, 409);
    this.inFlight.add(episodeId);
    try {
      const now = this.clock();
      const s = notAnomalySilence(e, now, user, note, am.silence_for);
      const client = new AlertmanagerClient({
        url: am.url,
        timeoutMs: am.timeout,
        bearerToken: am.bearer_token ? readSecret(am.bearer_token, 'Alertmanager token') : undefined,
        basic: am.basic ? { username: am.basic.username, password: readSecret(am.basic.password, 'Alertmanager password') } : undefined,
      });
      let id: string;
      try {
        id = await client.createSilence({ matchers: s.matchers, startsAt: s.startsAt, endsAt: s.endsAt, createdBy: s.createdBy, comment: s.comment });
      } catch (err) {
        throw new NotAnomalyError(`Alertmanager did not take the silence: ${errorMessage(err)}`, 502);
      }
      this.store.auditLog.append(now, 'marked_not_anomaly', e.id, { by: user, silence_id: id, span: s.span, note: note.slice(0, MAX_NOTE) || undefined });
      return { episode: e.id, silence_id: id, span: s.span };
    } finally {
      this.inFlight.delete(episodeId);
    }
  }
}
