// The raw limit: a tight loop that lists CSRs and approves every pending one with the approval
// call (PUT .../approval), as many at a time as the action sends, with no checks at all. Run as a child
// process of the benchmark: `node scripts/bench/raw-approver.ts` with OFI_URL, OFI_CA_FILE and
// OFI_TOKEN in the environment. Prints `listed` after its first list; stops on SIGTERM.
import { readFileSync } from 'node:fs';
import { APPROVALS_IN_FLIGHT } from '../../src/approver/options.ts';
import { createClient } from '../../test/env/client.ts';

const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

/* eslint-disable @typescript-eslint/no-explicit-any */
const client = createClient(process.env.OFI_URL!, readFileSync(process.env.OFI_CA_FILE!, 'utf8'), process.env.OFI_TOKEN!);
let stopped = false;
process.on('SIGTERM', () => {
  stopped = true;
  process.exit(0);
});

const done = new Set<string>();
let first = true;
while (!stopped) {
  let items: any[];
  try {
    items = (await client.request<{ items: any[] }>('GET', CSR_PATH)).items;
  } catch (e) {
    console.error(`raw: list failed: ${(e as Error).message}`);
    await new Promise((r) => setTimeout(r, 100));
    continue;
  }
  if (first) {
    console.log('listed');
    first = false;
  }
  const pending = items.filter((c) => (c.status?.conditions ?? []).length === 0 && !done.has(c.metadata.name));
  let next = 0;
  const worker = async () => {
    while (next < pending.length) {
      const csr = pending[next++];
      const body = { ...csr, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'RawLoop', message: 'approved by the benchmark raw loop' }] } };
      try {
        await client.request('PUT', `${CSR_PATH}/${csr.metadata.name}/approval`, { body });
        done.add(csr.metadata.name);
      } catch (e) {
        console.error(`raw: approve ${csr.metadata.name}: ${(e as Error).message}`); // the next list retries
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(APPROVALS_IN_FLIGHT, pending.length) }, worker));
}
