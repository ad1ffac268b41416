/**
 * deploy/kubernetes, without a cluster: the kustomization is rendered (its few fields, read the way
 * kustomize reads them), every object is validated against the Kubernetes and prometheus-operator
 * schemas (kubernetes-models), and what a reviewer would check by hand is checked here: non-root,
 * read-only root file system, probes, resources, names and ports that meet, configs our own
 * loaders accept, and a PrometheusRule that carries exactly the shipped rules (promtool-checked).
 * `npm run k8s:rules` rewrites prometheus-rule.yaml after a rules change.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { parseConfig } from '../exporter/config/config';
import { parseReceiverConfig } from '../receiver/receiver-config';
import { parseListenAddress } from '../common/listen-address';
import { requireBinary } from './stack';

const ROOT = join(__dirname, '..');
const DIR = join(ROOT, 'deploy', 'kubernetes');
/** The rule files the PrometheusRule carries: the product's, not the demo service's SLO alerts. */
const RULE_FILES = ['anomaly-alerts.yml', 'recording.yml'];

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const SCHEMAS: Record<string, new (o: Any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

/** The fields of a Kustomization this renderer understands; any other would be silently ignored, so it fails instead. */
const KNOWN = new Set(['apiVersion', 'kind', 'namespace', 'labels', 'resources', 'generatorOptions', 'configMapGenerator']);

function render(): Obj[] {
  const k = parse(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as Any;
  for (const key of Object.keys(k)) if (!KNOWN.has(key)) throw new Error(`kustomization.yaml: ${key} is not understood by this test's renderer`);
  expect(k.generatorOptions).toEqual({ disableNameSuffixHash: true });
  const objects: Obj[] = [];
  for (const file of k.resources as string[]) {
    for (const doc of parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
      const o = doc.toJS() as Obj | null;
      if (o) objects.push(o);
    }
  }
  for (const g of k.configMapGenerator as { name: string; files: string[] }[]) {
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: g.name },
      data: Object.fromEntries(g.files.map((f) => [f, readFileSync(join(DIR, f), 'utf8')])),
    });
  }
  for (const o of objects) {
    o.metadata.namespace = k.namespace;
    for (const l of k.labels ?? []) {
      expect(l.includeSelectors).toBe(false);
      o.metadata.labels = { ...o.metadata.labels, ...l.pairs };
    }
  }
  return objects;
}

/** The PrometheusRule the rule files make. */
function prometheusRule(): Obj {
  const groups = RULE_FILES.flatMap((f) => (parse(readFileSync(join(ROOT, 'prometheus', 'rules', f), 'utf8')) as { groups: unknown[] }).groups);
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'anomaly-exporter', labels: { 'app.kubernetes.io/name': 'anomaly-exporter' } },
    spec: { groups },
  };
}

const objects = render();
const one = (kind: string, name: string): Any => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return o;
};
const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet') as Any[];

describe('deploy/kubernetes', () => {
  it('prometheus-rule.yaml carries exactly the shipped rules (npm run k8s:rules rewrites it)', () => {
    const file = join(DIR, 'prometheus-rule.yaml');
    const expected = prometheusRule();
    if (process.env.UPDATE_K8S === '1') {
      writeFileSync(
        file,
        `# Generated from prometheus/rules/{${RULE_FILES.join(',')}} by \`npm run k8s:rules\`; edit those files, not this one.\n${stringify(expected, { lineWidth: 0 })}`,
      );
    }
    expect(parse(readFileSync(file, 'utf8'))).toEqual(expected);
  });

  it('every object is valid against the Kubernetes and prometheus-operator schemas', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/anomaly-exporter-config',
      'ConfigMap/anomaly-exporter-receiver-config',
      'PrometheusRule/anomaly-exporter',
      'Service/anomaly-exporter',
      'Service/anomaly-exporter-receiver',
      'ServiceMonitor/anomaly-exporter',
      'StatefulSet/anomaly-exporter',
      'StatefulSet/anomaly-exporter-receiver',
    ]);
    for (const o of objects) {
      const Schema = SCHEMAS[`${o.apiVersion}/${o.kind}`];
      expect(Schema).toBeDefined();
      expect(() => new Schema(o).validate()).not.toThrow();
      expect(o.metadata.namespace).toBe('monitoring');
    }
    // The schemas do catch mistakes: a string where a port number belongs.
    const broken = structuredClone(one('Service', 'anomaly-exporter'));
    broken.spec.ports[0].port = 'ten';
    expect(() => new Service(broken).validate()).toThrow();
  });

  it('runs non-root on a read-only root file system, without privileges, with probes and resource requests', () => {
    expect(workloads).toHaveLength(2);
    for (const w of workloads) {
      const pod = w.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        expect(c.livenessProbe.httpGet.path).toBe('/healthz');
        expect(['/healthz', '/readyz']).toContain(c.readinessProbe.httpGet.path);
        expect(c.resources.requests.cpu).toBeDefined();
        expect(c.resources.requests.memory).toBeDefined();
        expect(c.resources.limits.memory).toBeDefined();
        // Writable places are volumes, so a read-only root does not break the daemon.
        expect(c.volumeMounts.map((m: Any) => m.mountPath)).toContain('/tmp');
        const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
        expect(c.image).toBe(`anomaly-exporter:${version}`);
      }
    }
    expect(one('StatefulSet', 'anomaly-exporter').spec.template.spec.containers[0].readinessProbe.httpGet.path).toBe('/readyz');
  });

  it('configs come from ConfigMaps our loaders accept, mounted where the args point, watched for reloads; secrets from a Secret', () => {
    const exporter = one('StatefulSet', 'anomaly-exporter').spec.template.spec;
    const receiver = one('StatefulSet', 'anomaly-exporter-receiver');
    const cases = [
      { pod: exporter, map: 'anomaly-exporter-config', parseIt: (t: string, f: string) => parseConfig(t, f).server.listen },
      { pod: receiver.spec.template.spec, map: 'anomaly-exporter-receiver-config', parseIt: (t: string, f: string) => parseReceiverConfig(t, f).listen },
    ];
    for (const { pod, map, parseIt } of cases) {
      const c = pod.containers[0];
      const volume = pod.volumes.find((v: Any) => v.configMap?.name === map);
      const mount = c.volumeMounts.find((m: Any) => m.name === volume.name);
      const [file, text] = Object.entries(one('ConfigMap', map).data as Record<string, string>)[0];
      const configArg = c.args[c.args.indexOf('--config') + 1];
      expect(configArg).toBe(`${mount.mountPath}/${file}`);
      expect(c.args).toContain('--watch-config');
      const listen = parseIt(text, file);
      // The container port is the port the config listens on, on every interface.
      expect(parseListenAddress(listen, '').host).toBe('0.0.0.0');
      expect(c.ports[0].containerPort).toBe(parseListenAddress(listen, '').port);
    }
    // State where a volume is mounted.
    const exporterConfig = parseConfig(one('ConfigMap', 'anomaly-exporter-config').data['anomaly-exporter.yml'], 'x.yml');
    expect(exporter.containers[0].volumeMounts.map((m: Any) => m.mountPath)).toContain(exporterConfig.state.dir);
    // The receiver's store on the StatefulSet's PersistentVolume.
    const receiverConfig = parseReceiverConfig(one('ConfigMap', 'anomaly-exporter-receiver-config').data['receiver.yml'], 'r.yml');
    const storeMount = receiver.spec.template.spec.containers[0].volumeMounts.find((m: Any) => m.name === receiver.spec.volumeClaimTemplates[0].metadata.name);
    expect(receiverConfig.store.path.startsWith(storeMount.mountPath + '/')).toBe(true);
    expect(receiverConfig.mode).toBe('dry_run');
    // The token: named by env in the config, filled from a Secret, never written in a manifest.
    expect(receiverConfig.auth).toMatchObject({ type: 'bearer', token: { env: 'RECEIVER_TOKEN' } });
    const env = receiver.spec.template.spec.containers[0].env.find((e: Any) => e.name === 'RECEIVER_TOKEN');
    expect(env.valueFrom.secretKeyRef).toEqual({ name: 'anomaly-exporter-receiver-auth', key: 'token' });
  });

  it('shards over the StatefulSet: sharding.count is its replicas, and each pod takes its ordinal as its share', () => {
    const set = one('StatefulSet', 'anomaly-exporter');
    const text = one('ConfigMap', 'anomaly-exporter-config').data['anomaly-exporter.yml'] as string;
    const base = parseConfig(text, 'anomaly-exporter.yml', { hostname: `${set.metadata.name}-0` });
    expect(base.sharding?.count).toBe(set.spec.replicas);
    // Peers start together; the Service is the set's governing one (stable pod names, HOSTNAME = pod name).
    expect(set.spec.podManagementPolicy).toBe('Parallel');
    expect(set.spec.serviceName).toBe('anomaly-exporter');
    // Scaled to 3 (replicas and count edited together), each pod gets its own index from its name.
    const three = text.replace(/sharding:\n {2}count: \d+/, 'sharding:\n  count: 3');
    expect(three).not.toBe(text);
    const indexes = [0, 1, 2].map((i) => parseConfig(three, 'anomaly-exporter.yml', { hostname: `${set.metadata.name}-${i}` }).sharding);
    expect(indexes).toEqual([0, 1, 2].map((index) => ({ index, count: 3 })));
    // A pod name without an ordinal is refused with the field named, rather than every pod scoring share 0.
    expect(() => parseConfig(three, 'anomaly-exporter.yml', { hostname: 'anomaly-exporter' })).toThrow(/sharding\.index/);
  });

  it('Services select their pods by port name, and the ServiceMonitor finds both Services', () => {
    const monitor = one('ServiceMonitor', 'anomaly-exporter');
    for (const [svcName, w] of [
      ['anomaly-exporter', one('StatefulSet', 'anomaly-exporter')],
      ['anomaly-exporter-receiver', one('StatefulSet', 'anomaly-exporter-receiver')],
    ]) {
      const svc = one('Service', svcName);
      const podLabels = w.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(svc.spec.selector)) expect(podLabels[k]).toBe(v);
      for (const [k, v] of Object.entries(w.spec.selector.matchLabels)) expect(podLabels[k]).toBe(v);
      const portNames = w.spec.template.spec.containers[0].ports.map((p: Any) => p.name);
      for (const p of svc.spec.ports) expect(portNames).toContain(p.targetPort);
      for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) expect(svc.metadata.labels[k]).toBe(v);
      expect(svc.spec.ports.map((p: Any) => p.name)).toContain(monitor.spec.endpoints[0].port);
    }
    expect(one('StatefulSet', 'anomaly-exporter-receiver').spec.serviceName).toBe('anomaly-exporter-receiver');
  });

  it('the PrometheusRule passes promtool check rules', () => {
    const promtool = requireBinary('promtool', 'prometheus');
    const file = join(mkdtempSync(join(tmpdir(), 'ae-k8s-')), 'rules.yml');
    writeFileSync(file, stringify({ groups: one('PrometheusRule', 'anomaly-exporter').spec.groups }));
    const out = execFileSync(promtool, ['check', 'rules', file], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });
});
