// The kubeconfig as kubectl and oc read it: relative paths from the file's own folder, several
// KUBECONFIG files merged, insecure-skip-tls-verify, exec interactiveMode, impersonation, and a
// password in the server URL. Pure loading, no cluster (a local HTTP server sees the headers).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import { ClusterGateway } from '../../src/cluster/gateway.ts';
import { loadKubeConfig } from '../../src/cluster/kubeconfig.ts';
import { silentLog } from '../../src/log.ts';
import { InputError } from '../../src/settings/settings.ts';

const root = mkdtempSync(join(tmpdir(), 'ofi-kubeconfig-'));
after(() => rmSync(root, { recursive: true, force: true }));
const CA_DATA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');

let folders = 0;
/** A folder holding `files` (name -> content) and a kubeconfig `config` with `doc`; returns the kubeconfig's path. */
function kubeconfigFile(doc: object, files: Record<string, string> = {}): string {
  const dir = join(root, `k${folders++}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content, { mode: 0o755 });
  }
  const path = join(dir, 'config');
  writeFileSync(path, stringify(doc));
  return path;
}

const kubeconfig = (cluster: object, user: object, extra: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'c', cluster: { server: 'https://api.example.com:6443', ...cluster } }],
  users: [{ name: 'u', user }],
  contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
  'current-context': 'ctx',
  ...extra,
});
const fromFiles = (...paths: string[]) => ({ KUBECONFIG: paths.join(delimiter), HOME: root });
const inputError = (pattern: RegExp) => (e: unknown) => e instanceof InputError && e.input === 'kubeconfig' && pattern.test(e.message);

test("relative paths are taken from the kubeconfig file's folder, not the working directory (as kubectl)", () => {
  const files = { 'ca.crt': 'right CA', 'tls/client.crt': 'cert', 'tls/client.key': 'key', token: 'token', 'bin/plugin': '#!/bin/sh\n' };
  const path = kubeconfigFile(
    kubeconfig({ 'certificate-authority': 'ca.crt' }, { 'client-certificate': 'tls/client.crt', 'client-key': 'tls/client.key', tokenFile: 'token', exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './bin/plugin' } }),
    files,
  );
  const dir = join(path, '..');
  // The same names planted in the working directory must not be the ones read.
  const cwd = join(root, 'cwd');
  mkdirSync(cwd, { recursive: true });
  writeFileSync(join(cwd, 'ca.crt'), 'planted CA');
  const previous = process.cwd();
  process.chdir(cwd);
  try {
    const loaded = loadKubeConfig('', '', fromFiles(path));
    assert.equal(loaded.config.getCurrentCluster()?.caFile, join(dir, 'ca.crt'));
    const user = loaded.config.getCurrentUser()!;
    assert.equal(user.certFile, join(dir, 'tls/client.crt'));
    assert.equal(user.keyFile, join(dir, 'tls/client.key'));
    assert.equal(loaded.tokenFile, join(dir, 'token'));
    assert.equal((user.exec as { command: string }).command, join(dir, 'bin/plugin'));
    // A command without a slash is looked up in PATH, as kubectl does.
    const inPath = loadKubeConfig('', '', fromFiles(kubeconfigFile(kubeconfig({}, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'oc' } }))));
    assert.equal((inPath.config.getCurrentUser()!.exec as { command: string }).command, 'oc');
  } finally {
    process.chdir(previous);
  }
});

test('relative paths in the kubeconfig input (no folder) and unreadable files are refused, naming the field', () => {
  const inline = stringify(kubeconfig({ 'certificate-authority': 'ca.crt' }, { token: 'a-token-value' }));
  assert.throws(() => loadKubeConfig(inline, '', { HOME: root }), inputError(/cluster 'c' in the 'kubeconfig' input has the relative certificate-authority path 'ca.crt'.*Accepted: an absolute path, or the certificate in the kubeconfig itself/));
  const plugin = stringify(kubeconfig({}, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'bin/plugin' } }));
  assert.throws(() => loadKubeConfig(plugin, '', { HOME: root }), inputError(/user 'u' in the 'kubeconfig' input has the relative exec command path 'bin\/plugin'/));
  const missing = kubeconfigFile(kubeconfig({ 'certificate-authority': 'nothere/ca.crt' }, {}));
  assert.throws(() => loadKubeConfig('', '', fromFiles(missing)), inputError(new RegExp(`cluster 'c' in ${missing}: cannot read certificate-authority ${join(missing, '..', 'nothere/ca.crt')} \\(ENOENT\\)`)));
  const noToken = kubeconfigFile(kubeconfig({}, { tokenFile: 'token' }));
  assert.throws(() => loadKubeConfig('', '', fromFiles(noToken)), inputError(/user 'u' in .*: cannot read tokenFile .*token \(ENOENT\)/));
  // The -data form wins over the file, so a stale path beside it is not read.
  const withData = kubeconfigFile(kubeconfig({ 'certificate-authority': 'stale.crt', 'certificate-authority-data': CA_DATA }, {}));
  assert.equal(loadKubeConfig('', '', fromFiles(withData)).config.getCurrentCluster()?.caData, CA_DATA);
});

test('several KUBECONFIG files merge as kubectl merges them', () => {
  // First file: cluster c (relative CA in its folder), no current-context.
  const first = kubeconfigFile(
    { clusters: [{ name: 'c', cluster: { server: 'https://first.example.com:6443', 'certificate-authority': 'ca.crt' } }], users: [{ name: 'shared', user: { token: 'first-token-value' } }] },
    { 'ca.crt': 'first CA' },
  );
  // Second: c again (ignored whole), user u with a relative tokenFile in its own folder, the contexts and a current-context.
  const second = kubeconfigFile(
    {
      clusters: [{ name: 'c', cluster: { server: 'https://second.example.com:6443', 'tls-server-name': 'second' } }],
      users: [{ name: 'u', user: { tokenFile: 'token' } }, { name: 'shared', user: { token: 'second-token-value' } }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }, { name: 'other', context: { cluster: 'c', user: 'shared' } }],
      'current-context': 'ctx',
    },
    { token: 'token' },
  );
  const third = kubeconfigFile({ contexts: [{ name: 'ctx', context: { cluster: 'nope', user: 'nope' } }], 'current-context': 'other' });
  const loaded = loadKubeConfig('', '', fromFiles(join(root, 'missing-config'), first, '', second, third));
  assert.equal(loaded.source, [first, second, third].join(', '), 'missing and empty entries skipped');
  assert.equal(loaded.config.getCurrentContext(), 'ctx', 'current-context from the first file that sets one');
  const cluster = loaded.config.getCurrentCluster()!;
  assert.equal(cluster.server, 'https://first.example.com:6443', 'the first file to define a name wins');
  assert.equal(cluster.tlsServerName, undefined, "a later file's keys for the same name are not mixed in");
  assert.equal(cluster.caFile, join(first, '..', 'ca.crt'), "resolved against the first file's folder");
  assert.equal(loaded.tokenFile, join(second, '..', 'token'), "resolved against the second file's folder");
  assert.equal(loaded.config.getUser('shared')?.token, 'first-token-value');
  assert.ok(loaded.secrets.includes('first-token-value') && loaded.secrets.includes('second-token-value') === false);
  assert.equal(loadKubeConfig('', 'other', fromFiles(first, second)).config.getCurrentUser()?.name, 'shared', 'the context input picks among all files');
  assert.throws(() => loadKubeConfig('', '', fromFiles(join(root, 'a'), join(root, 'b'))), inputError(/no kubeconfig file was found \(looked at .*a, .*b\)/));
});

test('insecure-skip-tls-verify: refused beside a certificate authority, a warning alone', () => {
  for (const ca of [{ 'certificate-authority-data': CA_DATA }, { 'certificate-authority': '/etc/hostname' }]) {
    const path = kubeconfigFile(kubeconfig({ 'insecure-skip-tls-verify': true, ...ca }, { token: 'a-token-value' }));
    assert.throws(() => loadKubeConfig('', '', fromFiles(path)), inputError(/cluster 'c' in .* sets both insecure-skip-tls-verify and a certificate authority .*Accepted: one of the two, as kubectl/));
  }
  const alone = loadKubeConfig(stringify(kubeconfig({ 'insecure-skip-tls-verify': true }, { token: 'a-token-value' })), '', { HOME: root });
  assert.deepEqual(alone.warnings.length, 1);
  assert.match(alone.warnings[0]!, /^cluster 'c' in the 'kubeconfig' input sets insecure-skip-tls-verify: the certificate of https:\/\/api\.example\.com:6443 is not checked/);
  assert.deepEqual(loadKubeConfig(stringify(kubeconfig({ 'certificate-authority-data': CA_DATA }, {})), '', { HOME: root }).warnings, []);
});

test('an exec plugin with interactiveMode: Always is refused: no terminal can answer it', () => {
  const exec = (interactiveMode: string) => stringify(kubeconfig({}, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'login-plugin', interactiveMode } }));
  assert.throws(() => loadKubeConfig(exec('Always'), '', { HOME: root }), inputError(/user 'u' in the 'kubeconfig' input has an exec plugin \(login-plugin\) with interactiveMode: Always.*Accepted: interactiveMode: Never or IfAvailable/));
  for (const mode of ['Never', 'IfAvailable']) assert.doesNotThrow(() => loadKubeConfig(exec(mode), '', { HOME: root }));
});

test('as, as-uid, as-groups and as-user-extra are sent as Impersonate-* headers; groups without a user are refused', async () => {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"metadata":{"name":"version"},"status":{}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const user = { token: 'a-token-value', as: 'system:serviceaccount:ns:ofi', 'as-uid': 'uid-1', 'as-groups': ['system:serviceaccounts', 'system:authenticated'], 'as-user-extra': { 'scopes.example.com/x y': ['a', 'b'] } };
    const loaded = loadKubeConfig(stringify(kubeconfig({ server: `http://127.0.0.1:${port}` }, user)), '', { HOME: root });
    assert.deepEqual(loaded.impersonate, { user: 'system:serviceaccount:ns:ofi', uid: 'uid-1', groups: ['system:serviceaccounts', 'system:authenticated'], extra: { 'scopes.example.com/x y': ['a', 'b'] } });
    const gateway = new ClusterGateway(loaded.config, { log: silentLog, retryForMs: 0, impersonate: loaded.impersonate! });
    await gateway.readClusterVersion();
    const headers = seen[0]!;
    assert.equal(headers['impersonate-user'], 'system:serviceaccount:ns:ofi');
    assert.equal(headers['impersonate-uid'], 'uid-1');
    // Node joins repeated request headers with ', ' (the server sees two lines).
    assert.equal(headers['impersonate-group'], 'system:serviceaccounts, system:authenticated');
    assert.equal(headers['impersonate-extra-scopes.example.com%2fx%20y'], 'a, b', 'the extra key is %-escaped as client-go does');
  } finally {
    server.close();
  }
  for (const field of [{ 'as-groups': ['g'] }, { 'as-uid': 'x' }, { 'as-user-extra': { k: ['v'] } }]) {
    const text = stringify(kubeconfig({}, { token: 'a-token-value', ...field }));
    assert.throws(() => loadKubeConfig(text, '', { HOME: root }), inputError(new RegExp(`user 'u' in the 'kubeconfig' input sets ${Object.keys(field)[0]} without as.*Accepted: as \\(the user to impersonate\\)`)));
  }
  assert.throws(() => loadKubeConfig(stringify(kubeconfig({}, { 'as-groups': 'g' })), '', { HOME: root }), inputError(/not a usable kubeconfig \(users 'u' as-groups must be a list of strings\)/));
});

test('a password in the server URL is a secret, masked in gateway.server and in connection errors', async () => {
  const text = stringify(kubeconfig({ server: 'https://admin:Serv3r-Passw0rd@127.0.0.1:1' }, { token: 'a-token-value' }));
  const loaded = loadKubeConfig(text, '', { HOME: root });
  assert.ok(loaded.secrets.includes('Serv3r-Passw0rd'), String(loaded.secrets));
  const gateway = new ClusterGateway(loaded.config, { log: silentLog, retryForMs: 0 });
  assert.equal(gateway.server, 'https://***@127.0.0.1:1');
  const error = (await gateway.readClusterVersion().catch((e: unknown) => e)) as Error;
  assert.match(error.message, /cannot reach the API server at https:\/\/\*\*\*@127\.0\.0\.1:1 /);
  assert.ok(!error.message.includes('Serv3r-Passw0rd') && !error.message.includes('admin:'), error.message);
});

test('the CLI\'s --kubeconfig is that one file, a ":" in its name included; KUBECONFIG is then not read', () => {
  const dir = join(root, 'with:colon');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'config');
  writeFileSync(path, stringify(kubeconfig({ 'certificate-authority-data': CA_DATA }, { token: 'abc' })));
  const other = kubeconfigFile(kubeconfig({ 'certificate-authority-data': CA_DATA }, { token: 'other' }, { 'current-context': 'nope' }));
  const loaded = loadKubeConfig('', '', fromFiles(other), path);
  assert.equal(loaded.source, path);
  assert.throws(() => loadKubeConfig('', '', fromFiles(other), join(dir, 'missing')), inputError(/missing does not exist/));
});

test('a file that names a cluster, user or context twice is refused, as client-go refuses it', () => {
  const doc = kubeconfig({ 'certificate-authority-data': CA_DATA }, { token: 'abc' });
  const twice = { ...doc, users: [...doc.users, { name: 'u', user: { token: 'other' } }] };
  assert.throws(() => loadKubeConfig('', '', fromFiles(kubeconfigFile(twice))), inputError(/is not a usable kubeconfig \(duplicate name 'u' in users\)/));
});
