// `npm run soak -- --js-heap` loads this into the service under soak (NODE_OPTIONS=--import):
// every 30 s one JSON line of its JS heap and of the memory JS objects hold outside it (external),
// appended to the file OFI_SOAK_HEAP_PROBE names, so the report can tell a JS leak (used grows),
// V8 keeping pages (held grows, used does not) and native memory (RssAnon grows, neither does)
// apart. It reads figures and changes nothing else, but its loading adds memory of its own
// (about 4 MiB to a bare node process), so a run for the memory goal goes without it. Plain
// JavaScript: a .ts file would load Node's type stripper into the service, about 10 MiB more.
import { appendFileSync } from 'node:fs';
import process from 'node:process';
import { setInterval } from 'node:timers';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

const file = process.env.OFI_SOAK_HEAP_PROBE;
if (file) {
  const write = () => {
    const heap = getHeapStatistics();
    const { external } = process.memoryUsage();
    const kb = (bytes) => Math.round(bytes / 1024);
    // Each space's resident pages and live bytes: a step in the young generation (new_space)
    // is V8 resizing it, one in old_space or code_space is what was kept.
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, [kb(s.physical_space_size), kb(s.space_used_size)]]));
    appendFileSync(file, `${JSON.stringify({ at: Date.now(), usedKb: kb(heap.used_heap_size), committedKb: kb(heap.total_physical_size), externalKb: kb(external), spaces })}\n`);
  };
  write();
  setInterval(write, 30_000).unref();
}
