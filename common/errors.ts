/** A config problem, printed as `file: path.to.field: reason`; the CLI exits with code 2. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: { path: string; reason: string }[],
  ) {
    super(problems.map((p) => `${file}: ${p.path || '(root)'}: ${p.reason}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Exit code for invalid configuration or usage, as promised in the README. */
export const EXIT_CONFIG_ERROR = 2;

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
