// The approver's work queue without a cluster: dedupe, priority, concurrency, a name re-added
// while it is worked on, retries after a delay, idle and stop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pool, WorkQueue } from '../../src/approver/queue.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A worker whose items finish when the test says so. */
function gatedWorker() {
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  const work = (name: string) =>
    new Promise<void>((resolve) => {
      started.push(name);
      gates.set(name, resolve);
    });
  const finish = async (name: string) => {
    const gate = gates.get(name);
    assert.ok(gate, `${name} is being worked on (started: ${started.join(', ')})`);
    gates.delete(name);
    gate();
    for (let i = 0; i < 3; i++) await tick();
  };
  return { started, work, finish, running: () => [...gates.keys()] };
}

test('work queue: a name queued twice is worked on once; lower priority first, ties by name', async () => {
  const gate = gatedWorker();
  const priority: Record<string, number> = { hold: -1, c: 1, a: 2, b: 2, d: 0 };
  const queue = new WorkQueue(gate.work, { concurrency: 1, priority: (n) => priority[n]! });
  queue.add('hold'); // takes the only slot, so that everything else queues up
  for (const name of ['b', 'a', 'c', 'a', 'd', 'b']) queue.add(name);
  assert.equal(queue.size, 4, 'a and b are queued once each');
  while (gate.running().length > 0) await gate.finish(gate.running()[0]!);
  assert.deepEqual(gate.started, ['hold', 'd', 'c', 'a', 'b']);
});

test('work queue: at most `concurrency` names at once; a name changed while worked on runs again after, never twice at once', async () => {
  const gate = gatedWorker();
  const queue = new WorkQueue(gate.work, { concurrency: 2, priority: () => 0 });
  for (const name of ['x', 'y', 'z']) queue.add(name);
  assert.deepEqual(gate.running().sort(), ['x', 'y']);
  queue.add('x');
  assert.deepEqual(gate.started, ['x', 'y'], 'x is not started a second time while it runs');
  await gate.finish('x');
  assert.deepEqual(gate.started, ['x', 'y', 'x'], 'x again as soon as its first run ended (before z: ties go by name)');
  await gate.finish('y');
  assert.deepEqual(gate.started, ['x', 'y', 'x', 'z']);
  await gate.finish('x');
  await gate.finish('z');
  assert.equal(queue.busy, false);
});

test('work queue: busy until every name is done; onIdle then; a retry waits its delay; stop drops everything', async () => {
  let idle = 0;
  const gate = gatedWorker();
  const queue = new WorkQueue(gate.work, { concurrency: 4, priority: () => 0, onIdle: () => idle++ });
  queue.add('a');
  assert.equal(queue.busy, true);
  await gate.finish('a');
  assert.equal(queue.busy, false);
  assert.equal(idle, 1);

  queue.addAfter('b', 30);
  queue.addAfter('b', 0); // one retry per name: the first stands
  assert.equal(queue.busy, false, 'a waiting retry is not work in hand');
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(gate.running(), [], 'not before its delay');
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.deepEqual(gate.running(), ['b']);
  await gate.finish('b');

  queue.addAfter('c', 10);
  queue.stop();
  queue.add('d');
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(gate.running(), [], 'nothing runs after stop');
});

test('work queue: a worker that throws is reported and does not stop the queue', async () => {
  const errors: string[] = [];
  const done: string[] = [];
  const queue = new WorkQueue(
    (name) => {
      if (name === 'bad') throw new Error('boom');
      done.push(name);
    },
    { concurrency: 1, priority: () => 0, onError: (name, error) => errors.push(`${name}: ${(error as Error).message}`) },
  );
  queue.add('bad');
  queue.add('good');
  for (let i = 0; i < 5; i++) await tick();
  assert.deepEqual(errors, ['bad: boom']);
  assert.deepEqual(done, ['good']);
});

test('work queue: a long run of quick items lets the event loop in between', async () => {
  let timerRan = -1;
  const done: string[] = [];
  const queue = new WorkQueue((name) => void done.push(name), { concurrency: 1, priority: () => 0 });
  setImmediate(() => (timerRan = done.length));
  for (let i = 0; i < 200; i++) queue.add(`n-${String(i).padStart(3, '0')}`);
  while (done.length < 200) await tick();
  assert.ok(timerRan > 0 && timerRan < 200, `the event loop ran after ${timerRan} of 200 items`);
});

test('work queue: addAll queues every name before the first starts, so the first to run is the first by priority', async () => {
  const gate = gatedWorker();
  const created: Record<string, number> = { old: 1, middle: 2, newest: 3 };
  const queue = new WorkQueue(gate.work, { concurrency: 1, priority: (n) => -created[n]! });
  queue.addAll(['old', 'middle', 'newest']);
  while (gate.running().length > 0) await gate.finish(gate.running()[0]!);
  assert.deepEqual(gate.started, ['newest', 'middle', 'old']);
});

test('pool: at most `size` tasks at once, started in the order given; a failing task frees its slot; idle once all are done', async () => {
  const gate = gatedWorker();
  let idle = 0;
  const pool = new Pool(2, () => idle++);
  for (const name of ['a', 'b', 'c', 'd']) pool.run(() => (name === 'b' ? Promise.reject(new Error('no answer')) : gate.work(name)));
  for (let i = 0; i < 3; i++) await tick();
  assert.deepEqual(gate.started, ['a', 'c'], "b failed at once and c took its slot; d waits");
  await gate.finish('a');
  assert.deepEqual(gate.started, ['a', 'c', 'd']);
  assert.equal(pool.busy, true);
  await gate.finish('c');
  await gate.finish('d');
  assert.equal(pool.busy, false);
  assert.equal(idle, 1);
});
