/**
 * The end of a cycle: every signal's published series, grouped (`group_by`), analysed per group
 * (anomalous signals, correlations, incident pattern, the group forest's score) and frozen into
 * the snapshot that /metrics and the web page render until the next cycle.
 */
import { analyseGroup, groupPublished, GroupAnalysisOptions, PublishedSeries } from '../group/group-analysis';
import { GroupForests } from '../group/group-forests';
import { Snapshot } from '../publish/snapshot';

export function buildSnapshot(
  published: readonly PublishedSeries[],
  builtAtSeconds: number,
  endSeconds: number,
  analysis: GroupAnalysisOptions,
  groupForests?: GroupForests,
): Snapshot {
  const grouped = groupPublished(published, analysis.groupBy);
  const forestScores = groupForests?.update(grouped, endSeconds);
  const groups = grouped.map((g) => {
    const forest = forestScores?.get(g.key);
    return { ...analyseGroup(g.labels, g.members, analysis), forestScore: forest?.score, forestContributions: forest?.contributions };
  });
  return Object.freeze({ builtAtSeconds, series: Object.freeze(published.map((p) => p.result)), groups: Object.freeze(groups) });
}
