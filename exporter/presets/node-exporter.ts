/**
 * Machines through node_exporter: the USE method's utilisation and saturation per `instance`,
 * for CPU, memory, disk and network.
 */
import { firstPresent, Preset, RATE } from './preset';

export const nodeExporter: Preset = {
  name: 'node_exporter',
  title: 'Machines through node_exporter: CPU, memory, disk, network (node_cpu_seconds_total, node_memory_*)',
  metrics: ['node_cpu_seconds_total', 'node_memory_MemAvailable_bytes'],
  groupLabels: ['instance'],
  signals: [
    {
      name: 'cpu',
      kind: 'other',
      unit: 'ratio',
      direction: 'above',
      help: 'CPU utilisation: the share of CPU time not idle, over all cores',
      minDeviation: 0.1,
      query: (by, facts) =>
        firstPresent(facts, ['node_cpu_seconds_total']) ? `1 - avg by (${by}) (rate(node_cpu_seconds_total{mode="idle"}[${RATE}]))` : undefined,
    },
    {
      name: 'load',
      kind: 'other',
      unit: 'ratio',
      direction: 'above',
      help: 'CPU saturation: the 1-minute load average per core',
      minDeviation: 0.25,
      query: (by, facts) =>
        firstPresent(facts, ['node_load1']) && firstPresent(facts, ['node_cpu_seconds_total'])
          ? `sum by (${by}) (node_load1) / count by (${by}) (node_cpu_seconds_total{mode="idle"})`
          : undefined,
    },
    {
      name: 'memory',
      kind: 'other',
      unit: 'ratio',
      direction: 'above',
      help: 'memory utilisation: the share of memory not available',
      minDeviation: 0.05,
      query: (by, facts) =>
        firstPresent(facts, ['node_memory_MemAvailable_bytes']) && firstPresent(facts, ['node_memory_MemTotal_bytes'])
          ? `1 - sum by (${by}) (node_memory_MemAvailable_bytes) / sum by (${by}) (node_memory_MemTotal_bytes)`
          : undefined,
    },
    {
      name: 'disk',
      kind: 'other',
      unit: 'ratio',
      direction: 'above',
      help: "disk utilisation: the busiest device's share of time doing I/O",
      minDeviation: 0.1,
      query: (by, facts) =>
        firstPresent(facts, ['node_disk_io_time_seconds_total']) ? `max by (${by}) (rate(node_disk_io_time_seconds_total[${RATE}]))` : undefined,
    },
    {
      name: 'network',
      kind: 'traffic',
      unit: 'bytes/s',
      direction: 'both',
      help: 'network throughput: bytes received and sent per second, loopback left out',
      minRelativeDeviation: 0.3,
      query: (by, facts) =>
        firstPresent(facts, ['node_network_receive_bytes_total']) && firstPresent(facts, ['node_network_transmit_bytes_total'])
          ? `sum by (${by}) (rate(node_network_receive_bytes_total{device!="lo"}[${RATE}])) + sum by (${by}) (rate(node_network_transmit_bytes_total{device!="lo"}[${RATE}]))`
          : undefined,
    },
  ],
};
