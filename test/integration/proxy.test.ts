// Behind a proxy, as oc and kubectl are: HTTPS_PROXY with NO_PROXY, the kubeconfig's proxy-url
// winning over them, through a real HTTP CONNECT proxy on loopback. The API server's name in the
// kubeconfig resolves nowhere (.invalid); only the proxy knows where it is, so a run that succeeds
// sent every request (lists, watches, approvals) through the proxy.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { outsideAddress, startConnectProxy, startForwarder, type ConnectProxy } from '../env/connect-proxy.ts';
import { runCli as runCliIn, sharedControlPlane } from './harness.ts';

const NOWHERE = 'api.ofi-test.invalid';
const USER = 'ofi-proxy-user';
const PASSWORD = 'proxy-Secret-42';
const bed = sharedControlPlane();
let apiPort: number;
let proxy: ConnectProxy;

before(async () => {
  apiPort = Number(new URL((await bed.ready()).url).port);
  // The proxy resolves the .invalid name to the API server; everything else as asked.
  proxy = await startConnectProxy({
    map: (host, port) => (host === NOWHERE ? { host: '127.0.0.1', port: apiPort } : { host, port }),
    credentials: { user: USER, password: PASSWORD },
  });
});
after(async () => {
  await proxy?.close();
});

/** The action's kubeconfig for `server`; the serving certificate names localhost, so that is the name TLS checks. */
function kubeconfig(name: string, server: string, extra: { proxyUrl?: string } = {}): string {
  const file = join(bed.dir, `${name}.yaml`);
  const yaml = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: c',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${Buffer.from(bed.cp.caPem).toString('base64')}`,
    '    tls-server-name: localhost',
    ...(extra.proxyUrl ? [`    proxy-url: ${extra.proxyUrl}`] : []),
    'users:',
    '- name: u',
    '  user:',
    `    token: ${bed.cp.actionToken}`,
    'contexts:',
    '- name: ctx',
    '  context: {cluster: c, user: u}',
    'current-context: ctx',
    '',
  ].join('\n');
  writeFileSync(file, yaml, { mode: 0o600 });
  return file;
}

const runCli = (args: string[], env: Record<string, string>) => runCliIn(['--poll-interval', '2s', ...args], { home: bed.dir, env });

/** A dry run over one listed machine: a preflight, a list and a watch of CSRs and Nodes, nothing written. */
const QUICK = ['--nodes', 'p-nobody', '--dry-run', '--no-wait-for-operators'];
const withCredentials = () => `http://${USER}:${PASSWORD}@127.0.0.1:${proxy.port}`;
const masked = () => `http://***@127.0.0.1:${proxy.port}`;

test('through HTTPS_PROXY (with credentials): a machine joins and goes Ready; the proxy saw the tunnels; the password never shows', { timeout: 180_000 }, async (t) => {
  await bed.install({ workers: [{ name: 'p-worker-0', addresses: ['10.4.7.10'] }] });
  const before = proxy.tunnels.length;
  const run = await runCli(['--kubeconfig', kubeconfig('env', `https://${NOWHERE}:${apiPort}`), '--nodes', 'p-worker-0 10.4.7.10', '--no-wait-for-operators', '--nodes-timeout', '2m'], {
    HTTPS_PROXY: withCredentials(),
    NO_PROXY: 'example.com,10.0.0.0/8',
  });
  assert.equal(run.code, 0, run.stderr);
  const tunnels = proxy.tunnels.slice(before);
  t.diagnostic(`${tunnels.length} tunnels for the whole run`);
  assert.ok(tunnels.length > 0 && tunnels.every((t) => t === `${NOWHERE}:${apiPort}`), String(tunnels));
  // One keep-alive pool: a handful of tunnels for lists, two watches and the approvals, not one per request.
  assert.ok(tunnels.length <= 12, `${tunnels.length} tunnels`);
  assert.match(run.stderr, new RegExp(`through proxy ${masked().replace(/[*.]/g, '\\$&')} \\(HTTPS_PROXY\\)`));
  assert.match(run.stderr, /approved client CSR .* for p-worker-0/);
  assert.ok(!`${run.stdout}${run.stderr}`.includes(PASSWORD), 'the proxy password is masked');
});

test("the kubeconfig's proxy-url wins over HTTPS_PROXY", { timeout: 60_000 }, async () => {
  const before = proxy.tunnels.length;
  const run = await runCli(['--kubeconfig', kubeconfig('proxy-url', `https://${NOWHERE}:${apiPort}`, { proxyUrl: withCredentials() }), ...QUICK], {
    // Nothing listens there: used, it would fail.
    HTTPS_PROXY: 'http://127.0.0.1:9',
  });
  assert.equal(run.code, 0, run.stderr);
  assert.ok(proxy.tunnels.length > before);
  assert.match(run.stderr, /\(proxy-url\)/);
  assert.ok(!run.stderr.includes(PASSWORD));
});

test('NO_PROXY: a matching server is reached directly, the same server without it goes through the proxy', { timeout: 60_000 }, async (t) => {
  const outside = outsideAddress();
  if (!outside) return t.skip('this machine has no non-loopback IPv4 address');
  // A second way in to the API server, on an address that is not loopback (loopback is never proxied).
  const forwarder = await startForwarder(outside.address, { host: '127.0.0.1', port: apiPort });
  try {
    const server = `https://${outside.address}:${forwarder.port}`;
    const file = kubeconfig('direct', server);
    const before = proxy.tunnels.length;
    const direct = await runCli(['--kubeconfig', file, ...QUICK], { HTTPS_PROXY: withCredentials(), no_proxy: `${outside.address.split('.').slice(0, 2).join('.')}.0.0/16,other.example` });
    assert.equal(direct.code, 0, direct.stderr);
    assert.equal(proxy.tunnels.length, before, `no tunnel: ${proxy.tunnels.slice(before).join(', ')}`);
    assert.ok(forwarder.connections > 0);
    assert.doesNotMatch(direct.stderr, /through proxy/);

    const proxied = await runCli(['--kubeconfig', file, ...QUICK], { HTTPS_PROXY: withCredentials(), NO_PROXY: 'other.example' });
    assert.equal(proxied.code, 0, proxied.stderr);
    assert.ok(proxy.tunnels.slice(before).includes(`${outside.address}:${forwarder.port}`), String(proxy.tunnels.slice(before)));
  } finally {
    await forwarder.close();
  }
});

test('a proxy that refuses the tunnel: a clear, prompt error naming the proxy (masked); so does one that is not there', { timeout: 90_000 }, async (t) => {
  proxy.refuse(403);
  try {
    const run = await runCli(['--kubeconfig', kubeconfig('refused', `https://${NOWHERE}:${apiPort}`), ...QUICK], { HTTPS_PROXY: withCredentials() });
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`proxy ${masked().replace(/[*.]/g, '\\$&')} \\(HTTPS_PROXY\\) refused the tunnel to ${NOWHERE.replace(/\./g, '\\.')}:${apiPort}: HTTP 403 Forbidden`));
    assert.match(run.stderr, /check the proxy/);
    assert.ok(!run.stderr.includes(PASSWORD));
    t.diagnostic(`refused run ended after ${run.ms} ms`);
    assert.ok(run.ms < 10_000, `a refusal is final, not retried (${run.ms} ms)`);
  } finally {
    proxy.refuse(undefined);
  }
  const gone = await runCli(['--kubeconfig', kubeconfig('no-proxy', `https://${NOWHERE}:${apiPort}`), ...QUICK], { HTTPS_PROXY: `http://${USER}:${PASSWORD}@127.0.0.1:9` });
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /cannot connect to proxy http:\/\/\*\*\*@127\.0\.0\.1:9 \(HTTPS_PROXY\): ECONNREFUSED/);
  assert.ok(!gone.stderr.includes(PASSWORD));
});

test('wrong proxy credentials: 407 is final and says so', { timeout: 60_000 }, async () => {
  const run = await runCli(['--kubeconfig', kubeconfig('bad-auth', `https://${NOWHERE}:${apiPort}`), ...QUICK], { https_proxy: `http://${USER}:wrong-password@127.0.0.1:${proxy.port}` });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /refused the tunnel .*: HTTP 407 Proxy Authentication Required/);
  assert.ok(!run.stderr.includes('wrong-password'));
});
