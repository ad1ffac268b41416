/**
 * The end of a cycle: every signal's published series, grouped (`group_by`), analysed per group
 * (anomalous signals, correlations, incident pattern, the group forest's score) and frozen into
 * the snapshot that /metrics and the web page render until the next cycle.
 */
import { analyseGroup, groupPublished, GroupAnalysisOptions, PublishedSeries } from '../group/group-analysis';
import { GroupForests } from '../group/group-forests';
import { Snapshot } from '../publish/snapshot';
import { LoopTurns } from '../../common/loop-turns';

export async function buildSnapshot(
  published: readonly PublishedSeries[],
  builtAtSeconds: number,
  endSeconds: number,
  analysis: GroupAnalysisOptions,
  groupForests?: GroupForests,
): Promise<Snapshot> {
  const grouped = groupPublished(published, analysis.groupBy);
  const forestScores = await groupForests?.update(grouped, endSeconds);
  // 10,000 groups' correlations take a while: requests get their turns meanwhile.
  const turns = new LoopTurns();
  const groups = [];
  for (const g of grouped) {
    const forest = forestScores?.get(g.key);
    groups.push({ ...analyseGroup(g.labels, g.members, analysis), forestScore: forest?.score, forestContributions: forest?.contributions });
    if (turns.due()) await turns.take();
  }
  return Object.freeze({ builtAtSeconds, series: Object.freeze(published.map((p) => p.result)), groups: Object.freeze(groups) });
}
