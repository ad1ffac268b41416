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
});
