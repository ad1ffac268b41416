/**
 * Label matchers in Alertmanager's syntax: `name="value"`, `name!="value"`, `name=~"regex"`,
 * `name!~"regex"`. Regexes are anchored (the whole value must match), as in Alertmanager.
 */
export type MatchType = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  name: string;
  type: MatchType;
  value: string;
  /** For =~ and !~: the anchored regular expression. */
  regex?: RegExp;
}

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^"\s]*))\s*$/;

/** Parses one matcher; throws with a reason a config error can show. */
export function parseMatcher(text: string): LabelMatcher {
  const m = MATCHER.exec(text);
  if (!m) throw new Error(`"${text}" is not a matcher like name="value", name!="value", name=~"regex" or name!~"regex"`);
  const [, name, type, quoted, bare] = m;
  const value = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : bare;
  const matcher: LabelMatcher = { name, type: type as MatchType, value };
  if (type === '=~' || type === '!~') {
    try {
      matcher.regex = new RegExp(`^(?:${value})$`, 'u');
    } catch (err) {
      throw new Error(`"${text}": invalid regular expression: ${(err as Error).message}`);
    }
  }
  return matcher;
}

/** Whether the labels satisfy the matcher; a missing label counts as the empty string. */
export function matches(m: LabelMatcher, labels: Record<string, string>): boolean {
  const v = labels[m.name] ?? '';
  switch (m.type) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return m.regex!.test(v);
    case '!~':
      return !m.regex!.test(v);
  }
}

export function matchesAll(ms: LabelMatcher[], labels: Record<string, string>): boolean {
  return ms.every((m) => matches(m, labels));
}
