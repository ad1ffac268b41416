import axios from 'axios';
import { errorMessage } from '../../common/errors';
import { StepConfig } from '../receiver-config';
import { renderTemplate, TemplateData } from '../step-template';
import { clip, StepResult } from './step-result';

type HttpStep = Extract<StepConfig, { type: 'http' }>;

/**
 * An allowlisted HTTP call: URL and body from templates (values encoded), static headers, a
 * timeout, no redirects (a redirect could leave the allowlist). 2xx is success.
 */
export async function runHttpStep(step: HttpStep, data: TemplateData, allowlist: string[]): Promise<StepResult> {
  const url = renderTemplate(step.url, data);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, detail: 'the rendered URL is not valid' };
  }
  // A label value "." or ".." placed as a whole path segment would move the path up a level
  // (URL parsers resolve dot segments, percent-encoded ones too): refused, not resolved.
  if (hasDotSegment(url)) return { ok: false, detail: 'the rendered URL has a "." or ".." path segment (from a label value?): refused' };
  // Checked again at run time, on the URL as rendered (WHATWG hostnames keep IPv6 brackets).
  const host = `${parsed.hostname}:${parsed.port || (parsed.protocol === 'https:' ? 443 : 80)}`;
  if (!allowlist.includes(host)) return { ok: false, detail: `host ${host} is not in http_allowlist` };
  try {
    const res = await axios.request({
      method: step.method,
      url,
      data: step.body ? renderTemplate(step.body, data) : undefined,
      headers: { ...(step.body ? { 'content-type': 'application/json' } : {}), ...step.headers },
      timeout: step.timeout,
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: (x) => x,
    });
    const ok = res.status >= 200 && res.status < 300;
    return { ok, detail: clip(`${step.method} ${parsed.origin}${parsed.pathname} → ${res.status}${ok ? '' : `: ${String(res.data ?? '')}`}`) };
  } catch (err) {
    return { ok: false, detail: clip(`${step.method} ${parsed.origin}${parsed.pathname} failed: ${errorMessage(err)}`) };
  }
}

/** Whether the path of a URL as rendered (before any parser resolves it) has a "." or ".." segment, plain or percent-encoded. */
export function hasDotSegment(url: string): boolean {
  const path = url.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/, '').split(/[?#]/)[0];
  return path.split(/[/\\]/).some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment));
}
