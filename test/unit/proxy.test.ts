// Which requests go through a proxy, read as Go's golang.org/x/net/http/httpproxy reads the
// environment (what oc and kubectl do), and how a proxy URL is shown in logs.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadKubeConfig } from '../../src/cluster/kubeconfig.ts';
import { maskProxyUrl, parseProxyUrl, proxyFor, proxySecrets, proxySettingsFromEnv, useProxy } from '../../src/cluster/proxy.ts';

test('NO_PROXY entries: host, domain suffix, *, IP, CIDR, ports; loopback and localhost never proxied', () => {
  // [host, port, NO_PROXY, proxied?]
  const table: Array<[string, string, string, boolean]> = [
    ['api.example.com', '6443', '', true],
    ['localhost', '6443', '', false],
    ['127.0.0.1', '6443', '', false],
    ['127.9.9.9', '6443', '', false],
    ['::1', '6443', '', false],
    ['::ffff:127.0.0.1', '6443', '', false],
    ['vm', '6443', '', true], // a name that resolves to loopback is still proxied (only the literal counts)
    ['api.example.com', '6443', '*', false],
    ['10.1.2.3', '6443', '*', false],
    ['api.example.com', '6443', 'example.com', false], // a name matches its subdomains
    ['example.com', '6443', 'example.com', false], // ... and itself
    ['badexample.com', '6443', 'example.com', true], // a suffix counts at a label boundary only
    ['api.example.com', '6443', '.example.com', false],
    ['example.com', '6443', '.example.com', true], // a leading dot: subdomains only
    ['example.com', '6443', '*.example.com', true],
    ['api.example.com', '6443', '*.example.com', false],
    ['API.Example.COM', '6443', 'example.com', false], // case does not matter
    ['api.example.com', '6443', ' other.org , EXAMPLE.com ', false], // spaces and case in the list
    ['api.example.com', '6443', 'example.com:6443', false],
    ['api.example.com', '6443', 'example.com:443', true], // a port limits the entry to it
    ['10.1.2.3', '6443', '10.1.2.3', false],
    ['10.1.2.3', '6443', '10.1.2.4', true],
    ['10.1.2.3', '6443', '10.1.2.3:6443', false],
    ['10.1.2.3', '6443', '10.1.2.3:443', true],
    ['10.1.2.3', '6443', '10.0.0.0/8', false],
    ['11.1.2.3', '6443', '10.0.0.0/8', true],
    ['10.1.2.3', '6443', '10.1.2.0/24,', false],
    ['fd00::2', '6443', 'fd00::/64', false],
    ['fd00:0:0:0::2', '6443', 'fd00::2', false], // IPv6 compared as addresses, not spellings
    ['fd00::2', '6443', '[fd00::2]:6443', false],
    ['fd00::2', '6443', '[fd00::2]:443', true],
    ['::ffff:10.1.2.3', '6443', '10.1.2.3', false], // an IPv4-mapped address is its IPv4 address
    ['10.1.2.3', '6443', 'example.com', true], // a domain entry does not match an address
    ['api.example.com', '6443', ':6443', true], // malformed entries are ignored
    ['api.example.com', '6443', '10.0.0.0/8,example.org', true],
  ];
  for (const [host, port, noProxy, proxied] of table) {
    assert.equal(useProxy(host, port, noProxy), proxied, `${host}:${port} with NO_PROXY=${JSON.stringify(noProxy)}`);
  }
});

test('the environment: upper case first when it is set and not empty, then lower case', () => {
  assert.deepEqual(proxySettingsFromEnv({ HTTPS_PROXY: 'http://a:1', https_proxy: 'http://b:1', no_proxy: 'x' }), { httpsProxy: 'http://a:1', httpProxy: '', noProxy: 'x' });
  assert.deepEqual(proxySettingsFromEnv({ HTTPS_PROXY: '', https_proxy: 'http://b:1', NO_PROXY: 'y', no_proxy: 'x' }), { httpsProxy: 'http://b:1', httpProxy: '', noProxy: 'y' });
  assert.deepEqual(proxySettingsFromEnv({ HTTP_PROXY: 'http://c:1' }), { httpsProxy: '', httpProxy: 'http://c:1', noProxy: '' });
});

test('the kubeconfig proxy-url wins over the environment and over NO_PROXY', () => {
  const env = proxySettingsFromEnv({ HTTPS_PROXY: 'http://env-proxy:3128', NO_PROXY: 'example.com' });
  assert.equal(proxyFor('https://api.example.com:6443', 'http://kube-proxy:8080', env)?.url.host, 'kube-proxy:8080');
  assert.equal(proxyFor('https://api.example.com:6443', 'http://kube-proxy:8080', env)?.source, 'proxy-url');
  assert.equal(proxyFor('https://api.example.com:6443', undefined, env), undefined, 'NO_PROXY');
  assert.equal(proxyFor('https://api.other.org:6443', undefined, env)?.url.host, 'env-proxy:3128');
  assert.equal(proxyFor('https://api.other.org', undefined, proxySettingsFromEnv({ HTTPS_PROXY: 'p:1', NO_PROXY: 'api.other.org:443' })), undefined, 'default port 443');
  assert.equal(proxyFor('https://127.0.0.1:6443', undefined, env), undefined, 'loopback');
  assert.equal(proxyFor('https://[::1]:6443', undefined, env), undefined, 'bracketed loopback');
  assert.equal(proxyFor('https://api.other.org:6443', undefined, proxySettingsFromEnv({ HTTP_PROXY: 'http://p:1' })), undefined, 'HTTP_PROXY is not for https');
});

test('a proxy URL: host:port means http://, socks5 is refused with a clear message', () => {
  assert.equal(parseProxyUrl('proxy.corp:3128', 'HTTPS_PROXY').href, 'http://proxy.corp:3128/');
  assert.equal(parseProxyUrl('https://proxy.corp:443', 'HTTPS_PROXY').protocol, 'https:');
  assert.throws(() => parseProxyUrl('socks5://u:secretpw@proxy.corp:1080', 'HTTPS_PROXY'), (e: Error) => /only http:\/\/ and https:\/\//.test(e.message) && !e.message.includes('secretpw'));
});

test('credentials in a proxy URL never reach a log line', () => {
  assert.equal(maskProxyUrl('http://alice:s3cret-pw@proxy.corp:3128'), 'http://***@proxy.corp:3128');
  assert.equal(maskProxyUrl('http://proxy.corp:3128'), 'http://proxy.corp:3128');
  assert.equal(maskProxyUrl('alice:s3cret-pw@proxy.corp:3128'), '***@proxy.corp:3128');
  const secrets = proxySecrets('http://alice:s3cret%40pw@proxy.corp:3128');
  assert.ok(secrets.includes('s3cret@pw') && secrets.includes('s3cret%40pw') && secrets.includes('alice:s3cret@pw'), String(secrets));
  assert.deepEqual(proxySecrets('http://proxy.corp:3128'), []);
  // An unencoded / or @ in the password: masked up to the last @, refused rather than parsed as another host.
  const raw = 'http://svc:Xk9/q2Zr@127.0.0.1:9';
  assert.equal(maskProxyUrl(raw), 'http://***@127.0.0.1:9');
  assert.equal(maskProxyUrl('http://a:b@c@proxy.corp:3128'), 'http://***@proxy.corp:3128');
  assert.ok(proxySecrets(raw).includes('Xk9/q2Zr') && proxySecrets(raw).includes('svc:Xk9/q2Zr'), String(proxySecrets(raw)));
  assert.throws(() => parseProxyUrl(raw, 'HTTPS_PROXY'), (e: Error) => /HTTPS_PROXY http:\/\/\*\*\*@127\.0\.0\.1:9 is not a proxy URL.*percent-encode/.test(e.message) && !e.message.includes('q2Zr'));
  assert.throws(() => parseProxyUrl('http://proxy.corp:3128/some/path', 'HTTPS_PROXY'), /is not a proxy URL/);
  assert.ok(proxySecrets('http://alice:50%pw@proxy.corp:3128').includes('50%pw'), 'an invalid % escape does not throw');
});

test('the kubeconfig loader: proxy passwords (proxy-url and environment) become secrets; tokenFile is resolved next to the kubeconfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ofi-kubeconfig-'));
  try {
    const file = join(dir, 'config');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://api.example.com:6443", proxy-url: "http://kube:kube-Proxy-pw@proxy.corp:3128"}}]',
        'users: [{name: u, user: {tokenFile: tokens/current}}]',
        'contexts: [{name: ctx, context: {cluster: c, user: u}}]',
        'current-context: ctx',
      ].join('\n'),
    );
    mkdirSync(join(dir, 'tokens'));
    writeFileSync(join(dir, 'tokens/current'), 'token');
    const loaded = loadKubeConfig('', '', { KUBECONFIG: file, HOME: dir, https_proxy: 'http://env:env-Proxy-pw@proxy.corp:3128' });
    assert.equal(loaded.tokenFile, join(dir, 'tokens/current'));
    assert.ok(loaded.secrets.includes('kube-Proxy-pw') && loaded.secrets.includes('env-Proxy-pw'), String(loaded.secrets));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
