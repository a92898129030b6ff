// The watch + re-list cache over a scripted source (no server): resumes from the last
// resourceVersion, re-lists on 410, and a stalled watch is backed up by the periodic re-list.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Informer, type InformerSource } from '../../src/cluster/informer.ts';
import type { ListPage } from '../../src/cluster/store.ts';
import { silentLog } from '../../src/log.ts';

interface Item { name: string; rv: string }
const item = (name: string, rv: string) => ({ metadata: { name, resourceVersion: rv } });
const waitFor = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check());
};

function scriptedSource(script: { lists: Array<{ items: unknown[]; resourceVersion: string }>; onWatch: (rv: string, emit: (type: string, o: unknown) => void, end: (e?: unknown) => void) => void }) {
  const watchedFrom: string[] = [];
  let lists = 0;
  const source: InformerSource<Item> = {
    kind: 'things',
    list: async () => script.lists[Math.min(lists++, script.lists.length - 1)]!,
    watch: async (rv, onEvent, done) => {
      watchedFrom.push(rv);
      let ended = false;
      script.onWatch(rv, onEvent, (e) => {
        if (!ended) {
          ended = true;
          done(e);
        }
      });
      return { stop: () => undefined };
    },
    convert: (o) => ({ name: (o as ReturnType<typeof item>).metadata.name, rv: (o as ReturnType<typeof item>).metadata.resourceVersion }),
    key: (i) => i.name,
  };
  return { source, watchedFrom, lists: () => lists };
}

test('a watch that ends is resumed from the last resourceVersion seen, losing nothing', async () => {
  let round = 0;
  const s = scriptedSource({
    lists: [{ items: [item('a', '1')], resourceVersion: '1' }],
    onWatch: (_rv, emit, end) => {
      round++;
      if (round <= 3) {
        emit('ADDED', item(`n${round}`, String(1 + round)));
        end(new Error('TimeoutError'));
      }
    },
  });
  const informer = new Informer(s.source, 60_000, silentLog);
  await informer.start();
  await waitFor(() => informer.values().length === 4 && s.watchedFrom.length >= 4);
  informer.stop();
  assert.deepEqual(s.watchedFrom.slice(0, 4), ['1', '2', '3', '4']);
  assert.equal(s.lists(), 1, 'no re-list needed');
});

test('an expired resourceVersion (ERROR 410) re-lists, and the re-list replaces the cache', async () => {
  let round = 0;
  const s = scriptedSource({
    lists: [
      { items: [item('a', '1'), item('gone', '1')], resourceVersion: '1' },
      { items: [item('a', '9'), item('b', '9')], resourceVersion: '9' },
    ],
    onWatch: (_rv, emit, end) => {
      if (++round === 1) {
        emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
        end();
      }
    },
  });
  const informer = new Informer(s.source, 60_000, silentLog);
  await informer.start();
  await waitFor(() => s.lists() === 2 && informer.get('b') !== undefined);
  informer.stop();
  assert.equal(informer.get('gone'), undefined);
  assert.deepEqual(s.watchedFrom.slice(0, 2), ['1', '9']);
});

test('a silently stalled watch is backed up by the periodic re-list', async () => {
  const s = scriptedSource({
    lists: [
      { items: [], resourceVersion: '1' },
      { items: [item('late', '5')], resourceVersion: '5' },
    ],
    onWatch: () => undefined, // never delivers, never ends
  });
  const informer = new Informer(s.source, 50, silentLog);
  const events: string[] = [];
  informer.onChange((event) => events.push(event));
  await informer.start();
  await waitFor(() => informer.get('late') !== undefined);
  informer.stop();
  // The item came from the re-list, beside the stalled watch: the watch was never restarted
  // and delivered nothing, and every list (and nothing else) was announced.
  assert.deepEqual(s.watchedFrom, ['1']);
  assert.equal(informer.stats().watchRestarts, 0);
  assert.equal(informer.stats().lastEventAt, 0);
  assert.ok(s.lists() >= 2);
  assert.deepEqual(events, Array(s.lists()).fill('SYNC'));
});

test('a re-list served before newer watch events does not roll them back or resurrect deletions', async () => {
  let emitLater: ((type: string, o: unknown) => void) | undefined;
  let releaseList: (() => void) | undefined;
  let lists = 0;
  const source: InformerSource<Item> = {
    kind: 'things',
    list: async () => {
      lists++;
      if (lists === 1) return { items: [item('a', '1'), item('b', '1')], resourceVersion: '1' };
      // The second list is a snapshot at rv 2, answered after the watch delivered rv 3 and 4.
      await new Promise<void>((r) => (releaseList = r));
      return { items: [item('a', '2'), item('b', '2')], resourceVersion: '2' };
    },
    watch: async (_rv, onEvent) => {
      emitLater = onEvent;
      return { stop: () => undefined };
    },
    convert: (o) => ({ name: (o as ReturnType<typeof item>).metadata.name, rv: (o as ReturnType<typeof item>).metadata.resourceVersion }),
    key: (i) => i.name,
  };
  const informer = new Informer(source, 20, silentLog);
  await informer.start();
  await waitFor(() => releaseList !== undefined);
  emitLater!('MODIFIED', item('a', '3'));
  emitLater!('DELETED', item('b', '4'));
  releaseList!();
  await waitFor(() => lists >= 2);
  await new Promise((r) => setTimeout(r, 10));
  informer.stop();
  assert.equal(informer.get('a')?.rv, '3', 'newer watch data kept');
  assert.equal(informer.get('b'), undefined, 'deletion not undone');
});

test('a list refused with 403 is retried, reported once as a warning, and recovers when allowed again', async () => {
  const { ClusterError } = await import('../../src/cluster/errors.ts');
  const warnings: string[] = [];
  let refuse = true;
  let lists = 0;
  const source: InformerSource<Item> = {
    kind: 'things',
    list: async () => {
      lists++;
      if (refuse && lists > 1) throw new ClusterError('list things', 403, 'things is forbidden', 'Forbidden');
      return { items: [item('a', String(lists))], resourceVersion: String(lists) };
    },
    watch: async (_rv, _onEvent, done) => {
      setTimeout(() => done(new ClusterError('watch things', 403, 'things is forbidden', 'Forbidden')), 5);
      return { stop: () => undefined };
    },
    convert: (o) => ({ name: (o as ReturnType<typeof item>).metadata.name, rv: (o as ReturnType<typeof item>).metadata.resourceVersion }),
    key: (i) => i.name,
  };
  const informer = new Informer(source, 20, { ...silentLog, warning: (m) => warnings.push(m) });
  await informer.start();
  try {
    await waitFor(() => lists >= 4);
    assert.equal(warnings.length, 1, 'one warning per streak, not one per retry');
    assert.match(warnings[0]!, /of things failed: (list|watch) things failed: HTTP 403 Forbidden: things is forbidden; still retrying: check the identity's credentials and role/);
    refuse = false;
    const before = lists;
    await waitFor(() => lists > before + 1);
    assert.equal(warnings.length, 1);
    assert.deepEqual(informer.values().map((i) => i.name), ['a']);
  } finally {
    informer.stop();
  }
});

/** A source whose every watch the test drives by hand; lists answer from `listed`. */
function drivenSource() {
  const watches: Array<{ rv: string; emit: (type: string, o: unknown) => void; end: (e?: unknown) => void; stopped: boolean }> = [];
  let listed = { items: [item('a', '1')] as unknown[], resourceVersion: '1' };
  let lists = 0;
  const source: InformerSource<Item> = {
    kind: 'things',
    list: async () => {
      lists++;
      return listed;
    },
    watch: async (rv, onEvent, done) => {
      const watch = { rv, emit: onEvent, end: (e?: unknown) => done(e), stopped: false };
      watches.push(watch);
      return { stop: () => (watch.stopped = true) };
    },
    convert: (o) => ({ name: (o as ReturnType<typeof item>).metadata.name, rv: (o as ReturnType<typeof item>).metadata.resourceVersion }),
    key: (i) => i.name,
  };
  return { source, watches, lists: () => lists, setList: (l: typeof listed) => (listed = l) };
}

test('one backoff: it grows with each failure in a row, a delivered event resets it, a clean end needs none', async () => {
  const s = drivenSource();
  const waits: number[] = [];
  const informer = new Informer(s.source, 60_000, silentLog, { backoffMs: (failures) => (waits.push(failures), 1) });
  await informer.start();
  try {
    for (let n = 1; n <= 3; n++) {
      await waitFor(() => s.watches.length === n);
      s.watches[n - 1]!.end(new Error('connection reset'));
    }
    await waitFor(() => s.watches.length === 4);
    assert.deepEqual(waits, [1, 2, 3]);
    s.watches[3]!.emit('ADDED', item('b', '2'));
    s.watches[3]!.end(new Error('connection reset'));
    await waitFor(() => s.watches.length === 5);
    assert.deepEqual(waits, [1, 2, 3, 1], 'the event ended the streak');
    s.watches[4]!.end();
    await waitFor(() => s.watches.length === 6);
    assert.deepEqual(waits, [1, 2, 3, 1], 'the server closing a watch is no failure');
    assert.deepEqual(s.watches.map((w) => w.rv), ['1', '1', '1', '1', '2', '2']);
    assert.equal(s.lists(), 1, 'resumed each time, never re-listed');
    assert.equal(informer.stats().watchRestarts, 5);
  } finally {
    informer.stop();
  }
});

test('a watch refused with 410 Gone re-lists before the next watch; an ERROR event ends the watch and re-lists at once', async () => {
  const s = drivenSource();
  const waits: number[] = [];
  const informer = new Informer(s.source, 60_000, silentLog, { backoffMs: (failures) => (waits.push(failures), 1) });
  await informer.start();
  try {
    await waitFor(() => s.watches.length === 1);
    s.setList({ items: [item('a', '5')], resourceVersion: '5' });
    s.watches[0]!.end(Object.assign(new Error('HTTP 410'), { code: 410, body: '{}' }));
    await waitFor(() => s.watches.length === 2);
    assert.equal(s.lists(), 2);
    assert.equal(s.watches[1]!.rv, '5');
    assert.deepEqual(waits, [1]);
    s.setList({ items: [item('a', '8')], resourceVersion: '8' });
    s.watches[1]!.emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    await waitFor(() => s.watches.length === 3);
    assert.equal(s.watches[1]!.stopped, true, 'the expired watch was stopped, not left open');
    assert.equal(s.lists(), 3);
    assert.equal(s.watches[2]!.rv, '8');
    assert.deepEqual(waits, [1], 'no wait before the re-list an ERROR asks for');
  } finally {
    informer.stop();
  }
});

test('a bookmark moves the resourceVersion the next watch resumes from', async () => {
  const s = drivenSource();
  const informer = new Informer(s.source, 60_000, silentLog);
  const events: string[] = [];
  informer.onChange((event) => events.push(event));
  await informer.start();
  try {
    await waitFor(() => s.watches.length === 1);
    s.watches[0]!.emit('BOOKMARK', { metadata: { resourceVersion: '42' } });
    assert.ok(informer.stats().lastEventAt > 0, 'a bookmark shows the watch is alive');
    s.watches[0]!.end();
    await waitFor(() => s.watches.length === 2);
    assert.equal(s.watches[1]!.rv, '42');
    assert.deepEqual(events, ['SYNC'], 'a bookmark changes no item');
    assert.deepEqual(informer.keys(), ['a']);
    assert.equal(informer.size, 1);
  } finally {
    informer.stop();
  }
});

test('start() rejects when the first list fails, and nothing keeps running', async () => {
  let lists = 0;
  let watches = 0;
  const source: InformerSource<Item> = {
    kind: 'things',
    list: async () => {
      lists++;
      throw new Error('list things failed: HTTP 403 Forbidden');
    },
    watch: async () => {
      watches++;
      return { stop: () => undefined };
    },
    convert: (o) => o as Item,
    key: (i) => i.name,
  };
  const informer = new Informer(source, 5, silentLog);
  await assert.rejects(informer.start(), /HTTP 403/);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(lists, 1);
  assert.equal(watches, 0);
  assert.equal(informer.stats().synced, false);
});

test('stop() ends the watch, the backoff wait and the periodic re-list, leaving no timer behind', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const s = drivenSource();
  const informer = new Informer(s.source, 60_000, silentLog, { backoffMs: () => 60_000 });
  await informer.start();
  await waitFor(() => s.watches.length === 1);
  s.watches[0]!.end(new Error('connection reset'));
  await new Promise((r) => setImmediate(r));
  assert.equal(timers(), before + 2, 'waiting: the backoff and the re-list period');
  informer.stop();
  assert.equal(timers(), before);
  const watching = drivenSource();
  const second = new Informer(watching.source, 60_000, silentLog);
  await second.start();
  await waitFor(() => watching.watches.length === 1);
  second.stop();
  assert.equal(watching.watches[0]!.stopped, true);
  assert.equal(timers(), before);
  assert.equal(second.stats().watchRestarts, 0, 'our own stop is not a restart');
});

test('the backoff formula: 0.5 s doubling to 5 s', async () => {
  const { backoffMs } = await import('../../src/cluster/informer.ts');
  assert.deepEqual([1, 2, 3, 4, 5, 6, 50].map(backoffMs), [500, 1000, 2000, 4000, 5000, 5000, 5000]);
});

test('an informer shared by two watchers (the approver and the pool check) lists and watches once when both start it', async () => {
  const s = scriptedSource({ lists: [{ items: [item('a', '1')], resourceVersion: '1' }], onWatch: () => undefined });
  const informer = new Informer(s.source, 60_000, silentLog);
  const first = informer.start();
  const second = informer.start();
  assert.equal(first, second, 'the second start is the first');
  await Promise.all([first, second]);
  await waitFor(() => s.watchedFrom.length >= 1);
  await new Promise((r) => setTimeout(r, 50));
  informer.stop();
  assert.equal(s.lists(), 1);
  assert.deepEqual(s.watchedFrom, ['1'], 'one watch');
});

/**
 * A source whose first list succeeds and whose watch opens (allowed) and then stays quiet; the
 * later lists fail with the errors given, one each, the clock `at` the time given for each.
 */
function refusingSource(failures: Array<{ error: unknown; at: number }>, clock: { now: number }) {
  let lists = 0;
  const source: InformerSource<Item> = {
    kind: 'things',
    resource: 'things.example.io',
    list: async () => {
      lists++;
      if (lists === 1) return { items: [item('a', '1')], resourceVersion: '1' };
      const failure = failures[Math.min(lists - 2, failures.length - 1)]!;
      clock.now = failure.at;
      throw failure.error;
    },
    watch: async () => ({ stop: () => undefined }),
    convert: (o) => ({ name: (o as ReturnType<typeof item>).metadata.name, rv: (o as ReturnType<typeof item>).metadata.resourceVersion }),
    key: (i) => i.name,
  };
  return { source, lists: () => lists };
}

test('a list refused again and again is refused for good only after several refusals over the grace, and says what and why', async () => {
  const { ClusterError } = await import('../../src/cluster/errors.ts');
  const forbidden = new ClusterError('list things', 403, 'things.example.io is forbidden: User "ofi" cannot list resource "things"', 'Forbidden');
  const clock = { now: 0 };
  // Refused from t=1 s; four refusals within 9 s are not final; the fifth, at 11 s, is.
  const s = refusingSource([1000, 3000, 6000, 9000, 11_000, 12_000].map((at) => ({ error: forbidden, at })), clock);
  const refusals: Error[] = [];
  const refusedAt: number[] = [];
  const informer = new Informer(s.source, 5, silentLog, { now: () => clock.now, onRefused: (e) => (refusals.push(e), refusedAt.push(clock.now)) });
  await informer.start();
  try {
    await waitFor(() => refusals.length === 1);
    assert.deepEqual(refusedAt, [11_000], 'not final within the grace, however many refusals');
    await waitFor(() => s.lists() >= 9);
    assert.equal(refusals.length, 1, 'reported once per streak');
    const [refusal] = refusals;
    assert.equal(refusal!.name, 'AccessRefused');
    assert.equal(refusal!.message, 'forbidden: list things.example.io: things.example.io is forbidden: User "ofi" cannot list resource "things"; grant it to the identity\'s role (deploy/rbac.yaml)');
  } finally {
    informer.stop();
  }
});

test('refusals right after a lost connection start a new streak (a restarting server answers 403 until its caches fill)', async () => {
  const { ClusterError } = await import('../../src/cluster/errors.ts');
  const forbidden = new ClusterError('list things', 403, 'forbidden', 'Forbidden');
  const lost = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
  const clock = { now: 0 };
  // Without the loss at 12 s, the refusal at 16 s would be final (4 in a row over 12 s).
  const script = [
    { error: forbidden, at: 4000 },
    { error: forbidden, at: 8000 },
    { error: forbidden, at: 10_000 },
    { error: lost, at: 12_000 },
    { error: forbidden, at: 16_000 },
    { error: forbidden, at: 20_000 },
    { error: forbidden, at: 24_000 },
    { error: forbidden, at: 26_500 },
  ];
  const s = refusingSource(script, clock);
  const refusedAfter: number[] = [];
  const informer = new Informer(s.source, 5, silentLog, { now: () => clock.now, onRefused: () => refusedAfter.push(clock.now) });
  await informer.start();
  try {
    await waitFor(() => refusedAfter.length === 1);
    assert.deepEqual(refusedAfter, [26_500], 'final only with three refusals over 10 s since the connection came back');
  } finally {
    informer.stop();
  }
});

test('a 401 refused for good says unauthorized; a watch refused names the verb watch', async () => {
  const { AccessRefused, ClusterError } = await import('../../src/cluster/errors.ts');
  const unauthorized = new AccessRefused('list', 'nodes', new ClusterError('list nodes', 401, 'Unauthorized', 'Unauthorized'));
  assert.equal(unauthorized.message, "unauthorized: list nodes: Unauthorized; renew the identity's credential");
  const raw = { code: 403, body: JSON.stringify({ kind: 'Status', message: 'clusteroperators.config.openshift.io is forbidden', reason: 'Forbidden' }) };
  const watch = new AccessRefused('watch', 'clusteroperators.config.openshift.io', raw);
  assert.match(watch.message, /^forbidden: watch clusteroperators\.config\.openshift\.io: clusteroperators\.config\.openshift\.io is forbidden; grant it/);
  const { resourceOfPath, PATHS } = await import('../../src/cluster/paths.ts');
  assert.deepEqual(
    [PATHS.nodes, PATHS.csrs, PATHS.clusterOperators, PATHS.machineConfigPools].map(resourceOfPath),
    ['nodes', 'certificatesigningrequests.certificates.k8s.io', 'clusteroperators.config.openshift.io', 'machineconfigpools.machineconfiguration.openshift.io'],
  );
});

test('a list read in pages is applied page by page; what no page had goes only when the last page came', async () => {
  const seenBetweenPages: string[][] = [];
  let lists = 0;
  let failSecondPage = false;
  const page = (items: unknown[], next?: () => Promise<ListPage>): ListPage => ({ items, resourceVersion: '5', next });
  const source: InformerSource<Item> = {
    kind: 'things',
    list: async () => {
      lists++;
      if (lists === 1) return page([item('old', '1')]);
      return page([item('a', '2')], async () => {
        seenBetweenPages.push(informer.values().map((i) => i.name).sort());
        if (failSecondPage) throw Object.assign(new Error('continue token expired'), { status: 410 });
        return page([item('b', '3')], async () => page([item('c', '4')]));
      });
    },
    watch: async () => ({ stop: () => undefined }),
    convert: (o) => ({ name: (o as ReturnType<typeof item>).metadata.name, rv: (o as ReturnType<typeof item>).metadata.resourceVersion }),
    key: (i) => i.name,
  };
  const informer = new Informer(source, 20, silentLog);
  await informer.start();
  assert.deepEqual(informer.values().map((i) => i.name), ['old']);
  await waitFor(() => lists >= 2 && informer.values().length === 3);
  assert.deepEqual(informer.values().map((i) => i.name).sort(), ['a', 'b', 'c'], 'every page applied, and what no page had removed');
  assert.deepEqual(seenBetweenPages[0], ['a', 'old'], 'the first page was applied before the second was read; nothing removed yet');
  // A list that fails between pages removes nothing.
  failSecondPage = true;
  const before = lists;
  await waitFor(() => lists >= before + 2);
  informer.stop();
  assert.deepEqual(informer.values().map((i) => i.name).sort(), ['a', 'b', 'c']);
});

test('watch events that arrive between the pages of a list win over its older snapshot', async () => {
  let lists = 0;
  let emit: ((type: string, object: unknown) => void) | undefined;
  const source: InformerSource<Item> = {
    kind: 'things',
    list: async () => {
      lists++;
      if (lists === 1) return { items: [item('old', '1'), item('b', '1')], resourceVersion: '1' };
      // A snapshot at 5, read in two pages; between them the watch says b was deleted at 6,
      // a modified at 7 and d created at 8.
      return {
        items: [item('a', '3'), item('b', '4')],
        resourceVersion: '5',
        next: async () => {
          emit!('DELETED', item('b', '6'));
          emit!('MODIFIED', item('a', '7'));
          emit!('ADDED', item('d', '8'));
          return { items: [item('c', '5')], resourceVersion: '5' };
        },
      };
    },
    watch: async (_rv, onEvent) => {
      emit = onEvent;
      return { stop: () => undefined };
    },
    convert: (o) => ({ name: (o as ReturnType<typeof item>).metadata.name, rv: (o as ReturnType<typeof item>).metadata.resourceVersion }),
    key: (i) => i.name,
  };
  const informer = new Informer(source, 20, silentLog);
  await informer.start();
  await waitFor(() => lists >= 2 && informer.get('c') !== undefined && informer.get('old') === undefined);
  informer.stop();
  assert.deepEqual(Object.fromEntries(informer.values().map((i) => [i.name, i.rv])), { a: '7', c: '5', d: '8' }, 'the deletion, the change and the creation the watch saw stay; what no page had is gone');
});
