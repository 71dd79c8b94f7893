import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isScalar, parseAllDocuments, visit } from 'yaml';
import { OPERATIONS_QUEUE } from '@hearth/queue';

/*
 * The Kubernetes manifests, rendered offline with `kubectl kustomize` (Kustomize v5) for each overlay: every
 * object parses and validates against the Kubernetes API types (kubernetes-models: types, required fields and
 * enums; unknown fields are not caught there, the API server's strict field validation does that), and the
 * things that must agree with the rest of the repo do: images are the Dockerfile's targets, probes are the apps'
 * health routes on the ports the config and the Dockerfiles use, KEDA reads BullMQ's key, workers' egress is
 * only Postgres, Redis, the chain RPC, KMS and DNS. The production overlay refuses to render without its KMS
 * settings (Kustomize enforces a missing file or value; an empty value is caught here, see productionProblems).
 */

// dist/deploy/k8s/manifests.spec.js → the repo root
const ROOT = join(__dirname, '..', '..', '..');
const K8S = join(ROOT, 'deploy', 'k8s');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  [key: string]: unknown;
}
// The manifests' shape, as far as these checks read it.
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  envFrom?: { configMapRef?: { name: string } }[];
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: { containers: Container[]; serviceAccountName?: string };
}

function kustomizeVersion(): string | undefined {
  const res = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  if (res.status !== 0) return undefined;
  return (JSON.parse(res.stdout) as { kustomizeVersion?: string }).kustomizeVersion;
}
const kustomize = kustomizeVersion();
// Debian bookworm's kubernetes-client (1.20) embeds Kustomize v2, which lacks replacements: v5 is needed.
const skip =
  kustomize === undefined
    ? 'kubectl is not installed (the manifests need kubectl >= 1.27, Kustomize v5)'
    : /^v[5-9]/.test(kustomize)
      ? false
      : `kubectl's Kustomize is ${kustomize}; the manifests need v5 (kubectl >= 1.27)`;

function render(dir: string): { status: number; stdout: string; stderr: string } {
  const res = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  return { status: res.status ?? 1, stdout: res.stdout, stderr: res.stderr };
}

/**
 * Parses as Kubernetes does (Go's YAML): a 0x… scalar too large for 64 bits, such as an address, is a string,
 * where this parser would make it a lossy number.
 */
function parse(text: string): K8sObject[] {
  return parseAllDocuments(text).map((doc) => {
    assert.deepEqual(doc.errors, [], 'the rendered YAML parses');
    visit(doc, {
      Scalar(_key, node) {
        if (isScalar(node) && typeof node.value === 'number' && /^0x[0-9a-f]{17,}$/i.test(node.source ?? ''))
          node.value = node.source;
      },
    });
    return doc.toJS() as K8sObject;
  });
}

type Validator = new (data: unknown) => { validate(): void };

// why: swc compiles `import()` to `require()` under CommonJS, which cannot load these ESM-only packages.
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const importModule = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;

/** The kubernetes-models class for each apiVersion/kind the manifests use (ESM packages, imported once). */
async function validators(): Promise<Map<string, Validator>> {
  const k8s = (await importModule('kubernetes-models')) as typeof import('kubernetes-models');
  const keda = (await importModule('@kubernetes-models/keda')) as typeof import('@kubernetes-models/keda');
  const classes: Validator[] = [
    k8s.v1.ServiceAccount,
    k8s.v1.Service,
    k8s.v1.ConfigMap,
    k8s.v1.Secret,
    k8s.v1.PersistentVolumeClaim,
    k8s.apps.v1.Deployment,
    k8s.batch.v1.Job,
    k8s.autoscaling.v2.HorizontalPodAutoscaler,
    k8s.policy.v1.PodDisruptionBudget,
    k8s.networkingK8sIo.v1.NetworkPolicy,
    keda.kedaSh.v1alpha1.ScaledObject,
  ] as unknown as Validator[];
  return new Map(
    classes.map((c) => {
      const meta = c as unknown as { apiVersion: string; kind: string };
      return [`${meta.apiVersion}/${meta.kind}`, c];
    }),
  );
}

const find = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind}/${name} is rendered`);
  return found;
};
const podTemplate = (o: K8sObject): PodTemplate =>
  (o as unknown as { spec: { template: PodTemplate } }).spec.template;

/** What Kustomize cannot refuse: empty or placeholder KMS values in a rendered production overlay. */
function productionProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('hearth-config'));
  const data = (config as unknown as { data: Record<string, string> } | undefined)?.data ?? {};
  if (data.KMS_PROVIDER !== 'aws') problems.push(`KMS_PROVIDER is ${data.KMS_PROVIDER}, not aws`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(data.AWS_REGION ?? ''))
    problems.push(`AWS_REGION (kms.env) is not an AWS region: "${data.AWS_REGION ?? ''}"`);
  const role =
    find(objects, 'ServiceAccount', 'hearth').metadata.annotations?.['eks.amazonaws.com/role-arn'] ?? '';
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(role))
    problems.push(`KMS_IAM_ROLE_ARN (kms.env) is not an IAM role ARN: "${role}"`);
  return problems;
}

describe('Kubernetes manifests (kubectl kustomize, offline)', { skip }, () => {
  const renderDir = join(K8S, 'overlays', `.render-${process.pid}`);
  /** A copy of the production overlay beside it (so ../../base still resolves) with the given kms.env. */
  const productionWith = (kmsEnv: string | undefined): ReturnType<typeof render> => {
    rmSync(renderDir, { recursive: true, force: true });
    mkdirSync(renderDir);
    copyFileSync(
      join(K8S, 'overlays', 'production', 'kustomization.yaml'),
      join(renderDir, 'kustomization.yaml'),
    );
    if (kmsEnv !== undefined) writeFileSync(join(renderDir, 'kms.env'), kmsEnv);
    return render(renderDir);
  };
  const example = readFileSync(join(K8S, 'overlays', 'production', 'kms.env.example'), 'utf8');
  const rendered = new Map<string, K8sObject[]>();
  let models: Map<string, Validator>;

  before(async () => {
    models = await validators();
    const dev = render(join(K8S, 'overlays', 'dev'));
    assert.equal(dev.status, 0, dev.stderr);
    rendered.set('dev', parse(dev.stdout));
    const production = productionWith(example);
    assert.equal(production.status, 0, production.stderr);
    rendered.set('production', parse(production.stdout));
  });
  after(() => rmSync(renderDir, { recursive: true, force: true }));

  it('the production overlay stops at render time without its KMS settings, naming them', () => {
    const noFile = productionWith(undefined);
    assert.notEqual(noFile.status, 0);
    assert.match(noFile.stderr, /kms\.env/);
    const noRole = productionWith(example.replace(/^KMS_IAM_ROLE_ARN=.*$/m, ''));
    assert.notEqual(noRole.status, 0);
    assert.match(noRole.stderr, /data\.KMS_IAM_ROLE_ARN/);
    const noRegion = productionWith(example.replace(/^AWS_REGION=.*$/m, ''));
    assert.notEqual(noRegion.status, 0);
    assert.match(noRegion.stderr, /data\.AWS_REGION/);
    // An empty value renders: this check is what refuses it.
    const empty = productionWith(example.replace(/^AWS_REGION=.*$/m, 'AWS_REGION='));
    assert.equal(empty.status, 0, empty.stderr);
    assert.deepEqual(productionProblems(parse(empty.stdout)), [
      'AWS_REGION (kms.env) is not an AWS region: ""',
    ]);
    assert.deepEqual(productionProblems(rendered.get('production')!), []);
  });

  for (const overlay of ['dev', 'production']) {
    it(`${overlay}: every object validates against its Kubernetes API type`, () => {
      const objects = rendered.get(overlay)!;
      assert.ok(objects.length >= 15, `${objects.length} objects`);
      for (const o of objects) {
        const Model = models.get(`${o.apiVersion}/${o.kind}`);
        assert.ok(Model, `no API type known for ${o.apiVersion} ${o.kind}`);
        assert.doesNotThrow(() => new Model(o).validate(), `${o.kind}/${o.metadata.name}`);
        assert.match(o.metadata.name, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, `${o.kind} name`);
      }
      // No secret values in the manifests: Secrets are created out of band, the config names files.
      assert.equal(objects.filter((o) => o.kind === 'Secret').length, 0);
      for (const cm of objects.filter((o) => o.kind === 'ConfigMap')) {
        const data = (cm as unknown as { data: Record<string, string> }).data;
        for (const secret of [
          'DATABASE_URL',
          'REDIS_URL',
          'RELAYER_PRIVATE_KEY',
          'HEARTH_MASTER_KEY',
          'ADMIN_TOKEN',
        ])
          assert.equal(data[secret], undefined, `${secret} is not in ConfigMap ${cm.metadata.name}`);
      }
    });

    it(`${overlay}: images are the Dockerfile's targets, probes the apps' health routes`, () => {
      const objects = rendered.get(overlay)!;
      const dockerfile = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8');
      const targets = new Set([...dockerfile.matchAll(/^FROM runtime AS (\S+)$/gm)].map((m) => m[1]));
      const exposed = (target: string): number =>
        Number(
          new RegExp(`^FROM runtime AS ${target}\\n(?:.*\\n)*?EXPOSE (\\d+)`, 'm').exec(dockerfile)?.[1],
        );
      const config = objects.find(
        (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('hearth-config'),
      )!;
      const env = (config as unknown as { data: Record<string, string> }).data;
      const gatewayRoutes = readFileSync(
        join(ROOT, 'apps', 'gateway', 'src', 'health', 'health.controller.ts'),
        'utf8',
      );
      assert.match(gatewayRoutes, /@Controller\('health'\)[\s\S]*@Get\('live'\)[\s\S]*@Get\('ready'\)/);
      const workerRoutes = readFileSync(
        join(ROOT, 'apps', 'worker', 'src', 'worker-health.server.ts'),
        'utf8',
      );
      assert.match(workerRoutes, /'\/health\/live'/);
      assert.match(workerRoutes, /'\/health\/ready'/);

      const apps: [string, K8sObject, string, string][] = [
        ['gateway', find(objects, 'Deployment', 'hearth-gateway'), 'PORT', 'gateway'],
        ['worker', find(objects, 'Deployment', 'hearth-worker'), 'WORKER_HEALTH_PORT', 'worker'],
      ];
      for (const [name, deployment, portVariable, target] of apps) {
        const [container] = podTemplate(deployment).spec.containers;
        assert.match(container.image, new RegExp(`(^|/)hearth/${target}(:[\\w.-]+)?$`), `${name} image`);
        assert.ok(targets.has(target), `docker/Dockerfile has the ${target} target`);
        const port = container.ports![0];
        assert.equal(port.containerPort, exposed(target), `${name}: the Dockerfile's EXPOSE`);
        assert.equal(String(port.containerPort), env[portVariable], `${name}: ${portVariable} in the config`);
        assert.equal(container.livenessProbe?.httpGet?.path, '/health/live', `${name} liveness`);
        assert.equal(container.startupProbe?.httpGet?.path, '/health/live', `${name} startup`);
        assert.equal(container.readinessProbe?.httpGet?.path, '/health/ready', `${name} readiness`);
        for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe])
          assert.equal(probe?.httpGet?.port, port.name, `${name}: probes on the named port`);
        assert.ok(
          container.envFrom?.some((e) => e.configMapRef?.name === config.metadata.name),
          `${name} reads the config`,
        );
        assert.equal(podTemplate(deployment).spec.serviceAccountName, 'hearth');
      }
      const [migrate] = podTemplate(find(objects, 'Job', 'hearth-migrate')).spec.containers;
      assert.match(migrate.image, /(^|\/)hearth\/migrate(:[\w.-]+)?$/);
      assert.ok(targets.has('migrate'));
    });

    it(`${overlay}: autoscaling, disruption budgets, migrations ordering and the workers' egress`, () => {
      const objects = rendered.get(overlay)!;
      const labelsOf = (name: string) => podTemplate(find(objects, 'Deployment', name)).metadata!.labels!;
      const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
        Object.entries(selector).every(([k, v]) => labels[k] === v);
      const hpa = find(objects, 'HorizontalPodAutoscaler', 'hearth-gateway') as unknown as {
        spec: { scaleTargetRef: { kind: string; name: string } };
      };
      assert.deepEqual(
        [hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name],
        ['Deployment', 'hearth-gateway'],
      );
      const service = find(objects, 'Service', 'hearth-gateway') as unknown as {
        spec: { selector: Record<string, string> };
      };
      assert.ok(matches(service.spec.selector, labelsOf('hearth-gateway')));
      for (const name of ['hearth-gateway', 'hearth-worker']) {
        const pdb = find(objects, 'PodDisruptionBudget', name) as unknown as {
          spec: { selector: { matchLabels: Record<string, string> } };
        };
        assert.ok(matches(pdb.spec.selector.matchLabels, labelsOf(name)), `PDB ${name} selects its pods`);
      }

      // KEDA on BullMQ's wait list of the operations queue, under the configured prefix.
      const config = objects.find(
        (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('hearth-config'),
      )!;
      const env = (config as unknown as { data: Record<string, string> }).data;
      const scaled = find(objects, 'ScaledObject', 'hearth-worker') as unknown as {
        spec: {
          scaleTargetRef: { name: string };
          triggers: { type: string; metadata: Record<string, string> }[];
        };
      };
      assert.equal(scaled.spec.scaleTargetRef.name, 'hearth-worker');
      const redis = scaled.spec.triggers.find((t) => t.type === 'redis');
      assert.ok(redis, 'a Redis trigger');
      assert.equal(redis.metadata.listName, `${env.QUEUE_PREFIX}:${OPERATIONS_QUEUE}:wait`);
      assert.ok(env[redis.metadata.addressFromEnv], 'the Redis address KEDA reads is in the config');
      const prometheus = scaled.spec.triggers.find((t) => t.type === 'prometheus');
      assert.match(prometheus?.metadata.query ?? '', /hearth_queue_jobs\{state=~"waiting\|prioritized"\}/);
      const metricsSource = readFileSync(
        join(ROOT, 'apps', 'worker', 'src', 'metrics', 'worker-metrics.ts'),
        'utf8',
      );
      assert.match(metricsSource, /name: 'hearth_queue_jobs'/);

      const job = find(objects, 'Job', 'hearth-migrate');
      assert.equal(job.metadata.annotations?.['argocd.argoproj.io/hook'], 'PreSync');
      assert.equal(job.metadata.annotations?.['helm.sh/hook'], 'pre-install,pre-upgrade');

      const policy = find(objects, 'NetworkPolicy', 'hearth-worker') as unknown as {
        spec: {
          podSelector: { matchLabels: Record<string, string> };
          policyTypes: string[];
          egress: { ports: { port: number }[] }[];
        };
      };
      assert.ok(matches(policy.spec.podSelector.matchLabels, labelsOf('hearth-worker')));
      assert.ok(policy.spec.policyTypes.includes('Egress'), 'egress is restricted');
      const ports = new Set(policy.spec.egress.flatMap((rule) => rule.ports.map((p) => p.port)));
      // DNS, Postgres, Redis, the chain RPC (plain or HTTPS), KMS (HTTPS) and nothing else.
      assert.deepEqual(
        [...ports].sort((a, b) => a - b),
        [53, 443, 5432, 6379, 8545],
      );
      for (const rule of policy.spec.egress)
        assert.ok(rule.ports.length > 0, 'every egress rule names its ports');
    });
  }
});
