import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterOperatorInfo } from '../../src/cluster/objects.ts';
import { isStable, observe, operatorState, startClock } from '../../src/operators/stability.ts';

const co = (name: string, available: string | null, progressing: string | null, degraded: string | null, message = ''): ClusterOperatorInfo => ({
  name,
  conditions: [
    ...(available ? [{ type: 'Available', status: available, message }] : []),
    ...(progressing ? [{ type: 'Progressing', status: progressing, message }] : []),
    ...(degraded ? [{ type: 'Degraded', status: degraded, reason: 'Broken', message }] : []),
  ],
});
const good = (name: string) => co(name, 'True', 'False', 'False');

test('stable needs all three conditions present and right', () => {
  assert.equal(isStable(operatorState(good('a'))), true);
  assert.equal(isStable(operatorState(co('a', 'True', 'False', null))), false);
  assert.equal(isStable(operatorState(co('a', 'True', 'True', 'False'))), false);
  assert.equal(isStable(operatorState(co('a', 'False', 'False', 'False'))), false);
  assert.equal(isStable(operatorState(co('a', 'True', 'False', 'Unknown'))), false);
  assert.match(operatorState(co('a', 'True', 'False', null)).message, /Degraded condition missing/);
  assert.match(operatorState(co('a', 'True', 'False', 'True', 'disk full')).message, /Degraded=True \(Broken\): disk full/);
});

test('the clock needs the stable period without interruption', () => {
  let o = observe(startClock(0), [good('a'), co('b', 'True', 'True', 'False')], [], 300_000, 0);
  assert.equal(o.done, false);
  assert.deepEqual(o.unstable.map((u) => u.name), ['b']);
  o = observe(o.clock, [good('a'), good('b')], [], 300_000, 60_000);
  assert.equal(o.clock.stableSince, 60_000);
  assert.ok(o.transitions.some((t) => t.includes('all 2 operators stable after 1m')));
  o = observe(o.clock, [good('a'), co('b', 'True', 'False', 'True', 'flap')], [], 300_000, 200_000);
  assert.equal(o.clock.stableSince, undefined);
  assert.ok(o.transitions.some((t) => t.startsWith('b became degraded')));
  assert.ok(o.transitions.some((t) => t.includes('stability interrupted')));
  o = observe(o.clock, [good('a'), good('b')], [], 300_000, 210_000);
  o = observe(o.clock, [good('a'), good('b')], [], 300_000, 509_999);
  assert.equal(o.done, false);
  o = observe(o.clock, [good('a'), good('b')], [], 300_000, 510_000);
  assert.equal(o.done, true);
});

test('transitions are printed once, not on every tick', () => {
  let o = observe(startClock(0), [co('a', 'True', 'True', 'False', '1%')], [], 0, 0);
  assert.equal(o.transitions.length, 1);
  o = observe(o.clock, [co('a', 'True', 'True', 'False', '2%')], [], 0, 1000);
  assert.deepEqual(o.transitions, []);
});

test('ignored operators are reported, not waited for; no operators at all is not stable', () => {
  const o = observe(startClock(0), [good('a'), co('insights', 'False', 'False', 'True')], ['insights'], 0, 0);
  assert.equal(o.done, true);
  assert.deepEqual(o.ignored.map((i) => i.name), ['insights']);
  const none = observe(startClock(0), [], [], 0, 0);
  assert.equal(none.done, false);
  assert.match(none.unstable[0]!.message, /no ClusterOperators/);
});

test('a zero stable period accepts the first all-stable observation', () => {
  assert.equal(observe(startClock(0), [good('a')], [], 0, 5).done, true);
});
