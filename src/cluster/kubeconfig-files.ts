import { isAbsolute, join, sep } from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';

/**
 * One kubeconfig document as kubectl reads it, and several merged as kubectl merges the files of
 * KUBECONFIG (k8s.io/client-go/tools/clientcmd loader.go): relative paths resolved against the
 * file's own folder; the first file to define a cluster, user or context name wins the whole
 * entry; current-context from the first file that sets one.
 */
export interface KubeconfigDocument {
  /** The file's folder; undefined for the action's input, which has none. */
  readonly folder: string | undefined;
  /** How messages name it: its path, or "the 'kubeconfig' input". */
  readonly source: string;
  readonly clusters: ReadonlyArray<Entry<Cluster>>;
  readonly users: ReadonlyArray<Entry<UserEntry>>;
  readonly contexts: ReadonlyArray<Entry<Context>>;
  readonly currentContext: string | undefined;
}

export interface Entry<T> {
  readonly value: T;
  /** The document it came from (its `source`), for messages; `folder` is its folder. */
  readonly source: string;
  readonly folder: string | undefined;
}

/** client-node's User plus the kubectl keys it does not read. */
export interface UserEntry {
  readonly name: string;
  readonly user: User;
  /** `tokenFile`, resolved against the folder. */
  readonly tokenFile?: string;
  readonly impersonate: Impersonation;
  /** The exec plugin's `interactiveMode` (Never, IfAvailable, Always). */
  readonly interactiveMode?: string;
}

/** `as`, `as-uid`, `as-groups`, `as-user-extra`: sent as the Impersonate-* headers. */
export interface Impersonation {
  readonly user?: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/** The kubeconfig fields that name a file (client-go's GetClusterFileReferences and GetAuthInfoFileReferences). */
export const PATH_FIELDS = ['certificate-authority', 'client-certificate', 'client-key', 'tokenFile', 'exec command'] as const;

/**
 * Reads one parsed kubeconfig document. Throws a plain Error (the caller names the source) when
 * client-node cannot read an entry or a kubectl key has the wrong type.
 */
export function readDocument(doc: Record<string, unknown>, source: string, folder: string | undefined): KubeconfigDocument {
  const rawUsers = Array.isArray(doc.users) ? (doc.users as Array<{ name?: unknown; user?: Record<string, unknown> }>) : [];
  // client-node reads a `token-file` key (not kubectl's) at once, relative to the working directory: kubectl ignores it.
  const users = rawUsers.map((u) => (u?.user && 'token-file' in u.user ? { ...u, user: Object.fromEntries(Object.entries(u.user).filter(([k]) => k !== 'token-file')) } : u));
  // client-go refuses a file that names a cluster, user or context twice (`duplicate name`).
  for (const kind of ['clusters', 'users', 'contexts'] as const) {
    const names = (Array.isArray(doc[kind]) ? (doc[kind] as Array<{ name?: unknown }>) : []).map((e) => e?.name);
    const twice = names.find((name, i) => names.indexOf(name) !== i);
    if (twice !== undefined) throw new Error(`duplicate name '${String(twice)}' in ${kind}`);
  }
  const config = new KubeConfig();
  config.loadFromString(JSON.stringify({ ...doc, users }));
  const at = <T>(value: T): Entry<T> => ({ value, source, folder });
  const resolved = (path: string | undefined): string | undefined => (path && folder && !isAbsolute(path) ? join(folder, path) : path || undefined);
  const clusters = config.getClusters().map((c) => at<Cluster>({ ...c, ...(c.caFile ? { caFile: resolved(c.caFile) } : {}) }));
  const userEntries = config.getUsers().map((user, i) => {
    // client-node keeps every entry in order (it throws on an invalid one).
    const raw = rawUsers[i]?.user ?? {};
    const exec = user.exec as { command?: unknown; interactiveMode?: unknown } | null | undefined;
    const command = typeof exec?.command === 'string' && exec.command.includes(sep) ? resolved(exec.command) : undefined;
    const tokenFile = typeof raw.tokenFile === 'string' ? resolved(raw.tokenFile) : undefined;
    const value: UserEntry = {
      name: user.name,
      user: {
        ...user,
        ...(user.certFile ? { certFile: resolved(user.certFile) } : {}),
        ...(user.keyFile ? { keyFile: resolved(user.keyFile) } : {}),
        ...(exec && command ? { exec: { ...exec, command } } : {}),
      },
      ...(tokenFile ? { tokenFile } : {}),
      impersonate: impersonationOf(raw, user.name),
      ...(typeof exec?.interactiveMode === 'string' ? { interactiveMode: exec.interactiveMode } : {}),
    };
    return at(value);
  });
  const current = doc['current-context'];
  return { folder, source, clusters, users: userEntries, contexts: config.getContexts().map(at), currentContext: typeof current === 'string' && current !== '' ? current : undefined };
}

function impersonationOf(raw: Record<string, unknown>, name: string): Impersonation {
  const strings = (value: unknown, field: string): string[] => {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`users '${name}' ${field} must be a list of strings`);
    return value as string[];
  };
  const extra: Record<string, string[]> = {};
  const rawExtra = raw['as-user-extra'];
  if (rawExtra !== undefined && rawExtra !== null) {
    if (typeof rawExtra !== 'object' || Array.isArray(rawExtra)) throw new Error(`users '${name}' as-user-extra must map names to lists of strings`);
    for (const [key, values] of Object.entries(rawExtra)) extra[key] = strings(values, `as-user-extra '${key}'`);
  }
  for (const field of ['as', 'as-uid'] as const) {
    if (raw[field] !== undefined && raw[field] !== null && typeof raw[field] !== 'string') throw new Error(`users '${name}' ${field} must be a string`);
  }
  const user = raw.as as string | undefined;
  const uid = raw['as-uid'] as string | undefined;
  return { ...(user ? { user } : {}), ...(uid ? { uid } : {}), groups: strings(raw['as-groups'], 'as-groups'), extra };
}

export interface MergedKubeconfig {
  readonly clusters: ReadonlyMap<string, Entry<Cluster>>;
  readonly users: ReadonlyMap<string, Entry<UserEntry>>;
  readonly contexts: ReadonlyMap<string, Entry<Context>>;
  readonly currentContext: string | undefined;
}

/**
 * kubectl's merge of several files: the first to define a name wins it whole (a later file's
 * entry of the same name is ignored, even its keys the first lacks); current-context comes from
 * the first file that sets it. Within one file a name defined twice is an error (readDocument).
 */
export function mergeDocuments(documents: readonly KubeconfigDocument[]): MergedKubeconfig {
  const merge = <T extends { name: string }>(pick: (d: KubeconfigDocument) => ReadonlyArray<Entry<T>>) => {
    const merged = new Map<string, Entry<T>>();
    for (const document of documents) {
      const own = new Map(pick(document).map((e) => [e.value.name, e]));
      for (const [name, entry] of own) if (!merged.has(name)) merged.set(name, entry);
    }
    return merged;
  };
  return {
    clusters: merge((d) => d.clusters),
    users: merge((d) => d.users),
    contexts: merge((d) => d.contexts),
    currentContext: documents.find((d) => d.currentContext !== undefined)?.currentContext,
  };
}
