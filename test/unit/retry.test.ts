// The retry helper over scripted attempts (no server): it keeps no state of its own, every
// outcome goes to the one ConnectionTracker, and the first-contact rule words a server never reached.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiClient } from '../../src/cluster/client.ts';
import { ClusterError } from '../../src/cluster/errors.ts';
import { ConnectionTracker, withRetry } from '../../src/cluster/retry.ts';
import type { Transport } from '../../src/cluster/transport.ts';
import { silentLog } from '../../src/log.ts';

const http = (status: number) => Object.assign(new Error(`HTTP ${status}`), { code: status, body: JSON.stringify({ message: `answered ${status}` }), headers: {} });
const refused = Object.assign(new TypeError('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const context = (connection = new ConnectionTracker()) => ({ connection, retryForMs: 10_000, log: silentLog, signal: undefined });

test('the tracker: an answer makes first contact, a lost connection opens the grace, a later answer closes it', () => {
  const tracker = new ConnectionTracker();
  assert.equal(tracker.everConnected, false);
  tracker.record(refused, 1000);
  assert.equal(tracker.everConnected, false, 'no answer is no contact');
  assert.deepEqual(tracker.state, { lostAt: 1000, backAt: 0 });
  tracker.record(http(403), 2000);
  assert.equal(tracker.everConnected, true, 'a refusal is an answer');
  assert.deepEqual(tracker.state, { lostAt: 1000, backAt: 2000 });
  tracker.record(undefined, 3000);
  assert.deepEqual(tracker.state, { lostAt: 1000, backAt: 2000 });
});

test('withRetry tries a 503 again and stops at a 404; each attempt is recorded', async () => {
  const tracker = new ConnectionTracker();
  let attempts = 0;
  const result = await withRetry('read x', async () => {
    if (++attempts < 3) throw http(503);
    return 'ok';
  }, context(tracker));
  assert.equal(result, 'ok');
  assert.equal(attempts, 3);
  assert.equal(tracker.everConnected, true);
  attempts = 0;
  await assert.rejects(withRetry('read x', async () => {
    attempts++;
    throw http(404);
  }, context(tracker)), /HTTP 404/);
  assert.equal(attempts, 1);
});

test("a 403 right after a lost connection is retried (the server's caches may be empty); in steady state it is final", async () => {
  const tracker = new ConnectionTracker();
  tracker.record(undefined);
  let attempts = 0;
  await assert.rejects(withRetry('read x', async () => {
    attempts++;
    throw http(403);
  }, context(tracker)));
  assert.equal(attempts, 1);
  tracker.record(refused);
  attempts = 0;
  const result = await withRetry('read x', async () => {
    if (++attempts < 2) throw http(403);
    return 'ok';
  }, context(tracker));
  assert.equal(result, 'ok');
  assert.equal(attempts, 2);
});

test('a server never reached: the message names the address and what to check', async () => {
  const transport = { request: async () => { throw refused; }, describeProxy: () => '' } as unknown as Transport;
  const client = new ApiClient(transport, { server: 'https://api.example:6443', log: silentLog, retryForMs: 0, signal: undefined });
  const error = await client.send('list nodes', 'GET', '/api/v1/nodes').catch((e: unknown) => e);
  assert.ok(error instanceof ClusterError);
  assert.match(error.message, /^list nodes failed: cannot reach the API server at https:\/\/api\.example:6443 \(connect ECONNREFUSED\); check the kubeconfig's server address and the network$/);
  const answered = { request: async () => { throw http(404); }, describeProxy: () => '' } as unknown as Transport;
  const other = new ApiClient(answered, { server: 'https://api.example:6443', log: silentLog, retryForMs: 0, signal: undefined });
  await assert.rejects(other.send('read x', 'GET', '/x'), /^ClusterError: read x failed: HTTP 404: answered 404$/);
});
