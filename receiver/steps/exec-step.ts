import { spawn } from 'node:child_process';
import { StepConfig } from '../receiver-config';
import { renderTemplate, TemplateData } from '../step-template';
import { clip, StepResult } from './step-result';

type ExecStep = Extract<StepConfig, { type: 'exec' }>;

/**
 * Runs a program from an argv array, never through a shell. Alert values reach it only as
 * environment variables (data); the command line is the config's, as written. Exit 0 is success;
 * past the timeout the process is killed.
 */
export function runExecStep(step: ExecStep, data: TemplateData): Promise<StepResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const [k, t] of Object.entries(step.env)) env[k] = renderTemplate(t, data);
  return new Promise((resolve) => {
    let output = '';
    let settled = false;
    const done = (r: StepResult) => {
      if (!settled) resolve(r);
      settled = true;
    };
    let child;
    try {
      child = spawn(step.argv[0], step.argv.slice(1), { env, shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      done({ ok: false, detail: clip(`could not start ${step.argv[0]}: ${(err as Error).message}`) });
      return;
    }
    const keep = (b: Buffer) => {
      if (output.length < 2000) output += b.toString('utf8');
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ ok: false, detail: `${step.argv[0]} killed after the ${step.timeout / 1000} s timeout` });
    }, step.timeout);
    child.on('error', (err) => {
      clearTimeout(timer);
      done({ ok: false, detail: clip(`could not start ${step.argv[0]}: ${err.message}`) });
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const tail = output.trim() ? `: ${output.trim()}` : '';
      done({ ok: code === 0, detail: clip(`${step.argv[0]} exited ${code ?? sig}${tail}`) });
    });
  });
}
