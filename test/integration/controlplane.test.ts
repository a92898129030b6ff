// The test control plane itself: the leg's Kubernetes version, the Node authorizer and
// NodeRestriction as OpenShift runs them, RBAC from deploy/rbac.yaml enforced, kubelet-shaped CSRs
// (the two-usage ECDSA sets of a current kubelet too) signed after the action's identity approves
// them, and OpenShift's own CRDs served with their CEL rules (DOMAIN 4, 8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { objectPath, PATHS, REGISTRY_NAMESPACE } from '../../src/cluster/paths.ts';
import { KubeApiError, type KubeClient } from '../env/client.ts';
import { NODE_BOOTSTRAPPER } from '../env/controlplane.ts';
import { untilObserved } from '../env/until.ts';
import { sharedControlPlane } from './harness.ts';

const CSRS = PATHS.csrs;
const LEGACY_CLIENT_USAGES = ['digital signature', 'key encipherment', 'client auth'];
const nodeId = (name: string) => ({ user: `system:node:${name}`, groups: ['system:nodes', 'system:authenticated'] });
const run = promisify(execFile);

const bed = sharedControlPlane();

async function csrPem(subject: string, san?: string): Promise<string> {
  const { stdout } = await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', '/dev/null', '-subj', subject,
    ...(san ? ['-addext', `subjectAltName=${san}`] : [])]);
  return stdout;
}

async function createCsr(client: KubeClient, subject: string, signerName: string, impersonate?: { user: string; groups: string[] }, opts: { usages?: string[]; san?: string } = {}) {
  return client.request('POST', CSRS, {
    impersonate,
    body: {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { generateName: 'csr-' },
      spec: { request: Buffer.from(await csrPem(subject, opts.san)).toString('base64'), signerName, usages: opts.usages ?? LEGACY_CLIENT_USAGES },
    },
  });
}

/** the minor version the server reports */
function minor(): number {
  return Number(/^v1\.(\d+)\./.exec(bed.cp.version)?.[1]);
}

function approve(client: KubeClient, csr: any) { // eslint-disable-line @typescript-eslint/no-explicit-any
  const conditions = [...(csr.status?.conditions ?? []), { type: 'Approved', status: 'True', reason: 'OFITest', message: 'approved by the control plane test' }];
  return client.request('PUT', `${objectPath(CSRS, csr.metadata.name)}/approval`, { body: { ...csr, status: { ...csr.status, conditions } } });
}

/** Resolves with status.certificate (PEM) once the signer has issued it. */
function issued(client: KubeClient, csr: { metadata: { name: string; resourceVersion: string } }, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      watch.stop();
      reject(new Error(`no certificate for ${csr.metadata.name} within ${timeoutMs} ms`));
    }, timeoutMs);
    const watch = client.watch(`${CSRS}?fieldSelector=metadata.name%3D${csr.metadata.name}`, (type, obj) => {
      if (type === 'ERROR') return reject(new Error(`watch error: ${JSON.stringify(obj)}`));
      if (obj?.status?.certificate) {
        clearTimeout(timer);
        watch.stop();
        resolve(Buffer.from(obj.status.certificate, 'base64').toString('utf8'));
      }
    }, { resourceVersion: csr.metadata.resourceVersion });
  });
}

test('the action identity holds exactly the role from deploy/rbac.yaml', async (t) => {
  t.diagnostic(`startControlPlane: etcd ${bed.cp.timings.etcd} ms, API server ready ${bed.cp.timings.apiServer} ms, total ${bed.cp.timings.total} ms`);
  const nodes = await bed.cp.action.request('GET', PATHS.nodes);
  assert.equal(nodes.kind, 'NodeList');
  await bed.cp.action.request('GET', PATHS.clusterOperators);

  const forbidden = (e: unknown) => e instanceof KubeApiError && e.status === 403;
  await assert.rejects(bed.cp.action.request('POST', '/api/v1/namespaces', { body: { metadata: { name: 'not-allowed' } } }), forbidden);
  await assert.rejects(bed.cp.action.request('POST', `/api/v1/namespaces/${REGISTRY_NAMESPACE}/secrets`, {
    body: { metadata: { name: 'not-allowed' }, stringData: { a: 'b' } },
  }), forbidden);

  const kubeconfig = parse(readFileSync(bed.cp.writeKubeconfig('action'), 'utf8'));
  assert.equal(kubeconfig['current-context'], 'action');
  assert.equal(kubeconfig.clusters[0].cluster.server, bed.cp.url);
  assert.equal(Buffer.from(kubeconfig.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), bed.cp.caPem);
  assert.equal(kubeconfig.users[0].user.token, bed.cp.actionToken);
});

test('a kubelet client CSR approved by the action identity gets signed', async () => {
  const csr = await createCsr(bed.cp.admin, '/O=system:nodes/CN=system:node:worker-0', 'kubernetes.io/kube-apiserver-client-kubelet', NODE_BOOTSTRAPPER);
  assert.equal(csr.spec.username, NODE_BOOTSTRAPPER.user);
  assert.deepEqual([...csr.spec.groups].sort(), [...NODE_BOOTSTRAPPER.groups].sort());
  assert.equal(csr.status?.conditions, undefined);

  const certificate = issued(bed.cp.admin, csr, 20_000);
  const approved = await approve(bed.cp.action, await bed.cp.action.request('GET', objectPath(CSRS, csr.metadata.name)));
  assert.equal(approved.status.conditions[0].type, 'Approved');

  const cert = new X509Certificate(await certificate);
  assert.match(cert.subject, /^O=system:nodes$/m);
  assert.match(cert.subject, /^CN=system:node:worker-0$/m);
  assert.match(cert.issuer, /CN=ofi-test-csr-signer/);
});

test('the action identity may not approve other signers', async () => {
  const csr = await createCsr(bed.cp.admin, '/CN=system:multus:worker-0', 'kubernetes.io/kube-apiserver-client');
  try {
    await assert.rejects(approve(bed.cp.action, csr), (e: unknown) => e instanceof KubeApiError && e.status === 403 && /kube-apiserver-client/.test(e.message));
  } finally {
    await bed.cp.admin.request('DELETE', objectPath(CSRS, csr.metadata.name));
  }
});

test('the API server reports the leg\'s real Kubernetes version', () => {
  assert.match(bed.cp.version, bed.cp.leg === 'current' ? /^v1\.34\.\d+$/ : /^v1\.29\.\d+$/);
});

test('NodeRestriction: a node may only ask for a serving certificate in its own name (1.31+)', async () => {
  const forged = createCsr(bed.cp.admin, '/O=system:nodes/CN=system:node:nr-b', 'kubernetes.io/kubelet-serving', nodeId('nr-a'),
    { usages: ['digital signature', 'server auth'], san: 'DNS:nr-b' });
  if (minor() >= 31) {
    await assert.rejects(forged, (e: unknown) => e instanceof KubeApiError && e.status === 403 && /can only create CSRs|system:node:nr-a/i.test(e.message));
  } else {
    // Before 1.31 the server takes it; the approver is the only boundary (csr.test.ts refuses it).
    const csr = await forged;
    assert.equal(csr.spec.username, 'system:node:nr-a');
    await bed.cp.admin.request('DELETE', objectPath(CSRS, csr.metadata.name));
  }
});

test('the signer issues a two-usage ECDSA serving request (a current kubelet\'s) that the action approved', async () => {
  const csr = await createCsr(bed.cp.admin, '/O=system:nodes/CN=system:node:eu-0', 'kubernetes.io/kubelet-serving', nodeId('eu-0'),
    { usages: ['digital signature', 'server auth'], san: 'DNS:eu-0,IP:10.0.9.1' });
  assert.equal(csr.spec.username, 'system:node:eu-0');
  const certificate = issued(bed.cp.admin, csr, 20_000);
  await approve(bed.cp.action, await bed.cp.action.request('GET', objectPath(CSRS, csr.metadata.name)));
  const cert = new X509Certificate(await certificate);
  assert.match(cert.subject, /^CN=system:node:eu-0$/m);
  assert.equal(cert.subjectAltName, 'DNS:eu-0, IP Address:10.0.9.1');
  assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
});

test('OpenShift\'s CRDs are installed unchanged, CEL rules enforced', async () => {
  const crd = await bed.cp.admin.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusterversions.config.openshift.io');
  assert.match(JSON.stringify(crd.spec), /x-kubernetes-validations/);
  assert.match(crd.metadata.annotations?.['api-approved.openshift.io'] ?? '', /openshift\/api/);
  // "cannot set both Architecture and Image" is a CEL rule on spec.desiredUpdate.
  const versions = PATHS.clusterVersions;
  const body = (desiredUpdate: object) => ({ apiVersion: 'config.openshift.io/v1', kind: 'ClusterVersion', metadata: { name: 'cel-check' }, spec: { clusterID: '2f6b2e4c-0000-4000-8000-000000000001', desiredUpdate } });
  await assert.rejects(bed.cp.admin.request('POST', versions, { body: body({ architecture: 'Multi', image: 'quay.io/x@sha256:00', version: '4.21.0' }) }),
    (e: unknown) => e instanceof KubeApiError && e.status === 422 && /cannot set both Architecture and Image/.test(e.message));
  await bed.cp.admin.request('POST', versions, { body: body({ version: '4.21.0' }) });
  await bed.cp.admin.request('DELETE', objectPath(versions, 'cel-check'));
});

test('the OpenShift CRDs round-trip empty strings and status', async () => {
  const configs = PATHS.registryConfigs;
  await bed.cp.admin.request('POST', configs, {
    body: { apiVersion: 'imageregistry.operator.openshift.io/v1', kind: 'Config', metadata: { name: 'cluster' }, spec: { managementState: 'Removed', replicas: 1, storage: { emptyDir: {} }, bogus: 1 } },
  });
  // What the action sends (DOMAIN 7): state and storage in one merge patch, the old key cleared.
  const patched = await bed.cp.action.request('PATCH', PATHS.registryConfig, {
    body: { spec: { managementState: 'Managed', storage: { emptyDir: null, pvc: { claim: '' } } } },
  });
  // logLevel and operatorLogLevel are the schema's defaults; the unknown field is pruned
  assert.deepEqual(patched.spec, { logLevel: 'Normal', operatorLogLevel: 'Normal', managementState: 'Managed', replicas: 1, storage: { pvc: { claim: '' } } });
  assert.deepEqual((await bed.cp.action.request('GET', PATHS.registryConfig)).spec.storage, { pvc: { claim: '' } });

  const operators = PATHS.clusterOperators;
  const status = {
    conditions: ['Available:True', 'Progressing:False', 'Degraded:False'].map((c) => {
      const [type, s] = c.split(':');
      return { type, status: s, reason: 'AsExpected', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' };
    }),
    versions: [{ name: 'operator', version: '4.16.0' }],
    relatedObjects: [{ group: '', resource: 'namespaces', name: 'openshift-image-registry' }],
  };
  const created = await bed.cp.admin.request('POST', operators, {
    body: { apiVersion: 'config.openshift.io/v1', kind: 'ClusterOperator', metadata: { name: 'image-registry' }, spec: {}, status },
  });
  assert.equal(created.status, undefined, 'status is stripped on create');
  await bed.cp.admin.request('PUT', `${objectPath(operators, 'image-registry')}/status`, { body: { ...created, status } });
  assert.deepEqual((await bed.cp.action.request('GET', objectPath(operators, 'image-registry'))).status, status);
});

test('restartApiServer ends open watches and the server comes back with metrics', async () => {
  let connected!: () => void;
  const firstEvent = new Promise<void>((resolve) => { connected = resolve; });
  const watch = bed.cp.admin.watch('/api/v1/namespaces', () => connected());
  await firstEvent;
  await bed.cp.restartApiServer();
  await watch.done;
  // Right after a restart the authorizer's caches may still be empty (DOMAIN 8): a 403 for a moment.
  const answer = await untilObserved(() => bed.cp.action.requestRaw('GET', PATHS.nodes), (r) => r.status !== 403, { message: 'the action identity authorized after the restart', timeoutMs: 10_000 });
  assert.equal(answer.status, 200, answer.body);
  assert.match(await bed.cp.metrics(), /^apiserver_request_total\{/m);
});

test('stopSigner holds back certificates until startSigner', async () => {
  await bed.cp.stopSigner();
  const csr = await createCsr(bed.cp.admin, '/O=system:nodes/CN=system:node:worker-1', 'kubernetes.io/kube-apiserver-client-kubelet', NODE_BOOTSTRAPPER);
  await approve(bed.cp.action, csr);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await bed.cp.admin.request('GET', objectPath(CSRS, csr.metadata.name))).status.certificate, undefined);
  await bed.cp.startSigner();
  assert.match(new X509Certificate(await issued(bed.cp.admin, csr, 20_000)).subject, /CN=system:node:worker-1/);
});
