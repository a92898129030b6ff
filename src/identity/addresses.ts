import type { NodeInfo } from '../cluster/objects.ts';
import { canonicalDnsName, canonicalIp } from '../net/address.ts';
import type { ExpectedNode } from '../settings/settings.ts';

/** Who holds an address or name, other than the node asking: what the SAN ownership check needs. */
export interface AddressOwners {
  /** Another listed machine (its name or declared addresses), else another Node (its name or status.addresses). */
  owner(key: string, except: string): string | undefined;
  /**
   * Another listed machine (its name or declared addresses), else another Node by its name only:
   * never by a Node's status.addresses, which the machine writes itself and so must not veto
   * what the pipeline declared. A Node's name is its certified identity, not a claim.
   */
  declaredOwner(key: string, except: string): string | undefined;
}

/** The key an address is compared by: the canonical IP, else the lower-case DNS name. */
export const addressKey = (address: string): string => canonicalIp(address) ?? canonicalDnsName(address);

/**
 * The one index of names and addresses held by the listed machines (their names and declared
 * addresses) and by the registered Nodes (their names and status.addresses). A listed machine
 * is named first: the inventory is what the pipeline declared; a Node's addresses are what
 * the machine reports about itself.
 */
export class AddressIndex implements AddressOwners {
  private readonly listed = new Holders();
  private readonly registered = new Holders();

  /** Replaces the listed machines. */
  setListed(machines: Iterable<ExpectedNode>): void {
    this.listed.clear();
    for (const machine of machines) this.listed.set(machine.name, [machine.name, ...machine.ips, ...machine.dnsNames]);
  }

  /** Records a Node's names and addresses (undefined: the Node is gone). */
  setNode(name: string, node: NodeInfo | undefined): void {
    this.registered.set(name, node ? [name, ...node.addresses.map((a) => addressKey(a.address))] : []);
  }

  /** Replaces the Nodes (after a re-list). */
  setNodes(nodes: Iterable<NodeInfo>): void {
    this.registered.clear();
    for (const node of nodes) this.setNode(node.name, node);
  }

  owner(key: string, except: string): string | undefined {
    return this.listed.other(key, except) ?? this.registered.other(key, except);
  }

  declaredOwner(key: string, except: string): string | undefined {
    return this.listed.other(key, except) ?? (key !== except && this.registered.has(key) ? key : undefined);
  }
}

/** An index built once, for a single decision outside the approver (tests, one-off checks). */
export function addressIndexOf(machines: Iterable<ExpectedNode>, nodes: Iterable<NodeInfo>): AddressIndex {
  const index = new AddressIndex();
  index.setListed(machines);
  index.setNodes(nodes);
  return index;
}

/** key -> the names holding it, and name -> its keys (so a holder's keys can be replaced). */
class Holders {
  private readonly byKey = new Map<string, Set<string>>();
  private readonly byName = new Map<string, readonly string[]>();

  set(name: string, keys: readonly string[]): void {
    for (const key of this.byName.get(name) ?? []) {
      const names = this.byKey.get(key);
      names?.delete(name);
      if (names?.size === 0) this.byKey.delete(key);
    }
    if (keys.length === 0) {
      this.byName.delete(name);
      return;
    }
    this.byName.set(name, keys);
    for (const key of keys) {
      let names = this.byKey.get(key);
      if (!names) this.byKey.set(key, (names = new Set()));
      names.add(name);
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  clear(): void {
    this.byKey.clear();
    this.byName.clear();
  }

  /** A holder of `key` other than `except` (the last one recorded, when several hold it). */
  other(key: string, except: string): string | undefined {
    let owner: string | undefined;
    for (const name of this.byKey.get(key) ?? []) if (name !== except) owner = name;
    return owner;
  }
}
