/**
 * PromQL syntax check with the official grammar (`@prometheus-io/lezer-promql`, the parser of
 * Prometheus' own web UI): a query that would fail on every cycle (an unclosed parenthesis, a
 * stray operator) is a config error at `check` and at start, with its line and column, instead
 * of a signal that never scores. The grammar knows PromQL's functions (`rat(` is an error); metric
 * and label names are the source's to know.
 */
import { parser } from '@prometheus-io/lezer-promql';

/** `HistogramQuantile` → `histogram_quantile`, `Log10` → `log10`. */
const snake = (name: string) => name.replace(/(?<=[a-z0-9])([A-Z])/g, '_$1').toLowerCase();

/**
 * PromQL's function names, from the grammar itself (its node types after FunctionIdentifier),
 * each checked to parse as a function call; and the aggregation operators, also written `name(`.
 */
const FUNCTIONS: readonly string[] = (() => {
  const types = parser.nodeSet.types.map((t) => t.name);
  const candidates = types.slice(types.indexOf('FunctionIdentifier') + 1).map(snake);
  return candidates.filter((name) => {
    let isCall = false;
    let broken = false;
    parser.parse(`${name}(x)`).iterate({
      enter: (n) => {
        if (n.type.isError) broken = true;
        if (n.type.name === 'FunctionIdentifier' && n.from === 0) isCall = true;
      },
    });
    return isCall && !broken;
  });
})();
const AGGREGATIONS = ['sum', 'avg', 'min', 'max', 'count', 'count_values', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'limitk', 'limit_ratio'];
/** Words PromQL puts before "(" that are neither functions nor aggregations. */
const KEYWORDS = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'fill', 'fill_left', 'fill_right'];

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The known function or aggregation closest to `name`, when it is close (a typo), else undefined. */
export function closestFunction(name: string): string | undefined {
  const lower = name.toLowerCase();
  const prefix = (f: string) => {
    let k = 0;
    while (k < f.length && f[k] === lower[k]) k++;
    return k;
  };
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const f of [...FUNCTIONS, ...AGGREGATIONS]) {
    const d = distance(lower, f);
    // Ties go to the longer shared start: "rat" is rate, not rad.
    if (d < bestDistance || (d === bestDistance && best !== undefined && prefix(f) > prefix(best))) [best, bestDistance] = [f, d];
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 4)) ? best : undefined;
}

/** Syntax only VictoriaMetrics' MetricsQL has: then `check_promql: false` is the way out. */
const METRICSQL_ONLY = /\bWITH\s*\(|\bkeep_metric_names\b|\)\s*(?:default|if|ifnot)\b|\)\s*limit\s+\d|\[\s*[^\]:]*:\s*\]|\[\s*\]/i;

/**
 * What is wrong with the query's syntax and where, or undefined when it parses. A call of a name
 * PromQL does not know is named, with the closest known function when it looks like a typo; the
 * hint to switch the check off (MetricsQL) comes only when the query could be MetricsQL: an
 * unknown function that is no typo, or syntax only MetricsQL has.
 */
export function promqlSyntaxProblem(query: string): string | undefined {
  const problem = grammarProblem(query);
  if (problem === undefined) return undefined;
  const metricsqlHint = ' (if this is MetricsQL: reader.check_promql: false)';
  if (METRICSQL_ONLY.test(query)) return `${problem}${metricsqlHint}`;
  const unknown = unknownFunction(query);
  if (unknown) {
    const near = closestFunction(unknown);
    return near
      ? `unknown function "${unknown}": did you mean "${near}"? (${problem})`
      : `unknown function "${unknown}", not one of PromQL's (${problem})${metricsqlHint}`;
  }
  return problem;
}

/** The first `name(` in the query whose name PromQL does not know (strings and label matchers skipped). */
function unknownFunction(query: string): string | undefined {
  const code = query.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|\{[^}]*\}|#[^\n]*/g, (m) => ' '.repeat(m.length));
  for (const m of code.matchAll(/(?<![\w:.])([A-Za-z_][\w:]*)\s*\(/g)) {
    const name = m[1];
    const lower = name.toLowerCase();
    if (FUNCTIONS.includes(name) || AGGREGATIONS.includes(lower) || KEYWORDS.includes(lower)) continue;
    return name;
  }
  return undefined;
}

/** The grammar's first error, with its line and column. */
function grammarProblem(query: string): string | undefined {
  if (query.trim() === '') return 'empty query';
  let at: number | undefined;
  parser.parse(query).iterate({
    enter: (node) => {
      if (at !== undefined) return false;
      if (node.type.isError) {
        at = node.from;
        return false;
      }
      return undefined;
    },
  });
  if (at === undefined) return undefined;
  const before = query.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  const rest = query.slice(at).trimStart();
  const near = rest === '' ? 'at the end of the query' : `at "${rest.length > 20 ? `${rest.slice(0, 20)}…` : rest}"`;
  return `PromQL syntax error at line ${line}, column ${column} (${near})`;
}
