/**
 * PromQL syntax check with the official grammar (`@prometheus-io/lezer-promql`, the parser of
 * Prometheus' own web UI): a query that would fail on every cycle (an unclosed parenthesis, a
 * stray operator) is a config error at `check` and at start, with its line and column, instead
 * of a signal that never scores. The grammar knows PromQL's functions (`rat(` is an error); metric
 * and label names are the source's to know.
 */
import { parser } from '@prometheus-io/lezer-promql';

/** What is wrong with the query's syntax and where, or undefined when it parses. */
export function promqlSyntaxProblem(query: string): string | undefined {
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
