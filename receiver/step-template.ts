/**
 * Templates for runbook steps. A template may only read the alert's labels and annotations:
 * `{{ labels.service }}`, `{{ annotations.summary }}`; nothing else can be expressed, so alert
 * data can never reach code. Every value is encoded for where it lands: percent-encoded in a URL,
 * a JSON string literal (quotes included) in a JSON body or a PromQL query. Parsed once, at config load, so a bad
 * template is a config error, not a failed action.
 */
import { wellFormed } from '../common/well-formed';
/**
 * url: percent-encoded; json and promql: a double-quoted string literal (valid in both); raw: the
 * value itself, only for environment variables of exec steps (data, never a command line).
 */
export type Encoding = 'url' | 'json' | 'promql' | 'raw';

type Part = { text: string } | { source: 'labels' | 'annotations'; name: string };

export interface StepTemplate {
  readonly parts: readonly Part[];
  readonly encoding: Encoding;
}

const PLACEHOLDER = /\{\{\s*([^}]*?)\s*\}\}/g;
const REFERENCE = /^(labels|annotations)\.([a-zA-Z_][a-zA-Z0-9_]*)$/;

export function parseTemplate(text: string, encoding: Encoding): StepTemplate {
  const parts: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    const ref = REFERENCE.exec(m[1]);
    if (!ref) throw new Error(`"{{ ${m[1]} }}": a template may only read labels.NAME or annotations.NAME`);
    if (m.index! > last) parts.push({ text: text.slice(last, m.index) });
    parts.push({ source: ref[1] as 'labels' | 'annotations', name: ref[2] });
    last = m.index! + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  const rest = parts
    .filter((p): p is { text: string } => 'text' in p)
    .map((p) => p.text)
    .join('');
  if (rest.includes('{{') || rest.includes('}}')) throw new Error('unbalanced "{{" or "}}" in template');
  return { parts, encoding };
}

export interface TemplateData {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Renders with every value encoded; a missing label or annotation is the empty string. */
export function renderTemplate(t: StepTemplate, data: TemplateData): string {
  let out = '';
  for (const p of t.parts) {
    if ('text' in p) {
      out += p.text;
      continue;
    }
    const value = wellFormed((p.source === 'labels' ? data.labels : data.annotations)[p.name] ?? '');
    out += t.encoding === 'url' ? encodeURIComponent(value) : t.encoding === 'raw' ? value.replaceAll('\0', '\uFFFD') : JSON.stringify(value);
  }
  return out;
}
