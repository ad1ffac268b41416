/**
 * The preset registry: every preset by name, in the order `init` tries them. Adding one is a file
 * beside this one and a line here.
 */
import { istio } from './istio';
import { nginx } from './nginx';
import { nodeExporter } from './node-exporter';
import { opentelemetryHttp } from './opentelemetry-http';
import { Preset, PresetSignal } from './preset';
import { prometheusHttp } from './prometheus-http';
import { springBoot } from './spring-boot';

export type { Preset, PresetSignal, SourceFacts } from './preset';

export const PRESETS: readonly Preset[] = [prometheusHttp, opentelemetryHttp, springBoot, istio, nginx, nodeExporter];

export const PRESET_NAMES = PRESETS.map((p) => p.name) as [string, ...string[]];

export function presetNamed(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name);
}

/** A preset's signal as a config writes it. */
export interface PresetSignalEntry {
  /** Its name in the config: the preset's, or `<preset>_<name>` when another preset chosen names a signal so too. */
  name: string;
  preset: Preset;
  signal: PresetSignal;
  query: string;
  /** The config's signal section (`kind` only where the name does not say it). */
  config: {
    query: string;
    unit: string;
    direction: PresetSignal['direction'];
    kind?: PresetSignal['kind'];
    min_deviation?: number;
    min_relative_deviation?: number;
  };
}

/** Config entries for the given presets' signals, with their queries. */
export function presetSignalEntries(items: { preset: Preset; signal: PresetSignal; query: string }[]): PresetSignalEntry[] {
  const owners = new Map<string, Set<string>>();
  for (const { preset, signal } of items) owners.set(signal.name, (owners.get(signal.name) ?? new Set()).add(preset.name));
  return items.map(({ preset, signal, query }) => {
    const name = owners.get(signal.name)!.size > 1 ? `${preset.name}_${signal.name}` : signal.name;
    return {
      name,
      preset,
      signal,
      query,
      config: {
        query,
        unit: signal.unit,
        direction: signal.direction,
        ...(name === signal.kind ? {} : { kind: signal.kind }),
        ...(signal.minDeviation !== undefined ? { min_deviation: signal.minDeviation } : {}),
        ...(signal.minRelativeDeviation !== undefined ? { min_relative_deviation: signal.minRelativeDeviation } : {}),
      },
    };
  });
}

/**
 * The signals of a config's `preset:` (one name or several), aggregated by `groupBy` when the
 * config sets it, else each by its preset's first group label; and the group_by they make.
 */
export function expandPresets(names: readonly string[], groupBy?: readonly string[]): { signals: PresetSignalEntry[]; groupBy: string[] } {
  const presets = names.map((n) => presetNamed(n)).filter((p): p is Preset => p !== undefined);
  const labelOf = (p: Preset) => (groupBy?.length ? groupBy.join(', ') : p.groupLabels[0]);
  const items = presets.flatMap((preset) =>
    preset.signals
      .map((signal) => ({ preset, signal, query: signal.query(labelOf(preset)) }))
      .filter((x): x is { preset: Preset; signal: PresetSignal; query: string } => Boolean(x.query)),
  );
  return { signals: presetSignalEntries(items), groupBy: groupBy ? [...groupBy] : [...new Set(presets.map((p) => p.groupLabels[0]))] };
}
