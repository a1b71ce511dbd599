import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Registry } from 'prom-client'
import { listenMetrics, type MetricsServer } from '../../src/faces/http/metrics-server.js'
import { SHUTDOWN_GRACE_MS } from '../../src/composition/index.js'
import { openTestApi, type TestApi } from '../support/api.js'
import { configuredNames, parseCli, SECRET_NAME, yamlDocuments, yamlFile } from './deploy-files.js'

type Doc = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- manifests are untyped YAML
interface Container {
  name: string
  args?: string[]
  env?: Array<{ name: string; value?: string; valueFrom?: Doc }>
  readinessProbe?: Doc
  livenessProbe?: Doc
  lifecycle?: Doc
}

const kustomization = yamlFile<{ resources: string[] }>('deploy/k8s/kustomization.yaml')
const documents: Doc[] = ['migrate-job.yaml', ...kustomization.resources].flatMap((file) =>
  yamlDocuments(`deploy/k8s/${file}`),
)
const ofKind = (kind: string) => documents.filter((doc) => doc.kind === kind)
const podSpecs = () => [...ofKind('Deployment'), ...ofKind('Job')].map((doc) => doc.spec.template.spec as Doc)
const containersOf = (spec: Doc): Container[] => [...(spec.initContainers ?? []), ...spec.containers]
const allContainers = () => podSpecs().flatMap(containersOf)
const deployment = (component: string) =>
  ofKind('Deployment').find((doc) => doc.metadata.labels['app.kubernetes.io/component'] === component)!
const mainContainer = (component: string): Container => deployment(component).spec.template.spec.containers[0]
const preStopSeconds = (container: Container): number => {
  const command: string[] | undefined = container.lifecycle?.preStop?.exec?.command
  return command?.[0] === 'sleep' ? Number(command[1]) : 0
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  let api: TestApi
  let workerMetrics: MetricsServer
  beforeAll(async () => {
    api = await openTestApi('sqlite')
    workerMetrics = await listenMetrics(new Registry(), '127.0.0.1', 0)
  })
  afterAll(async () => {
    await api.close()
    await workerMetrics.close()
  })

  it('ships api and worker Deployments, a migration Job, PDBs, a CPU HPA for workers and a ServiceMonitor', () => {
    expect(
      ofKind('Deployment')
        .map((doc) => doc.metadata.name)
        .sort(),
    ).toEqual(['tasksgodzilla-api', 'tasksgodzilla-worker'])
    expect(ofKind('Job').map((doc) => doc.spec.template.spec.containers[0].args)).toEqual([['migrate']])
    expect(deployment('api').spec.template.spec.initContainers[0].args).toEqual(['migrate'])
    expect(ofKind('PodDisruptionBudget')).toHaveLength(2)
    const [hpa] = ofKind('HorizontalPodAutoscaler')
    expect(hpa?.spec.scaleTargetRef.name).toBe('tasksgodzilla-worker')
    expect(hpa?.spec.metrics[0].resource.name).toBe('cpu')
    const [monitor] = ofKind('ServiceMonitor')
    expect(monitor?.spec.endpoints.map((endpoint: Doc) => endpoint.path)).toEqual(['/metrics', '/metrics'])
  })

  it('runs only commands and flags the CLI accepts', async () => {
    for (const container of allContainers()) {
      const parsed = await parseCli(container.args ?? [])
      expect(['serve', 'worker', 'migrate']).toContain(parsed.command)
    }
    // With Redis an API relays its own commits to the queue (runs no jobs); --no-jobs would leave that to workers' polls.
    expect((await parseCli(mainContainer('api').args!)).options).toMatchObject({ jobs: true })
  })

  it('sets only variables the server reads, and secrets only from Secret references', () => {
    const known = configuredNames()
    const configMap = ofKind('ConfigMap')[0]!.data as Record<string, string>
    const names = [
      ...Object.keys(configMap),
      ...allContainers().flatMap((c) => (c.env ?? []).map((e) => e.name)),
    ]
    for (const name of names.filter((n) => n.startsWith('TASKSGODZILLA_')))
      expect(known, name).toContain(name)
    for (const name of Object.keys(configMap)) expect(name).not.toMatch(SECRET_NAME)
    for (const entry of allContainers()
      .flatMap((c) => c.env ?? [])
      .filter((e) => SECRET_NAME.test(e.name))) {
      expect(entry.value, entry.name).toBeUndefined()
      expect(entry.valueFrom?.secretKeyRef?.name, entry.name).toBe('tasksgodzilla')
    }
  })

  it('probes the API on paths that answer 200 on a real server', async () => {
    const { readinessProbe, livenessProbe } = mainContainer('api')
    expect(readinessProbe?.httpGet.path).toBe('/health/ready')
    expect(livenessProbe?.httpGet.path).toBe('/health/live')
    for (const path of [readinessProbe?.httpGet.path, livenessProbe?.httpGet.path, '/metrics'])
      expect((await api.request('GET', path)).statusCode, path).toBe(200)
  })

  it("probes a worker on its metrics server's one path", async () => {
    const worker = mainContainer('worker')
    const port = worker.args![worker.args!.indexOf('--metrics-port') + 1]
    expect(worker.livenessProbe?.httpGet).toEqual({ path: '/metrics', port: 'metrics' })
    expect(deployment('worker').spec.template.spec.containers[0].ports[0].containerPort).toBe(Number(port))
    expect((await fetch(`${workerMetrics.address}/metrics`)).status).toBe(200)
  })

  it('gives each pod more time to stop than its drain takes', async () => {
    const api = mainContainer('api')
    const apiDrainSeconds = SHUTDOWN_GRACE_MS / 1000 + preStopSeconds(api)
    expect(deployment('api').spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(
      apiDrainSeconds,
    )
    const { options } = await parseCli(mainContainer('worker').args!)
    expect(deployment('worker').spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(
      Number(options.grace),
    )
  })
})
