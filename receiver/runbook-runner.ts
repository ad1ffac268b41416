import { Logger } from '../common/logger';
import { WebhookAlert } from './alertmanager-payload';
import { ReceiverConfig, RunbookConfig } from './receiver-config';
import { runExecStep } from './steps/exec-step';
import { runHttpStep } from './steps/http-step';
import { NotifyMessage, runNotifyStep } from './steps/notify-step';
import { StepResult } from './steps/step-result';
import { IncidentAnalysis } from './incident-analysis';

export interface RunbookOutcome {
  ok: boolean;
  /** One line per step run, in order; a failed step stops the runbook. */
  steps: { type: string; ok: boolean; detail: string }[];
}

/** Runs a runbook's steps in order, each under its own timeout; the first failure stops it. */
export async function runRunbook(
  runbook: RunbookConfig,
  alert: WebhookAlert,
  context: { episodeId: number; decision: string; reason: string; analysis?: () => Promise<IncidentAnalysis | undefined> },
  config: Pick<ReceiverConfig, 'http_allowlist' | 'external_url'>,
  log: Logger,
): Promise<RunbookOutcome> {
  const data = { labels: alert.labels, annotations: alert.annotations };
  const steps: RunbookOutcome['steps'] = [];
  for (const step of runbook.steps) {
    let r: StepResult;
    switch (step.type) {
      case 'http':
        r = await runHttpStep(step, data, config.http_allowlist);
        break;
      case 'exec':
        r = await runExecStep(step, data);
        break;
      case 'notify': {
        const msg: NotifyMessage = {
          runbook: runbook.name,
          episodeId: context.episodeId,
          decision: context.decision,
          reason: context.reason,
          alert: { status: alert.status, labels: alert.labels, annotations: alert.annotations, startsAt: alert.startsAt },
          episodeUrl: config.external_url ? `${config.external_url.replace(/\/+$/, '')}/episodes/${context.episodeId}` : undefined,
        };
        // The analysis so far goes with the notification; without it, the notification still goes.
        msg.analysis = await context.analysis?.().catch(() => undefined);
        r = await runNotifyStep(step, msg);
        break;
      }
      case 'log':
        log.info(step.message, { runbook: runbook.name, episode: context.episodeId, labels: alert.labels });
        r = { ok: true, detail: `logged: ${step.message}` };
        break;
    }
    steps.push({ type: step.type, ok: r.ok, detail: r.detail });
    if (!r.ok) return { ok: false, steps };
  }
  return { ok: true, steps };
}
