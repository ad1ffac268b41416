/** The built CLI's `check --source` and `run` on a config, as the init tests drive them after `init` wrote it. */
import { execFileSync } from 'node:child_process';
import axios from 'axios';
import { freePort, waitFor } from '../stack';
import { CLI, killCli, spawnCli } from './cli-daemon';

/** `check --config FILE --source URL`: its output, and the signals it found series for. */
export function checkWithSource(config: string, source: string): { output: string; signals: string[] } {
  const output = execFileSync(process.execPath, [CLI, 'check', '--config', config, '--source', source], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { output, signals: [...output.matchAll(/^(\w+): ok, (\d+) series$/gm)].map((m) => m[1]) };
}

/** Runs the exporter on `config` until /metrics has a score for every one of `signals`; returns that /metrics text. */
export async function metricsWithScores(config: string, signals: readonly string[], timeoutMs: number): Promise<string> {
  const port = await freePort();
  const daemon = spawnCli(['run', '--config', config], `http://127.0.0.1:${port}`, { ANOMALY_EXPORTER_LISTEN: `127.0.0.1:${port}` });
  try {
    return await waitFor(
      'a score for every signal',
      async () => {
        const body = (await axios.get(`${daemon.url}/metrics`, { responseType: 'text', validateStatus: () => true }).catch(() => ({ data: '' })))
          .data as string;
        return signals.every((s) => new RegExp(`^anomaly_score\\{[^}]*signal="${s}"[^}]*\\} `, 'm').test(body)) ? body : undefined;
      },
      timeoutMs,
      500,
    );
  } finally {
    await killCli(daemon);
  }
}
