/** The built CLI run as a daemon by a test: its output lines kept, killed by PID at the end. */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface CliDaemon {
  child: ChildProcess;
  url: string;
  /** stdout and stderr lines so far. */
  logs: string[];
  /** Resolves with the exit code once it exits. */
  exited: Promise<number | null>;
}

export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
}

/** `env` adds to the test's environment (jest's process.env is not the child's by itself). */
export function spawnCli(args: string[], url: string, env: Record<string, string> = {}): CliDaemon {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const logs: string[] = [];
  child.stdout!.on('data', (d: Buffer) => logs.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (d: Buffer) => logs.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url, logs, exited };
}

export async function killCli(d: CliDaemon): Promise<void> {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return;
  d.child.kill('SIGKILL');
  await d.exited;
}

/** The value of one exposition line (exact name and labels), or undefined. */
export function sampleValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
