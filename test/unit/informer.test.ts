// The watch + re-list cache over a scripted source (no server): resumes from the last
// resourceVersion, re-lists on 410, and a stalled watch is backed up by the periodic re-list.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Informer, type InformerSource } from '../../src/cluster/informer.ts';
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
  assert.ok(events.filter((e) => e === 'SYNC').length >= 2);
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
