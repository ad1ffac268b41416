/**
 * Optional: an incident analysis told in prose by a language model behind an OpenAI-compatible
 * chat endpoint (POST {url}/chat/completions: a local Ollama at http://127.0.0.1:11434/v1, or a
 * hosted API with a key from a file or an environment variable). Off unless configured; it never
 * decides anything, and its failure is shown as such beside the deterministic analysis.
 */
import axios from 'axios';
import { errorMessage } from '../common/errors';
import { IncidentAnalysis } from './incident-analysis';
import { readSecret } from '../common/secrets';

export interface LlmConfig {
  url: string;
  model: string;
  api_key?: { file?: string; env?: string };
  timeout: number;
  retries: number;
  max_tokens: number;
}

export type Narrative = { status: 'ok'; model: string; text: string; attempts: number } | { status: 'failed'; model: string; error: string; attempts: number };

export const SYSTEM_PROMPT = [
  'You are an SRE assistant. You get the analysis of one incident as JSON: the alert, the service signals',
  '(which moved first, baselines and peaks), correlated signals, the incident pattern, what the automatic',
  'remediation did and whether the service recovered. Write for the on-call engineer, in plain English:',
  '1. What happened (two or three sentences, with the times and numbers from the JSON).',
  '2. The most likely cause, and how sure the data lets you be.',
  '3. What to check or do next, as a short list.',
  'Use only facts in the JSON; say so when something is unknown. No more than 200 words.',
].join('\n');

/** The analysis without its chart series: the model needs the findings, not 300 points per signal. */
export function promptPayload(a: IncidentAnalysis): unknown {
  return { ...a, signals: a.signals.map(({ series: _series, ...rest }) => rest) };
}

export async function narrate(
  config: LlmConfig,
  analysis: IncidentAnalysis,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<Narrative> {
  let key: string | undefined;
  try {
    key = config.api_key ? readSecret(config.api_key) : undefined;
  } catch (err) {
    return { status: 'failed', model: config.model, error: errorMessage(err), attempts: 0 };
  }
  const body = {
    model: config.model,
    temperature: 0,
    max_tokens: config.max_tokens,
    messages: [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: JSON.stringify(promptPayload(analysis)) },
    ],
  };
  let error = '';
  let attempt = 0;
  for (; attempt <= config.retries; attempt++) {
    if (attempt > 0) await sleep(500 * 2 ** (attempt - 1));
    try {
      const res = await axios.post(`${config.url.replace(/\/$/, '')}/chat/completions`, body, {
        timeout: config.timeout,
        maxRedirects: 0,
        headers: { 'Content-Type': 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) },
        validateStatus: () => true,
      });
      const text = (res.data as { choices?: { message?: { content?: unknown } }[] })?.choices?.[0]?.message?.content;
      if (res.status === 200 && typeof text === 'string' && text.trim()) return { status: 'ok', model: config.model, text: text.trim(), attempts: attempt + 1 };
      const apiError = (res.data as { error?: { message?: unknown } | string })?.error;
      const reason =
        typeof apiError === 'string'
          ? apiError
          : typeof apiError?.message === 'string'
            ? apiError.message
            : res.status === 200
              ? 'answer without choices[0].message.content'
              : '';
      error = `HTTP ${res.status}${reason ? `: ${reason}` : ''}`;
      // A client error will not get better by asking again (bad key, unknown model); 429 might.
      if (res.status >= 400 && res.status < 500 && res.status !== 429) {
        attempt++;
        break;
      }
    } catch (err) {
      error = errorMessage(err);
      if (key) error = error.replaceAll(key, '<key>');
    }
  }
  return { status: 'failed', model: config.model, error: error.slice(0, 300), attempts: attempt };
}
