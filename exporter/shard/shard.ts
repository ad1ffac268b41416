/**
 * Sharding across replicas: replica `index` of `count` owns the groups (the values of
 * reader.group_by) whose hash falls in its share, the way Prometheus' `hashmod` relabelling
 * splits targets: md5 of the values joined by ";", its last 8 bytes as a big-endian integer,
 * modulo count. A group is never split, so the group analysis and correlations stay whole.
 */
import { createHash } from 'node:crypto';
import { parser } from '@prometheus-io/lezer-promql';

export interface ShardSpec {
  index: number;
  count: number;
}

/** `INDEX/COUNT`, e.g. `0/3`. Throws with what is wrong. */
export function parseShardFlag(text: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`--shard expects INDEX/COUNT (e.g. 0/3), got "${text}"`);
  const spec = { index: Number(m[1]), count: Number(m[2]) };
  const problem = shardProblem(spec);
  if (problem) throw new Error(`--shard ${text}: ${problem}`);
  return spec;
}

export function shardProblem(s: ShardSpec): string | undefined {
  if (!Number.isInteger(s.count) || s.count < 1) return 'count must be a whole number of at least 1';
  if (!Number.isInteger(s.index) || s.index < 0 || s.index >= s.count) return `index must be between 0 and ${s.count - 1}`;
  return undefined;
}

/** The ordinal of a StatefulSet pod from its host name (`anomaly-exporter-2` → 2), if it has one. */
export function ordinalFromHostname(hostname: string | undefined): number | undefined {
  const m = /-(\d+)$/.exec(hostname ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Prometheus' hashmod over the values of `groupBy` (a missing label is the empty string). */
export function groupShard(labels: Record<string, string>, groupBy: readonly string[], count: number): number {
  if (count === 1) return 0;
  const joined = groupBy.map((l) => labels[l] ?? '').join(';');
  const digest = createHash('md5').update(joined).digest();
  return Number(digest.readBigUInt64BE(8) % BigInt(count));
}

export class Shard {
  constructor(
    readonly spec: ShardSpec,
    readonly groupBy: readonly string[],
  ) {}

  get sharded(): boolean {
    return this.spec.count > 1;
  }

  owns(labels: Record<string, string>): boolean {
    return groupShard(labels, this.groupBy, this.spec.count) === this.spec.index;
  }
}

/** A value as a literal inside an RE2 alternation (Prometheus anchors `=~` at both ends). */
export function regexLiteral(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/**
 * The query with `matcher` (e.g. `service=~"a|b"`) added to every vector selector, found with
 * the official PromQL grammar (the technique of prom-label-proxy), so each replica asks the
 * source only for its share. Offsets, `@`, ranges and subqueries stay as they were.
 */
export function addMatcher(query: string, matcher: string): string {
  const edits: { at: number; text: string }[] = [];
  parser.parse(query).iterate({
    enter: (node) => {
      if (node.type.name !== 'VectorSelector') return undefined;
      const matchers = node.node.getChild('LabelMatchers');
      if (matchers) {
        const empty = query.slice(matchers.from + 1, matchers.to - 1).trim() === '';
        edits.push({ at: matchers.from + 1, text: empty ? matcher : `${matcher}, ` });
      } else {
        const name = node.node.getChild('Identifier');
        edits.push({ at: name ? name.to : node.to, text: `{${matcher}}` });
      }
      return false;
    },
  });
  let out = query;
  for (const e of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, e.at) + e.text + out.slice(e.at);
  return out;
}
