import { promqlSyntaxProblem } from './promql-syntax';

describe('PromQL syntax check', () => {
  it.each([
    'up',
    'sum by (service) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (service) (rate(http_requests_total[5m]))',
    'histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket[10s])))',
    '(sum by (service) (rate(x[10s])) or sum by (service) (rate(y[10s])) * 0)',
    'avg_over_time(x[1h:5m] offset 1d)',
    '{__name__=~"job:.*"}',
  ])('accepts %s', (q) => expect(promqlSyntaxProblem(q)).toBeUndefined());

  it.each([
    ['sum(rate(x[1m])', /line 1, column 16 \(at the end of the query\)/],
    ['rate(x[1m]) +', /at the end of the query/],
    ['sum by service (x)', /line 1, column 8/],
    ['x{a="b"', /line 1/],
    ['up\n  and on (job) )', /line 2, column 16 \(at "\)"\)/],
    ['   ', /empty query/],
  ])('refuses %j, saying where', (q, message) => expect(promqlSyntaxProblem(q)).toMatch(message));

  it.each([
    ['histogram_quantil(0.95, sum by (le) (rate(x_bucket[5m])))', 'histogram_quantil', 'histogram_quantile'],
    ['rat(x[5m])', 'rat', 'rate'],
    ['sum(irat(x[5m]))', 'irat', 'irate'],
    ['avg_over_tim(x[5m])', 'avg_over_tim', 'avg_over_time'],
  ])('names an unknown function in %j and the closest known one, with no MetricsQL hint', (q, unknown, near) => {
    const problem = promqlSyntaxProblem(q)!;
    expect(problem).toMatch(new RegExp(`^unknown function "${unknown}": did you mean "${near}"\\? \\(PromQL syntax error at line 1, column \\d+`));
    expect(problem).not.toContain('MetricsQL');
  });

  it('gives the MetricsQL hint only where the query could be MetricsQL', () => {
    expect(promqlSyntaxProblem('rollup_candlestick(x[5m])')).toMatch(
      /^unknown function "rollup_candlestick", not one of PromQL's .*\(if this is MetricsQL: reader\.check_promql: false\)$/,
    );
    expect(promqlSyntaxProblem('sum(rate(x[5m])) keep_metric_names')).toMatch(/MetricsQL/);
    expect(promqlSyntaxProblem('sum(rate(x[1m])')).not.toMatch(/MetricsQL/);
    // Names inside strings and label matchers are not calls.
    expect(promqlSyntaxProblem('x{a="rat(b"} +')).toMatch(/^PromQL syntax error/);
  });
});
