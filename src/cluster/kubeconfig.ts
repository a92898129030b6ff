import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { KubeConfig, type User } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../settings/settings.ts';
import { checkCurrent } from './kubeconfig-checks.ts';
import { mergeDocuments, readDocument, type Impersonation, type KubeconfigDocument } from './kubeconfig-files.ts';
import { proxySecrets, proxySettingsFromEnv } from './proxy.ts';

const ACCEPTED = 'kubeconfig YAML, or the same base64-encoded; or empty to use KUBECONFIG, then ~/.kube/config';
const KUBECONFIG_KEYS = ['clusters', 'contexts', 'users', 'current-context'];

export interface LoadedKubeConfig {
  readonly config: KubeConfig;
  /** Where it came from, for the log (never the content): the file, or the files of KUBECONFIG merged. */
  readonly source: string;
  /** Values to mask in every log line. */
  readonly secrets: readonly string[];
  /** Said once before connecting (insecure-skip-tls-verify). */
  readonly warnings: readonly string[];
  /**
   * The current user's `tokenFile` (kubectl's key; client-node reads none), as an absolute path:
   * a relative one is relative to the kubeconfig file, as client-go resolves it.
   */
  readonly tokenFile?: string;
  /** The current user's `as`, `as-uid`, `as-groups` and `as-user-extra`. */
  readonly impersonate?: Impersonation;
}

/**
 * Loads the kubeconfig from the input, or the files of KUBECONFIG merged as kubectl merges them,
 * or ~/.kube/config, and selects the context. Relative paths are resolved against the folder of
 * the file that holds them (refused in the input, which has none). Unlike
 * KubeConfig.loadFromDefault it never falls back to http://localhost:8080.
 */
export function loadKubeConfig(input: string, context: string, env: NodeJS.ProcessEnv = process.env, file?: string): LoadedKubeConfig {
  const files = locate(input, env, file);
  const source = files.map((f) => f.source).join(', ');
  const documents = files.flatMap(({ text, source, folder }): KubeconfigDocument[] => {
    // kubectl reads an empty file as an empty config; an empty input is not this far.
    if (folder !== undefined && text.trim() === '') return [];
    const doc = decode(text, source);
    try {
      return [readDocument(doc, source, folder)];
    } catch (error) {
      throw new InputError('kubeconfig', `${source} is not a usable kubeconfig (${(error as Error).message.split('\n')[0]})`, ACCEPTED);
    }
  });
  const merged = mergeDocuments(documents);
  if (context !== '' && !merged.contexts.has(context)) {
    const known = [...merged.contexts.keys()];
    throw new InputError('context', `context '${context}' is not in ${source}`, known.length ? known.join(', ') : 'a context defined in the kubeconfig');
  }
  const current = context || merged.currentContext;
  const selected = current === undefined ? undefined : merged.contexts.get(current);
  if (!current || !selected) {
    throw new InputError(context ? 'context' : 'kubeconfig', `${source} has no current-context`, 'set current-context in the kubeconfig, or the context input');
  }
  const cluster = merged.clusters.get(selected.value.cluster);
  if (!cluster?.value.server) {
    throw new InputError('kubeconfig', `context '${current}' in ${selected.source} names no cluster with a server`, ACCEPTED);
  }
  const user = selected.value.user === undefined ? undefined : merged.users.get(selected.value.user);
  const warnings = checkCurrent(cluster, user);
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [...merged.clusters.values()].map((e) => e.value),
    users: [...merged.users.values()].map((e) => e.value.user),
    contexts: [...merged.contexts.values()].map((e) => e.value),
    currentContext: current,
  });
  const proxies = [...config.getClusters().map((c) => c.proxyUrl ?? ''), ...Object.values(proxySettingsFromEnv(env))];
  // A password in a server URL (https://user:password@host:6443) is a credential like any other.
  const servers = config.getClusters().map((c) => c.server);
  const secrets = [...secretsOf(config.getUsers(), input), ...[...proxies, ...servers].flatMap(proxySecrets)];
  const tokenFile = user?.value.tokenFile;
  const impersonate = user?.value.impersonate;
  return { config, source, secrets: [...new Set(secrets)], warnings, ...(tokenFile ? { tokenFile } : {}), ...(impersonate ? { impersonate } : {}) };
}

/**
 * The input; else the one file given (the CLI's --kubeconfig, like kubectl's: that file alone,
 * whatever its name holds, ':' included); else every file KUBECONFIG lists that exists (kubectl
 * skips empty and missing entries, and then does not look at ~/.kube/config); else ~/.kube/config.
 */
function locate(input: string, env: NodeJS.ProcessEnv, file: string | undefined): Array<{ text: string; source: string; folder: string | undefined }> {
  if (input.trim() !== '') return [{ text: input, source: "the 'kubeconfig' input", folder: undefined }];
  if (file !== undefined) {
    if (!existsSync(file)) throw new InputError('kubeconfig', `file ${file} does not exist`, ACCEPTED);
    return [{ text: readFileSync(file, 'utf8'), source: file, folder: dirname(resolve(file)) }];
  }
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  const candidates = listed.length ? [...new Set(listed)] : [join(env.HOME ?? homedir(), '.kube', 'config')];
  const found = candidates.filter((path) => existsSync(path));
  if (found.length === 0) {
    throw new InputError('kubeconfig', `is empty and no kubeconfig file was found (looked at ${candidates.join(', ')})`, ACCEPTED);
  }
  return found.map((path) => ({ text: readFileSync(path, 'utf8'), source: path, folder: dirname(resolve(path)) }));
}

function decode(text: string, source: string): Record<string, unknown> {
  const trimmed = text.trim();
  const direct = asKubeconfig(trimmed);
  if (direct) return direct;
  if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) {
    const decoded = asKubeconfig(Buffer.from(trimmed.replace(/\s+/g, ''), 'base64').toString('utf8'));
    if (decoded) return decoded;
    throw new InputError('kubeconfig', `${source} is base64 but does not decode to a kubeconfig`, ACCEPTED);
  }
  throw new InputError('kubeconfig', `${source} is neither kubeconfig YAML nor base64`, ACCEPTED);
}

function asKubeconfig(text: string): Record<string, unknown> | undefined {
  try {
    const doc: unknown = parseYaml(text);
    const isConfig = typeof doc === 'object' && doc !== null && !Array.isArray(doc) && KUBECONFIG_KEYS.some((key) => key in doc);
    return isConfig ? (doc as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function secretsOf(users: readonly User[], input: string): string[] {
  const secrets = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === 'string' && value.length >= 8) secrets.add(value);
  };
  add(input.trim());
  for (const user of users) {
    add(user.token);
    add(user.password);
    add(user.keyData);
    add(user.certData);
    if (user.keyData) add(Buffer.from(user.keyData, 'base64').toString('utf8'));
  }
  return [...secrets];
}
