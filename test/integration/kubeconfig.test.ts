// The kubeconfig as kubectl and oc read it, against the real API server: relative paths from the
// kubeconfig's folder while the working directory holds planted look-alikes, several KUBECONFIG
// files merged, as/as-groups impersonation, and a password in the server URL never printed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { startProcess, type ProcessRun } from '../env/process.ts';
import { CLI, runAction, sharedControlPlane } from './harness.ts';

const bed = sharedControlPlane();
/** Reaches the cluster (the permission check), approves nothing, ends at the nodes timeout: exit 2. */
const RUN = ['--nodes', 'kc-never', '--no-wait-for-operators', '--nodes-timeout', '3s'];
const EXEC_API = 'client.authentication.k8s.io/v1';

let folders = 0;
function folder(files: Record<string, string>): string {
  const dir = join(bed.dir, `kc-${folders++}`);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content, { mode: 0o700 });
  }
  return dir;
}

const tokenPlugin = (token: string) => `#!/bin/sh\nprintf '{"apiVersion":"${EXEC_API}","kind":"ExecCredential","status":{"token":"%s"}}' '${token}'\n`;

/** A working directory holding a wrong CA and a plugin that prints a wrong token, under the names the kubeconfigs use. */
function plantedWorkingDirectory(): string {
  const dir = folder({ 'bin/token.sh': tokenPlugin('planted-token'), token: 'planted-token' });
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=planted', '-days', '1', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt')], { stdio: 'ignore' });
  return dir;
}

function cli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<ProcessRun> {
  return startProcess(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', HOME: bed.dir, ...env }, cwd, timeoutMs: 120_000 }).done;
}

function reachedTheCluster(run: ProcessRun): void {
  assert.equal(run.code, 2, `exit ${run.code}\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout + run.stderr, /Nodes not Ready with serving certificates after 3s: kc-never/);
}

test("relative certificate-authority and exec command come from the kubeconfig's folder, not the planted working directory", { timeout: 180_000 }, async () => {
  const cwd = plantedWorkingDirectory();
  const dir = folder({ 'ca.crt': bed.cp.caPem, 'bin/token.sh': tokenPlugin(bed.cp.actionToken) });
  writeFileSync(
    join(dir, 'config'),
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: bed.cp.url, 'certificate-authority': 'ca.crt' } }],
      users: [{ name: 'u', user: { exec: { apiVersion: EXEC_API, command: './bin/token.sh', interactiveMode: 'Never' } } }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
    }),
  );
  reachedTheCluster(await cli(['--kubeconfig', join(dir, 'config'), ...RUN], cwd));
});

test('several KUBECONFIG files merge as kubectl merges them, each relative path from its own folder', { timeout: 180_000 }, async () => {
  const cwd = plantedWorkingDirectory();
  // The cluster, with its CA beside it, and no current-context.
  const clusters = folder({ 'ca.crt': bed.cp.caPem });
  writeFileSync(join(clusters, 'config'), stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server: bed.cp.url, 'certificate-authority': 'ca.crt' } }] }));
  // The user, with its tokenFile beside it, the context and the current-context; a cluster 'c' of its own that loses.
  const users = folder({ token: bed.cp.actionToken });
  writeFileSync(
    join(users, 'config'),
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
      users: [{ name: 'u', user: { tokenFile: 'token' } }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
    }),
  );
  const run = await cli(RUN, cwd, { KUBECONFIG: [join(clusters, 'config'), join(cwd, 'missing'), join(users, 'config')].join(':') });
  reachedTheCluster(run);
  assert.match(run.stdout + run.stderr, new RegExp(`kubeconfig from ${join(clusters, 'config')}, ${join(users, 'config')}`));
});

test('as and as-groups impersonate: the permission check sees the impersonated groups', { timeout: 180_000 }, async () => {
  const cwd = folder({ '.keep': '' });
  const admin = (user: object) =>
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: bed.cp.url, 'certificate-authority-data': Buffer.from(bed.cp.caPem).toString('base64') } }],
      users: [{ name: 'u', user: { token: bed.cp.adminToken, ...user } }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
    });
  const dir = folder({ masters: admin({ as: 'ofi-impersonated', 'as-groups': ['system:masters'] }), nobody: admin({ as: 'ofi-impersonated' }) });
  // The admin token alone would pass; as the user without groups the check fails, with system:masters it passes.
  const alone = await cli(['--kubeconfig', join(dir, 'nobody'), ...RUN], cwd);
  assert.equal(alone.code, 1, alone.stdout);
  assert.match(alone.stdout + alone.stderr, /Missing permissions/);
  reachedTheCluster(await cli(['--kubeconfig', join(dir, 'masters'), ...RUN], cwd));
});

test('a password in the server URL is masked in the log and registered as a secret; insecure-skip-tls-verify alone warns', { timeout: 180_000 }, async () => {
  const password = 'Serv3r-Url-Passw0rd';
  const server = bed.cp.url.replace('https://', `https://ofi-user:${password}@`);
  const kubeconfig = stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'u', user: { token: bed.cp.actionToken } }],
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'ctx',
  });
  const run = await runAction(undefined, { kubeconfig, nodes: 'kc-never', 'wait-for-operators': 'false', 'nodes-timeout': '3s' });
  assert.equal(run.outputs.result, 'timeout', run.stdout);
  assert.match(run.stdout, new RegExp(`^::add-mask::${password}$`, 'm'));
  assert.match(run.stdout, /^::warning::cluster 'c' in the 'kubeconfig' input sets insecure-skip-tls-verify: the certificate of https:\/\/\*\*\*@127\.0\.0\.1:\d+ is not checked/m);
  assert.match(run.stdout, /cluster https:\/\/\*\*\*@127\.0\.0\.1:\d+ \(kubeconfig from the 'kubeconfig' input\)/);
  const printed = run.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')).join('\n') + run.stderr;
  assert.ok(!printed.includes(password), 'the password is printed only in ::add-mask::');
});
