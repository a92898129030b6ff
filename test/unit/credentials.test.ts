// Credentials that rotate under a long-running --watch: a tokenFile read again every minute or at
// once after a 401; an exec plugin run again when its credential expires or after a 401.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { execCredentials, staticCredentials, TOKEN_FILE_PERIOD_MS, tokenFileCredentials } from '../../src/cluster/credentials.ts';
import { untilObserved } from '../env/until.ts';

const dir = mkdtempSync(join(tmpdir(), 'ofi-credentials-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('tokenFile: read once, again after a minute, at once after invalidate(); a missing file keeps the last token', async () => {
  const file = join(dir, 'token');
  writeFileSync(file, 'token-one\n');
  let now = 1000;
  const source = tokenFileCredentials(file, () => now);
  assert.equal((await source.current()).authorization, 'Bearer token-one');
  writeFileSync(file, 'token-two\n');
  now += TOKEN_FILE_PERIOD_MS - 1;
  assert.equal((await source.current()).authorization, 'Bearer token-one', 'within the minute: cached');
  now += 2;
  assert.equal((await source.current()).authorization, 'Bearer token-two', 'after the minute: read again');
  writeFileSync(file, 'token-three');
  assert.equal(source.invalidate({ authorization: 'Bearer token-two' }), true);
  assert.equal((await source.current()).authorization, 'Bearer token-three', 'after a 401: read at once');
  rmSync(file);
  source.invalidate({ authorization: 'Bearer token-three' });
  assert.equal((await source.current()).authorization, 'Bearer token-three', 'a file being replaced keeps the last token');
  await assert.rejects(tokenFileCredentials(join(dir, 'none')).current(), /cannot read the kubeconfig tokenFile .*none: ENOENT/);
});

test('exec plugin: ExecCredential token cached until expirationTimestamp, run again after invalidate(); errors name the plugin', async () => {
  const runs = join(dir, 'runs');
  writeFileSync(runs, '');
  const plugin = join(dir, 'plugin.sh');
  // Prints the token given in its env, the expiry given as an argument, and records each run and KUBERNETES_EXEC_INFO.
  writeFileSync(
    plugin,
    `#!/bin/sh\necho "$KUBERNETES_EXEC_INFO" >> '${runs}'\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' "$OFI_TOKEN" "$1"\n`,
  );
  chmodSync(plugin, 0o755);
  let now = Date.parse('2026-01-01T00:00:00Z');
  const source = execCredentials({ command: plugin, args: ['2026-01-01T01:00:00Z'], env: [{ name: 'OFI_TOKEN', value: 'exec-token' }], apiVersion: 'client.authentication.k8s.io/v1' }, () => now);
  const [a, b] = await Promise.all([source.current(), source.current()]);
  assert.equal(a.authorization, 'Bearer exec-token');
  assert.equal(b.authorization, 'Bearer exec-token');
  const count = () => readFileSync(runs, 'utf8').split('\n').filter(Boolean).length;
  assert.equal(count(), 1, 'concurrent requests share one run');
  assert.deepEqual(JSON.parse(readFileSync(runs, 'utf8').split('\n')[0]!), { apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: false } });
  now += 30 * 60_000;
  await source.current();
  assert.equal(count(), 1, 'not expired yet');
  now += 31 * 60_000;
  await source.current();
  assert.equal(count(), 2, 'expired: run again');
  now = Date.parse('2026-01-01T00:30:00Z'); // the plugin's credential is valid again
  const used = await source.current();
  const before = count();
  // a burst of 401s on the same credential refreshes once: the others see the new one cached
  const fresh = await Promise.all([source.invalidate(used), source.invalidate(used)].map(() => source.current()));
  assert.equal(count(), before + 1, 'after a 401: run again, once');
  source.invalidate(used);
  assert.strictEqual(await source.current(), fresh[0], 'a 401 on a credential already replaced does not run the plugin again');
  assert.equal(count(), before + 1);

  const failing = join(dir, 'failing.sh');
  writeFileSync(failing, '#!/bin/sh\necho "login required: run sso-login" >&2\nexit 3\n');
  chmodSync(failing, 0o755);
  await assert.rejects(execCredentials({ command: failing }).current(), /exec plugin .*failing\.sh failed: login required: run sso-login/);
  await assert.rejects(execCredentials({ command: join(dir, 'missing') }).current(), /exec plugin .*missing could not run/);
  const silent = join(dir, 'silent.sh');
  writeFileSync(silent, '#!/bin/sh\necho "{}"\n');
  chmodSync(silent, 0o755);
  await assert.rejects(execCredentials({ command: silent }).current(), /printed no ExecCredential/);
});

test('static credentials cannot be refreshed', async () => {
  const source = staticCredentials({ authorization: 'Bearer fixed' });
  assert.equal(source.invalidate({ authorization: 'Bearer fixed' }), false, 'a 401 is final: nothing would change');
  assert.equal((await source.current()).authorization, 'Bearer fixed');
});

/** Whether a process still runs (a zombie waiting to be reaped does not). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('exec plugin: one that hangs is killed with what it started when the timeout passes; the error names it and what it said', { timeout: 30_000 }, async () => {
  const pids = join(dir, 'hung-pids');
  const hung = join(dir, 'hung.sh');
  // Ignores SIGTERM and waits on a child that holds its output open (a login helper waiting for a browser).
  writeFileSync(hung, `#!/bin/sh\ntrap '' TERM\necho "open the browser to log in" >&2\nsleep 1000 &\necho $$ $! > '${pids}'\nwait\n`);
  chmodSync(hung, 0o755);
  const started = Date.now();
  await assert.rejects(
    execCredentials({ command: hung }, Date.now, 1000).current(),
    /^CredentialError: the kubeconfig exec plugin .*hung\.sh did not finish within 1 s \(the request timeout\) and was killed; it said: open the browser to log in$/,
  );
  assert.ok(Date.now() - started < 10_000, `rejected after ${Date.now() - started} ms`);
  const [shell, sleeper] = readFileSync(pids, 'utf8').trim().split(' ').map(Number) as [number, number];
  await untilObserved(() => [running(shell), running(sleeper)], (alive) => !alive.includes(true), { message: 'the plugin and its child killed', timeoutMs: 5000 });
});
