// The informer's cache alone: a list and a watch overlap, and neither rolls back what the
// other applied later; the resourceVersion only moves forward until a 410 forgets it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '../../src/cluster/store.ts';

interface Item { name: string; rv: string }
const object = (name: string, rv: string) => ({ metadata: { name, resourceVersion: rv } });
const newStore = () =>
  new Store<Item>({
    convert: (o) => ({ name: (o as ReturnType<typeof object>).metadata.name, rv: (o as ReturnType<typeof object>).metadata.resourceVersion }),
    key: (i) => i.name,
  });
const contents = (store: Store<Item>) => Object.fromEntries(store.values().map((i) => [i.name, i.rv]));

test('a list replaces the cache and sets the resourceVersion', () => {
  const store = newStore();
  assert.equal(store.resourceVersion, '');
  store.applyList([object('a', '1'), object('b', '2')], '2');
  store.applyList([object('a', '3'), object('c', '3')], '3');
  assert.deepEqual(contents(store), { a: '3', c: '3' });
  assert.deepEqual(store.keys().sort(), ['a', 'c']);
  assert.equal(store.size, 2);
  assert.equal(store.resourceVersion, '3');
});

test('watch events: what changed is returned; a bookmark only moves the resourceVersion; other types change nothing', () => {
  const store = newStore();
  store.applyList([object('a', '1')], '1');
  assert.deepEqual(store.applyEvent('ADDED', object('b', '2')), { event: 'ADDED', item: { name: 'b', rv: '2' } });
  assert.deepEqual(store.applyEvent('MODIFIED', object('a', '3')), { event: 'MODIFIED', item: { name: 'a', rv: '3' } });
  assert.deepEqual(store.applyEvent('DELETED', object('b', '4')), { event: 'DELETED', item: { name: 'b', rv: '4' } });
  assert.equal(store.resourceVersion, '4');
  assert.equal(store.applyEvent('BOOKMARK', { metadata: { resourceVersion: '9' } }), undefined);
  assert.equal(store.resourceVersion, '9');
  assert.equal(store.applyEvent('SOMETHING', object('z', '10')), undefined);
  assert.equal(store.resourceVersion, '9');
  assert.deepEqual(contents(store), { a: '3' });
});

test('a list older than the watch keeps newer items, new items and deletions (tombstones)', () => {
  const store = newStore();
  store.applyList([object('a', '1'), object('b', '1')], '1');
  store.applyEvent('MODIFIED', object('a', '5'));
  store.applyEvent('DELETED', object('b', '6'));
  store.applyEvent('ADDED', object('c', '7'));
  // A snapshot at rv 4, answered after the watch delivered 5 to 7.
  store.applyList([object('a', '4'), object('b', '4')], '4');
  assert.deepEqual(contents(store), { a: '5', c: '7' });
  assert.equal(store.resourceVersion, '7', 'an older list does not move the resourceVersion back');
  // A later list supersedes the tombstone: b re-created at 8 is listed again.
  store.applyList([object('a', '5'), object('b', '8'), object('c', '7')], '8');
  assert.deepEqual(contents(store), { a: '5', b: '8', c: '7' });
  assert.equal(store.resourceVersion, '8');
});

test('a watch event older than what a newer list put in the cache is ignored', () => {
  const store = newStore();
  store.applyList([object('a', '9')], '9');
  assert.equal(store.applyEvent('MODIFIED', object('a', '7')), undefined);
  assert.equal(store.applyEvent('DELETED', object('a', '8')), undefined);
  assert.deepEqual(contents(store), { a: '9' });
  assert.deepEqual(store.applyEvent('MODIFIED', object('a', '10')), { event: 'MODIFIED', item: { name: 'a', rv: '10' } });
});

test('a 410 forgets the resourceVersion; the next list sets it whatever it was', () => {
  const store = newStore();
  store.applyList([], '50');
  store.forgetResourceVersion();
  assert.equal(store.resourceVersion, '');
  store.applyList([object('a', '60')], '60');
  assert.equal(store.resourceVersion, '60');
});

test('resourceVersions that are not numbers are taken as they come', () => {
  const store = newStore();
  store.applyList([object('a', 'x1')], 'x1');
  store.applyEvent('MODIFIED', object('a', 'x2'));
  assert.equal(store.resourceVersion, 'x2');
  store.applyList([object('a', 'x0')], 'x0');
  assert.deepEqual(contents(store), { a: 'x0' });
});

test('a re-list converts only what changed: an object at the version kept stays the same item', () => {
  let converted = 0;
  const store = new Store<Item>({
    convert: (o) => {
      converted++;
      return { name: (o as ReturnType<typeof object>).metadata.name, rv: (o as ReturnType<typeof object>).metadata.resourceVersion };
    },
    key: (i) => i.name,
  });
  store.applyList([object('a', '1'), object('b', '2')], '2');
  const a = store.get('a');
  assert.equal(converted, 2);
  // b changed, c is new, a is listed again at its version.
  store.applyList([object('a', '1'), object('b', '3'), object('c', '4')], '4');
  assert.equal(converted, 4, 'only b and c were converted');
  assert.equal(store.get('a'), a, 'the kept item is not replaced by an equal one');
  assert.deepEqual(contents(store), { a: '1', b: '3', c: '4' });
  // Another object at a version the cache holds (another name or uid) is not mistaken for it.
  store.applyList([object('a', '1'), object('b', '3'), object('c', '4'), object('d', '1')], '5');
  assert.equal(converted, 5);
  assert.deepEqual(contents(store), { a: '1', b: '3', c: '4', d: '1' });
  // A watch event at a kept version replaces nothing it should not: a deletion then a re-list.
  store.applyEvent('DELETED', object('a', '6'));
  store.applyList([object('b', '3'), object('c', '4'), object('d', '1')], '6');
  assert.deepEqual(contents(store), { b: '3', c: '4', d: '1' });
  assert.equal(converted, 6, 'the deletion is converted once; nothing listed again is');
});

test('what the store keeps per version goes with its object: after objects change and go, one entry per cached item', () => {
  const store = newStore();
  const kept = () => (store as unknown as { keptAt: Map<number, unknown> }).keptAt.size;
  store.applyList(Array.from({ length: 200 }, (_, i) => object(`n${i}`, String(i + 1))), '200');
  assert.equal(kept(), 200);
  let rv = 200;
  const latest = new Map<string, string>();
  // Every object changes twice by watch, half are deleted by watch, a quarter vanish from a re-list.
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 200; i++) {
      latest.set(`n${i}`, String(++rv));
      store.applyEvent('MODIFIED', object(`n${i}`, String(rv)));
    }
  }
  for (let i = 0; i < 100; i++) store.applyEvent('DELETED', object(`n${i}`, String(++rv)));
  const relisted = Array.from({ length: 50 }, (_, i) => `n${i + 100}`);
  store.applyList(relisted.map((name) => object(name, latest.get(name)!)), String(++rv));
  assert.equal(store.size, 50);
  assert.equal(kept(), 50, 'versions of replaced and dropped objects are forgotten');
});
