import type { Csr } from '../cluster/objects.ts';
import { nodeNameFromSubject, SERVING_SIGNER } from '../identity/policy.ts';
import { parseCertificateRequest, type CertificateRequest } from '../identity/x509.ts';

/**
 * What the approver derives once from a CSR's immutable spec: the parsed request and the node it
 * is for, by uid (a CSR re-created under the same name is another request), and the CSRs of each
 * node by name. An entry lives as long as its CSR: the cluster garbage-collects CSRs (approved
 * ones after 1 h, pending after 24 h), and a --watch service that kept them would grow with every
 * request it ever saw.
 */
export class RequestCache {
  private readonly parsed = new Map<string, CertificateRequest>();
  private readonly nodes = new Map<string, string | undefined>();
  /** node -> names of its CSRs, and CSR name -> the node it was filed under there. */
  private readonly byNode = new Map<string, Set<string>>();
  private readonly nodeOfName = new Map<string, string>();

  /** The parsed request; undefined when it cannot be parsed (not cached: the policy says why). */
  parse(csr: Csr): CertificateRequest | undefined {
    const key = keyOf(csr);
    let parsed = this.parsed.get(key);
    if (!parsed) {
      try {
        parsed = parseCertificateRequest(csr.request);
      } catch {
        return undefined;
      }
      this.parsed.set(key, parsed);
    }
    return parsed;
  }

  /** The node a CSR is for: the requester of a serving request, the subject of a client request. */
  nodeOf(csr: Csr): string | undefined {
    const key = keyOf(csr);
    if (this.nodes.has(key)) return this.nodes.get(key);
    let node: string | undefined;
    if (csr.signerName === SERVING_SIGNER) node = csr.username.replace(/^system:node:/, '');
    else {
      const parsed = this.parse(csr);
      node = parsed ? nodeNameFromSubject(parsed) : undefined;
    }
    this.nodes.set(key, node);
    this.file(csr.name, node);
    return node;
  }

  /** Names of the CSRs seen for `node` (look each up in the informer: it may be gone). */
  csrsOf(node: string): ReadonlySet<string> {
    return this.byNode.get(node) ?? EMPTY;
  }

  /** Drops what is kept for a CSR the cluster deleted. */
  forget(csr: Csr): void {
    this.parsed.delete(keyOf(csr));
    this.nodes.delete(keyOf(csr));
    this.file(csr.name, undefined);
  }

  /** Keeps only the CSRs in `present` (a re-list reports no deletions: what it lacks is gone). */
  retainOnly(present: Iterable<Csr>): void {
    const keys = new Set<string>();
    const names = new Set<string>();
    for (const csr of present) {
      keys.add(keyOf(csr));
      names.add(csr.name);
    }
    for (const map of [this.parsed, this.nodes]) {
      for (const key of map.keys()) if (!keys.has(key)) map.delete(key);
    }
    for (const name of [...this.nodeOfName.keys()]) if (!names.has(name)) this.file(name, undefined);
  }

  /** CSRs with something kept. */
  get size(): number {
    return new Set([...this.parsed.keys(), ...this.nodes.keys()]).size;
  }

  private file(name: string, node: string | undefined): void {
    const before = this.nodeOfName.get(name);
    if (before === node) return;
    if (before !== undefined) {
      const names = this.byNode.get(before);
      names?.delete(name);
      if (names?.size === 0) this.byNode.delete(before);
    }
    if (node === undefined) {
      this.nodeOfName.delete(name);
      return;
    }
    this.nodeOfName.set(name, node);
    let names = this.byNode.get(node);
    if (!names) this.byNode.set(node, (names = new Set()));
    names.add(name);
  }
}

const keyOf = (csr: Csr): string => csr.uid || csr.name;
const EMPTY: ReadonlySet<string> = new Set();
