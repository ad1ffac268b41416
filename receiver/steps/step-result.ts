/** The outcome of one runbook step, for the audit log. */
export interface StepResult {
  ok: boolean;
  /** One line: what happened (status code, exit code, error), never a secret. */
  detail: string;
}

export const MAX_DETAIL = 500;

export function clip(text: string): string {
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}
