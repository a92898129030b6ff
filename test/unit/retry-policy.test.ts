// Which failures are tried again, and which failures open the short 401/403 grace after a lost
// connection (issue 16: the action's own stop of its watches is not a lost connection).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterError } from '../../src/cluster/errors.ts';
import { CONNECTED, failureCause, inAuthGrace, isRetryable, nextConnectionState, nextRefusalStreak, NO_REFUSALS, refusalIsFinal, RETRY, retryBudgetMs } from '../../src/cluster/retry-policy.ts';

const http = (status: number) => new ClusterError('read x', status, 'refused');
const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const ownAbort = new DOMException('This operation was aborted', 'AbortError');
const ownTimeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
/** What node:https emits when a request's own AbortSignal.timeout() fires. */
const httpsTimeout = Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR', cause: ownTimeout });
const watchStatus = Object.assign(new Error('Gone'), { statusCode: 410 });
/** A proxy's own answer to CONNECT (see transport.ts): 403/407 are its policy, 502 its upstream. */
const proxyRefused = (status: number) => Object.assign(new Error(`proxy refused the tunnel: HTTP ${status}`), { name: 'ProxyError', proxyStatus: status });

test('failure causes: an answer, a lost connection, our own abort, our own timeout', () => {
  const table: Array<[unknown, string]> = [
    [http(403), 'answered'],
    [{ code: 500, body: '{}' }, 'answered'],
    [watchStatus, 'answered'],
    [refused, 'connection-lost'],
    [reset, 'connection-lost'],
    [ownAbort, 'aborted'],
    [ownTimeout, 'timed-out'],
    [proxyRefused(403), 'refused-by-proxy'],
    [proxyRefused(407), 'refused-by-proxy'],
    [proxyRefused(502), 'connection-lost'],
    [httpsTimeout, 'timed-out'],
  ];
  for (const [error, cause] of table) assert.equal(failureCause(error), cause, String(error));
});

test('only a lost connection opens the 401/403 grace; aborts and timeouts of ours do not', () => {
  assert.deepEqual(nextConnectionState(CONNECTED, ownAbort, 1000), CONNECTED, 'watch stopped at the deadline');
  assert.deepEqual(nextConnectionState(CONNECTED, ownTimeout, 1000), CONNECTED, 'watch idle timer, request timeout');
  assert.deepEqual(nextConnectionState(CONNECTED, http(403), 1000), CONNECTED);
  assert.deepEqual(nextConnectionState(CONNECTED, refused, 1000), { lostAt: 1000, backAt: 0 });
});

test('the grace runs for a few seconds from the first proper answer after the loss', () => {
  let state = nextConnectionState(CONNECTED, refused, 1000);
  assert.equal(inAuthGrace(state, 60_000), true, 'still no answer: the server is not back yet');
  state = nextConnectionState(state, http(503), 2000);
  assert.equal(state.backAt, 0, 'a starting server answering 503 is not back');
  state = nextConnectionState(state, http(429), 2100);
  assert.equal(state.backAt, 0);
  state = nextConnectionState(state, http(403), 3000);
  assert.deepEqual(state, { lostAt: 1000, backAt: 3000 });
  assert.equal(nextConnectionState(state, undefined, 4000), state, 'later answers do not move it');
  assert.equal(inAuthGrace(state, 3000 + RETRY.authGraceMs - 1), true);
  assert.equal(inAuthGrace(state, 3000 + RETRY.authGraceMs), false);
  assert.ok(RETRY.authGraceMs <= 10_000, 'a few seconds, not 30');
  assert.deepEqual(nextConnectionState(state, reset, 9000), { lostAt: 9000, backAt: 0 }, 'a new loss starts again');
});

test('what is retried', () => {
  const lost = nextConnectionState(CONNECTED, refused, 1000);
  const back = nextConnectionState(lost, http(403), 1500);
  const table: Array<[string, unknown, typeof CONNECTED, number, boolean, { forbiddenIsFinal?: boolean }?]> = [
    ['no answer', refused, CONNECTED, 0, true],
    ['our request timeout', ownTimeout, CONNECTED, 0, true],
    ['our own abort', ownAbort, CONNECTED, 0, false],
    ['a proxy refusing the tunnel (403)', proxyRefused(403), CONNECTED, 0, false],
    ['a proxy that cannot reach the server (502)', proxyRefused(502), CONNECTED, 0, true],
    ['a node:https request timeout (etcd stopped under the server)', httpsTimeout, CONNECTED, 0, true],
    ['429', http(429), CONNECTED, 0, true],
    ['503', http(503), CONNECTED, 0, true],
    ['404', http(404), CONNECTED, 0, false],
    ['409', http(409), CONNECTED, 0, false],
    ['422', http(422), CONNECTED, 0, false],
    ['403 in steady state', http(403), CONNECTED, 5000, false],
    ['401 in steady state', http(401), CONNECTED, 5000, false],
    ['403 just after a restart', http(403), back, 2000, true],
    ['401 just after a restart', http(401), back, 2000, true],
    ['403 after the grace', http(403), back, 1500 + RETRY.authGraceMs, false],
    ['403 in the grace, for a diagnostics read', http(403), back, 2000, false, { forbiddenIsFinal: true }],
  ];
  for (const [name, error, state, now, expected, options] of table) assert.equal(isRetryable(error, state, now, options), expected, name);
});

test('the retry budget of one call: its own, first contact, and the caller deadline', () => {
  assert.equal(retryBudgetMs({ retryForMs: 120_000, everConnected: true, now: 0 }), 120_000);
  assert.equal(retryBudgetMs({ retryForMs: 120_000, everConnected: false, now: 0 }), RETRY.firstContactMs);
  assert.equal(retryBudgetMs({ retryForMs: 120_000, everConnected: true, now: 1000, deadline: 4000 }), 3000);
  assert.equal(retryBudgetMs({ retryForMs: 120_000, everConnected: true, now: 5000, deadline: 4000 }), 0, 'past the deadline: one attempt, no retry');
});

test('an informer\'s refusals are final only several in a row and over the grace; any other failure starts again', () => {
  const table: Array<{ name: string; steps: Array<[unknown, number]>; final: boolean }> = [
    { name: 'one refusal', steps: [[http(403), 0]], final: false },
    { name: 'three refusals within the grace', steps: [[http(403), 0], [http(403), 1000], [http(401), 2000]], final: false },
    { name: 'two refusals over the grace', steps: [[http(403), 0], [http(403), RETRY.refusalFinalMs]], final: false },
    { name: 'three refusals over the grace', steps: [[http(403), 0], [http(403), 5000], [http(403), RETRY.refusalFinalMs]], final: true },
    { name: '401 and 403 alike', steps: [[http(401), 0], [http(403), 5000], [http(401), RETRY.refusalFinalMs]], final: true },
    { name: 'a lost connection in between', steps: [[http(403), 0], [http(403), 5000], [refused, 6000], [http(403), 7000], [http(403), 8000], [http(403), RETRY.refusalFinalMs]], final: false },
    { name: 'a 503 in between', steps: [[http(403), 0], [http(503), 5000], [http(403), 6000], [http(403), RETRY.refusalFinalMs]], final: false },
    { name: 'a refusal of a watch (statusCode)', steps: [[Object.assign(new Error('Forbidden'), { statusCode: 403 }), 0], [http(403), 5000], [http(403), RETRY.refusalFinalMs]], final: true },
  ];
  for (const row of table) {
    let streak = NO_REFUSALS;
    for (const [error, at] of row.steps) streak = nextRefusalStreak(streak, error, at);
    assert.equal(refusalIsFinal(streak, row.steps.at(-1)![1]), row.final, row.name);
  }
  assert.equal(RETRY.refusalFinalCount, 3);
});
