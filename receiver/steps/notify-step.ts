import axios from 'axios';
import { errorMessage } from '../../common/errors';
import { readSecret } from '../../common/secrets';
import { StepConfig } from '../receiver-config';
import { clip, StepResult } from './step-result';
import { IncidentAnalysis } from '../incident-analysis';
import { slackMessage } from './slack-message';

type NotifyStep = Extract<StepConfig, { type: 'notify' }>;

/** What a notification says: the alert, the decision and the episode. */
export interface NotifyMessage {
  runbook: string;
  episodeId: number;
  decision: string;
  reason: string;
  alert: { status: string; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string };
  /** The incident analysis at the time of sending (Slack gets its summary and next steps). */
  analysis?: IncidentAnalysis;
  /** The episode's page (from the receiver's external_url), for a link in Slack. */
  episodeUrl?: string;
}

/**
 * Posts to Slack (an incoming webhook: a Block Kit message, see slack-message.ts) or a generic
 * webhook (the message as JSON). The URL is a secret, read from its file or environment variable
 * at send time and never logged.
 */
export async function runNotifyStep(step: NotifyStep, msg: NotifyMessage): Promise<StepResult> {
  let url: string;
  try {
    url = readSecret(step.url);
  } catch (err) {
    return { ok: false, detail: clip(errorMessage(err)) };
  }
  try {
    const res = await axios.post(url, step.kind === 'slack' ? slackMessage(msg, msg.episodeUrl) : msg, {
      timeout: step.timeout,
      maxRedirects: 0,
      validateStatus: () => true,
    });
    return { ok: res.status >= 200 && res.status < 300, detail: `${step.kind} notification → ${res.status}` };
  } catch (err) {
    // The URL may carry a token: report the error without it.
    return { ok: false, detail: clip(`${step.kind} notification failed: ${errorMessage(err).replaceAll(url, '<url>')}`) };
  }
}
