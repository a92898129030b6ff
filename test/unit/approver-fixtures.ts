// What the approver's unit tests build on: kubelet client CSRs as the API server returns them,
// and informer sources whose list the test sets and whose watch the test drives.
import type { InformerSource } from '../../src/cluster/informer.ts';
import { buildCsr } from '../sim/csr-builder.ts';
import { BOOTSTRAPPER, SIGNER, USAGES } from '../sim/common.ts';

let rv = 100;

/** A pending client CSR for `node` from the node-bootstrapper, as the API server returns it. */
export function clientCsr(name: string, node: string, uid = `uid-${name}`): { metadata: { name: string; uid: string; resourceVersion: string; creationTimestamp: string }; spec: object } {
  const { pem } = buildCsr({ commonName: `system:node:${node}`, organizations: ['system:nodes'] });
  return {
    metadata: { name, uid, resourceVersion: String(++rv), creationTimestamp: new Date().toISOString() },
    spec: { request: Buffer.from(pem).toString('base64'), signerName: SIGNER.kubeletClient, usages: USAGES.client, username: BOOTSTRAPPER.user, groups: BOOTSTRAPPER.groups },
  };
}

/** An informer source whose list the test sets and whose watch the test drives. */
export function drivenSource<T>(kind: string, convert: (o: unknown) => T, key: (t: T) => string) {
  let items: unknown[] = [];
  let emit: ((type: string, o: unknown) => void) | undefined;
  let end: ((e: unknown) => void) | undefined;
  const source: InformerSource<T> = {
    kind,
    list: async () => ({ items, resourceVersion: String(++rv) }),
    watch: async (_rv, onEvent, done) => {
      emit = onEvent;
      end = done;
      return { stop: () => undefined };
    },
    convert,
    key,
  };
  return {
    source,
    setList: (next: unknown[]) => (items = next),
    event: (type: string, o: unknown) => emit!(type, o),
    /** The watch expires (410): the informer re-lists, which reports no deletions. */
    expire: () => {
      emit!('ERROR', { code: 410 });
      end!(Object.assign(new Error('Gone'), { code: 410 }));
    },
  };
}
