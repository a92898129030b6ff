// Issue 24 on the real API server: a machine listed without addresses is bounded by what the
// cluster knows of its networks (the Network and Infrastructure objects `cluster` of OpenShift's
// own CRDs, and the install-config in ConfigMap kube-system/cluster-config-v1), read under the
// least-privilege role of deploy/rbac.yaml. Its Node writes the service IP, the VIPs, a pod
// address and one outside the machine network into its own status (NodeRestriction lets it), and
// asks for each: they stay Pending with their reasons. Also: the inventory read from a
// nodes-config.yaml, and spec.expirationSeconds against max-requested-duration.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { CLUSTER_CONFIG_NAME, INSTALL_CONFIG_MAP, objectPath, PATHS } from '../../src/cluster/paths.ts';
import { KubeApiError } from '../env/client.ts';
import { untilObserved } from '../env/until.ts';
import { call, nodeIdentity, SIGNER, USAGES } from '../sim/common.ts';
import type { SimulatedInstall } from '../sim/install.ts';
import { csrTestBed, runAction } from './harness.ts';

const { bed, install, readCsr, conditionTypes, nodeInputs } = csrTestBed();

const MACHINE_NETWORK = '10.5.0.0/24';
const API_VIP = '10.5.0.5';
const INGRESS_VIP = '10.5.0.6';
const NETWORK = objectPath(PATHS.networks, CLUSTER_CONFIG_NAME);
const INFRASTRUCTURE = objectPath(PATHS.infrastructures, CLUSTER_CONFIG_NAME);
const INSTALL_CONFIG = objectPath(PATHS.kubeSystemConfigMaps, INSTALL_CONFIG_MAP);

/** An install-config as the installer stores it: pullSecret emptied, the SSH public key kept. */
const installConfig = (machineNetworks: string[]) =>
  [
    'apiVersion: v1',
    'baseDomain: example.com',
    'metadata:',
    '  name: ocp',
    'networking:',
    '  clusterNetwork:',
    '  - cidr: 10.128.0.0/14',
    '    hostPrefix: 23',
    ...(machineNetworks.length > 0 ? ['  machineNetwork:', ...machineNetworks.map((cidr) => `  - cidr: ${cidr}`)] : []),
    '  networkType: OVNKubernetes',
    '  serviceNetwork:',
    '  - 172.30.0.0/16',
    'platform:',
    '  baremetal:',
    `    apiVIPs: [${API_VIP}]`,
    `    ingressVIPs: [${INGRESS_VIP}]`,
    'pullSecret: ""',
    'sshKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfi0000000000000000000000000000000000000000 core',
    '',
  ].join('\n');

/** The Infrastructure object's status, as the installer writes it for a bare metal cluster. */
const infrastructureStatus = (machineNetworks: string[]) => ({
  apiServerURL: 'https://api.ocp.example.com:6443',
  apiServerInternalURI: 'https://api-int.ocp.example.com:6443',
  controlPlaneTopology: 'HighlyAvailable',
  infrastructureTopology: 'HighlyAvailable',
  infrastructureName: 'ocp-x7k2p',
  etcdDiscoveryDomain: '',
  platform: 'BareMetal',
  platformStatus: {
    type: 'BareMetal',
    baremetal: { apiServerInternalIPs: [API_VIP], ingressIPs: [INGRESS_VIP], apiServerInternalIP: API_VIP, ingressIP: INGRESS_VIP, ...(machineNetworks.length > 0 ? { machineNetworks } : {}) },
  },
});

/** Sets the Infrastructure status and the install-config's machine networks (empty: none recorded). */
async function machineNetworks(cidrs: string[]): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const current: any = await bed.cp.admin.request('GET', INFRASTRUCTURE);
  await bed.cp.admin.request('PUT', `${INFRASTRUCTURE}/status`, { body: { ...current, status: infrastructureStatus(cidrs) } });
  await bed.cp.admin.request('PATCH', INSTALL_CONFIG, { body: { data: { 'install-config': installConfig(cidrs) } }, contentType: 'application/merge-patch+json' });
}

before(async () => {
  await bed.ready();
  await bed.cp.admin.apply({
    apiVersion: 'config.openshift.io/v1',
    kind: 'Network',
    metadata: { name: CLUSTER_CONFIG_NAME },
    spec: { clusterNetwork: [{ cidr: '10.128.0.0/14', hostPrefix: 23 }], serviceNetwork: ['172.30.0.0/16'], networkType: 'OVNKubernetes' },
    status: { clusterNetwork: [{ cidr: '10.128.0.0/14', hostPrefix: 23 }], serviceNetwork: ['172.30.0.0/16'], networkType: 'OVNKubernetes', clusterNetworkMTU: 1400 },
  });
  await bed.cp.admin.apply({
    apiVersion: 'config.openshift.io/v1',
    kind: 'Infrastructure',
    metadata: { name: CLUSTER_CONFIG_NAME },
    spec: { cloudConfig: { name: '' }, platformSpec: { type: 'BareMetal', baremetal: {} } },
  });
  await bed.cp.admin.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: INSTALL_CONFIG_MAP, namespace: 'kube-system' }, data: { 'install-config': installConfig([]) } });
  await machineNetworks([MACHINE_NETWORK]);
});

/** A serving request of `node` for its name and `ips`, filed as the node itself. */
const servingRequest = (sim: SimulatedInstall, node: string, label: string, ips: string[], expirationSeconds?: number) =>
  sim.adversary.file(label, {
    identity: nodeIdentity(node),
    signerName: SIGNER.kubeletServing,
    usages: USAGES.serving,
    spec: { commonName: `system:node:${node}`, organizations: ['system:nodes'], dnsNames: [node], ipAddresses: ips },
    ...(expirationSeconds === undefined ? {} : { expirationSeconds }),
  });

/** As the node itself, its status.addresses become `ips` (and its hostname). */
async function nodeWrites(sim: SimulatedInstall, node: string, ips: string[]): Promise<void> {
  await call(sim.ctx, 'PATCH', `${objectPath(PATHS.nodes, node)}/status`, {
    body: { status: { addresses: [{ type: 'Hostname', address: node }, ...ips.map((address) => ({ type: 'InternalIP', address }))] } },
    contentType: 'application/merge-patch+json',
    impersonate: nodeIdentity(node),
  });
}

test('a Node listed without addresses that writes the service IP, a VIP, a pod address or one outside the machine network gets none of them', { timeout: 240_000 }, async () => {
  const node = 'n-worker-0';
  const sim = await install({ workers: [{ name: node, addresses: ['10.5.0.10'] }] });
  const joined = await runAction(bed.cp, nodeInputs([node]));
  assert.equal(joined.outputs.result, 'success', joined.stdout);
  assert.match(joined.stdout, new RegExp(`the machines listed without addresses \\(${node}\\): IP addresses accepted within the machine networks 10\\.5\\.0\\.0/24 \\(from Infrastructure cluster and the install-config in kube-system/cluster-config-v1\\), never in the service network \\(172\\.30\\.0\\.0/16\\) or the cluster network \\(10\\.128\\.0\\.0/14\\), nor a VIP \\(10\\.5\\.0\\.5, 10\\.5\\.0\\.6\\)`));
  assert.match(joined.summaryText, new RegExp(`Listed without addresses \\(undeclared\\): ${node}\\.`));

  const claimed = ['10.5.0.10', '172.30.0.1', API_VIP, INGRESS_VIP, '10.128.4.7', '192.168.77.7'];
  await nodeWrites(sim, node, claimed);
  const forged: Record<string, string> = {
    [await servingRequest(sim, node, 'kubernetes service IP', ['10.5.0.10', '172.30.0.1'])]: 'san-service-network',
    [await servingRequest(sim, node, 'API VIP', ['10.5.0.10', API_VIP])]: 'san-cluster-vip',
    [await servingRequest(sim, node, 'ingress VIP', [INGRESS_VIP])]: 'san-cluster-vip',
    [await servingRequest(sim, node, 'pod address', ['10.128.4.7'])]: 'san-cluster-network',
    [await servingRequest(sim, node, 'outside the machine network', ['10.5.0.10', '192.168.77.7'])]: 'san-outside-machine-network',
  };
  const honest = await servingRequest(sim, node, 'honest', ['10.5.0.10']);

  const run = await runAction(bed.cp, nodeInputs([node]));
  assert.equal(run.outputs.result, 'success', run.stdout);
  assert.deepEqual(run.json('approved-csrs'), [honest], 'only the request for its address in the machine network');
  assert.ok((await readCsr(honest)).status?.certificate, 'and the signer issued it');
  const refused = run.json('refused-csrs');
  for (const [name, reason] of Object.entries(forged)) {
    assert.deepEqual(refused.find((r) => r.name === name), { name, signer: SIGNER.kubeletServing, requestor: `system:node:${node}`, node, reason }, `${name}: ${reason}`);
    assert.deepEqual(await conditionTypes(name), [], `${name} stays Pending, never Denied`);
    assert.match(run.stdout, new RegExp(`refused serving CSR ${name} for ${node}: ${reason} \\(`));
  }
  for (const reason of new Set(Object.values(forged))) assert.match(run.summaryText, new RegExp(reason));
});

test('machine-networks replaces the cluster\'s: an address in it is approved, one in the cluster\'s machine network is not', { timeout: 240_000 }, async () => {
  const node = 'n-worker-1';
  const sim = await install({ workers: [{ name: node, addresses: ['10.9.0.11'] }] });
  // Outside the cluster's machine network: the kubelet's own serving request stays Pending.
  const bounded = await runAction(bed.cp, nodeInputs([node], { 'nodes-timeout': '20s' }));
  assert.equal(bounded.outputs.result, 'timeout', bounded.stdout);
  const kubeletRequest = bounded.json('refused-csrs').find((r) => r.node === node);
  assert.equal(kubeletRequest?.reason, 'san-outside-machine-network', bounded.stdout);
  assert.match(bounded.stdout, /10\.9\.0\.11 lies in no machine network \(10\.5\.0\.0\/24, from Infrastructure cluster and the install-config/);

  const replaced = await runAction(bed.cp, nodeInputs([node], { 'machine-networks': '10.9.0.0/24' }));
  assert.equal(replaced.outputs.result, 'success', replaced.stdout);
  assert.ok(replaced.json('approved-csrs').includes(kubeletRequest!.name), 'the same request, approved under the input');
  assert.match(replaced.stdout, /IP addresses accepted within the machine networks 10\.9\.0\.0\/24 \(from input machine-networks\)/);
  // The cluster's machine network no longer counts.
  await nodeWrites(sim, node, ['10.9.0.11', '10.5.0.99']);
  const old = await servingRequest(sim, node, 'in the cluster machine network', ['10.5.0.99']);
  const again = await runAction(bed.cp, nodeInputs([node], { 'machine-networks': '10.9.0.0/24' }));
  assert.equal(again.json('refused-csrs').find((r) => r.name === old)?.reason, 'san-outside-machine-network', again.stdout);
});

test('no machine network found: said once, and the Node\'s own address is accepted as before, but never the service IP', { timeout: 240_000 }, async () => {
  const node = 'n-worker-2';
  await machineNetworks([]);
  try {
    const sim = await install({ workers: [{ name: node, addresses: ['192.168.78.12'] }] });
    const run = await runAction(bed.cp, nodeInputs([node]));
    assert.equal(run.outputs.result, 'success', run.stdout);
    const warnings = run.stdout.split('\n').filter((line) => line.includes('no machine network found'));
    assert.equal(warnings.length, 1, run.stdout);
    assert.match(warnings[0]!, /^::warning::no machine network found \(looked at Infrastructure cluster status\.platformStatus and the install-config in ConfigMap kube-system\/cluster-config-v1\): the machines listed without addresses \(n-worker-2\) may get a certificate for any InternalIP\/ExternalIP its Node reports, never in the service network \(172\.30\.0\.0\/16\)/);
    await nodeWrites(sim, node, ['192.168.78.12', '172.30.0.10']);
    const service = await servingRequest(sim, node, 'service address', ['172.30.0.10']);
    const again = await runAction(bed.cp, nodeInputs([node]));
    assert.equal(again.json('refused-csrs').find((r) => r.name === service)?.reason, 'san-service-network', again.stdout);
  } finally {
    await machineNetworks([MACHINE_NETWORK]);
  }
});

test('the preflight checks the network reads by name: without them a run with a machine listed without addresses fails naming each rule; a declared one needs none', { timeout: 180_000 }, async () => {
  const role = '/apis/rbac.authorization.k8s.io/v1/clusterroles/openshift-finish-install';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const original: any = await bed.cp.admin.request('GET', role);
  const rules = original.rules.filter((r: { resources?: string[] }) => !(r.resources ?? []).includes('networks'));
  assert.ok(rules.length < original.rules.length, 'deploy/rbac.yaml grants get on networks and infrastructures named cluster');
  await bed.cp.admin.request('PUT', role, { body: { ...original, rules } });
  try {
    const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'get', group: 'config.openshift.io', resource: 'networks', name: 'cluster' } } };
    await untilObserved(
      () => bed.cp.action.request<{ status?: { allowed?: boolean } }>('POST', PATHS.selfSubjectAccessReviews, { body: review }),
      (answer) => !answer.status?.allowed,
      { message: 'the action identity refused get networks after the ClusterRole changed', timeoutMs: 15_000 },
    );
    const undeclared = await runAction(bed.cp, nodeInputs(['n-worker-0']));
    assert.equal(undeclared.outputs.result, 'error', undeclared.stdout);
    assert.match(undeclared.stdout, /::error::Missing permissions \(see deploy\/rbac\.yaml\), add: \{apiGroups: \["config\.openshift\.io"\], resources: \["networks"\], verbs: \["get"\], resourceNames: \["cluster"\]\}; \{apiGroups: \["config\.openshift\.io"\], resources: \["infrastructures"\], verbs: \["get"\], resourceNames: \["cluster"\]\}\./);
    assert.deepEqual(undeclared.json('approved-csrs'), []);
    const declared = await runAction(bed.cp, nodeInputs(['n-worker-0 10.5.0.10']));
    assert.equal(declared.outputs.result, 'success', declared.stdout);
  } finally {
    await bed.cp.admin.request('PUT', role, { body: { ...(await bed.cp.admin.request<object>('GET', role)), rules: original.rules } });
  }
});

test('the inventory input: a nodes-config.yaml declares each static host, a DHCP host is listed by name and bounded; a file of no known form fails before any write', { timeout: 240_000 }, async () => {
  const sim = await install({ workers: [{ name: 'n-worker-3', addresses: ['10.5.0.13'] }, { name: 'n-worker-4', addresses: ['10.5.0.14'] }] });
  const nodesConfig = join(bed.dir, 'nodes-config.yaml');
  writeFileSync(
    nodesConfig,
    [
      'hosts:',
      '  - hostname: n-worker-3',
      '    interfaces:',
      '      - name: eth0',
      '        macAddress: 00:00:5e:00:53:13',
      '    networkConfig:',
      '      interfaces:',
      '        - name: eth0',
      '          type: ethernet',
      '          state: up',
      '          mac-address: 00:00:5e:00:53:13',
      '          ipv4:',
      '            enabled: true',
      '            address:',
      '              - ip: 10.5.0.13',
      '                prefix-length: 24',
      '            dhcp: false',
      '  - hostname: n-worker-4',
      '    interfaces:',
      '      - name: eth0',
      '        macAddress: 00:00:5e:00:53:14',
      '    networkConfig:',
      '      interfaces:',
      '        - name: eth0',
      '          type: ethernet',
      '          state: up',
      '          ipv4:',
      '            enabled: true',
      '            dhcp: true',
      '',
    ].join('\n'),
  );
  // Not an inventory: the install-config. Refused before the kubeconfig is even read.
  const wrong = join(bed.dir, 'install-config.yaml');
  writeFileSync(wrong, installConfig([MACHINE_NETWORK]));
  const refused = await runAction(bed.cp, { inventory: wrong, 'wait-for-operators': 'false', 'nodes-timeout': '90s' });
  assert.equal(refused.outputs.result, 'error', refused.stdout);
  assert.match(refused.stdout, new RegExp(`::error::Input 'inventory': ${wrong.replace(/[/.]/g, '\\$&')} is a YAML mapping without a hosts list .*Accepted: lines as in the nodes input; an OpenShift nodes-config\\.yaml`));
  assert.deepEqual(refused.json('approved-csrs'), []);
  assert.doesNotMatch(refused.stdout, /^cluster https:/m, 'it stopped before connecting');

  const run = await runAction(bed.cp, { inventory: nodesConfig, 'wait-for-operators': 'false', 'nodes-timeout': '90s' });
  assert.equal(run.outputs.result, 'success', run.stdout);
  assert.deepEqual(run.json('nodes').map((n) => [n.name, n.ready, n.servingIssued]), [['n-worker-3', true, true], ['n-worker-4', true, true]]);
  assert.match(run.summaryText, /Listed without addresses \(undeclared\): n-worker-4\./);
  assert.doesNotMatch(run.summaryText, /undeclared\): n-worker-3/);
  // n-worker-3 is judged against its declaration: an address its Node writes does not count.
  await nodeWrites(sim, 'n-worker-3', ['10.5.0.13', '10.5.0.113']);
  const extra = await servingRequest(sim, 'n-worker-3', 'an address outside the declaration', ['10.5.0.113']);
  const again = await runAction(bed.cp, { inventory: nodesConfig, 'wait-for-operators': 'false', 'nodes-timeout': '90s' });
  assert.equal(again.json('refused-csrs').find((r) => r.name === extra)?.reason, 'san-not-declared', again.stdout);
});

test('spec.expirationSeconds: above max-requested-duration stays Pending with the duration in refused-csrs; without the cap approved, and the summary says what was asked', { timeout: 180_000 }, async () => {
  const node = 'n-worker-0';
  const sim = await install({ workers: [] });
  await nodeWrites(sim, node, ['10.5.0.10']);
  const long = await servingRequest(sim, node, 'two hours', ['10.5.0.10'], 7200);
  const capped = await runAction(bed.cp, nodeInputs([node], { 'max-requested-duration': '1h' }));
  assert.equal(capped.outputs.result, 'success', capped.stdout);
  assert.deepEqual(capped.json('refused-csrs').find((r) => r.name === long), {
    name: long,
    signer: SIGNER.kubeletServing,
    requestor: `system:node:${node}`,
    node,
    reason: 'requested-duration-too-long',
    expirationSeconds: 7200,
  });
  assert.match(capped.stdout, /requested-duration-too-long \(expirationSeconds 7200 above the maximum 3600;/);
  const uncapped = await runAction(bed.cp, nodeInputs([node]));
  assert.ok(uncapped.json('approved-csrs').includes(long), uncapped.stdout);
  assert.match(uncapped.summaryText, new RegExp(`Requested durations \\(spec\\.expirationSeconds; the signer caps each at its own maximum\\): ${long} 7200s\\.`));
  // The API server keeps what was asked; the signer decides what it issues.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const stored: any = await readCsr(long);
  assert.equal(stored.spec.expirationSeconds, 7200);
});

test('the test bed holds the objects the action reads, and the action may read only those', async () => {
  const forbidden = (e: unknown) => e instanceof KubeApiError && e.status === 403;
  await bed.cp.action.request('GET', NETWORK);
  await bed.cp.action.request('GET', INFRASTRUCTURE);
  await bed.cp.action.request('GET', INSTALL_CONFIG);
  await assert.rejects(bed.cp.action.request('GET', PATHS.kubeSystemConfigMaps), forbidden, 'no list of kube-system ConfigMaps');
  await assert.rejects(bed.cp.action.request('GET', objectPath(PATHS.kubeSystemConfigMaps, 'extension-apiserver-authentication')), forbidden, 'no other ConfigMap');
  await assert.rejects(bed.cp.action.request('GET', '/api/v1/namespaces/kube-system/secrets'), forbidden, 'no Secret');
  await assert.rejects(bed.cp.action.request('PATCH', NETWORK, { body: { spec: {} }, contentType: 'application/merge-patch+json' }), forbidden, 'read only');
});
