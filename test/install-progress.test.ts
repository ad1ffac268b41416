/** A first run is never silent while it installs: scripts/with-progress.sh, as ensure-deps.sh uses it. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const bash = (script: string, env: Record<string, string> = {}) =>
  spawnSync('bash', ['-c', `set -euo pipefail; source scripts/with-progress.sh; ${script}`], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 20_000,
  });

describe('install progress', () => {
  it('with_progress prints a line every PROGRESS_EVERY seconds while the step runs, and keeps its exit code', () => {
    const ok = bash('with_progress "installing things" sleep 3.5', { PROGRESS_EVERY: '1' });
    expect(ok.status).toBe(0);
    const lines = ok.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toMatch(/^ensure-deps: still installing things \(\d+ s\)$/);
    const failed = bash('with_progress "failing" sh -c "exit 7"', { PROGRESS_EVERY: '1' });
    expect(failed.status).toBe(7);
    // A quick step says nothing.
    expect(bash('with_progress "quick" true').stderr).toBe('');
  });

  it("apt_lines turns apt-get's output into one line per package set up", () => {
    const r = bash(
      `printf 'Get:1 http://deb prometheus\\nUnpacking prometheus (2.42.0)\\nSetting up prometheus (2.42.0+ds-5) ...\\nSetting up chromium (120) ...\\n' | apt_lines`,
    );
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('ensure-deps: set up prometheus\nensure-deps: set up chromium\n');
  });
});
