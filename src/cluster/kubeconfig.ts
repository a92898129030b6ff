import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../settings/settings.ts';
import { proxySecrets, proxySettingsFromEnv } from './proxy.ts';

const ACCEPTED = 'kubeconfig YAML, or the same base64-encoded; or empty to use KUBECONFIG, then ~/.kube/config';

export interface LoadedKubeConfig {
  readonly config: KubeConfig;
  /** Where it came from, for the log (never the content). */
  readonly source: string;
  /** Values to mask in every log line. */
  readonly secrets: readonly string[];
  /**
   * The current user's `tokenFile` (kubectl's key; client-node reads none), as an absolute path:
   * a relative one is relative to the kubeconfig file, as client-go resolves it.
   */
  readonly tokenFile?: string;
}

/**
 * Loads the kubeconfig from the input, KUBECONFIG or ~/.kube/config, and selects the context.
 * Unlike KubeConfig.loadFromDefault it never falls back to http://localhost:8080.
 */
export function loadKubeConfig(input: string, context: string, env: NodeJS.ProcessEnv = process.env): LoadedKubeConfig {
  const { text, source } = locate(input, env);
  const document = decode(text, source);
  const config = new KubeConfig();
  try {
    config.loadFromString(document);
  } catch (error) {
    throw new InputError('kubeconfig', `${source} is not a usable kubeconfig (${(error as Error).message.split('\n')[0]})`, ACCEPTED);
  }
  if (context !== '') {
    if (!config.getContextObject(context)) {
      const known = config.getContexts().map((c) => c.name);
      throw new InputError('context', `context '${context}' is not in ${source}`, known.length ? known.join(', ') : 'a context defined in the kubeconfig');
    }
    config.setCurrentContext(context);
  }
  const current = config.getCurrentContext();
  if (!current || !config.getContextObject(current)) {
    throw new InputError(context ? 'context' : 'kubeconfig', `${source} has no current-context`, 'set current-context in the kubeconfig, or the context input');
  }
  const cluster = config.getCurrentCluster();
  if (!cluster?.server) {
    throw new InputError('kubeconfig', `context '${current}' in ${source} names no cluster with a server`, ACCEPTED);
  }
  const tokenFile = tokenFileOf(document, config.getCurrentUser()?.name, source);
  const proxies = [...config.getClusters().map((c) => c.proxyUrl ?? ''), ...Object.values(proxySettingsFromEnv(env))];
  return { config, source, secrets: [...secretsOf(config, input), ...proxies.flatMap(proxySecrets)], ...(tokenFile ? { tokenFile } : {}) };
}

function tokenFileOf(document: string, user: string | undefined, source: string): string | undefined {
  const doc = parseYaml(document) as { users?: Array<{ name?: string; user?: { tokenFile?: unknown } }> } | null;
  const file = doc?.users?.find((u) => u.name === user)?.user?.tokenFile;
  if (typeof file !== 'string' || file === '') return undefined;
  if (isAbsolute(file)) return file;
  return existsSync(source) ? resolve(dirname(source), file) : resolve(file);
}

function locate(input: string, env: NodeJS.ProcessEnv): { text: string; source: string } {
  if (input.trim() !== '') return { text: input, source: "the 'kubeconfig' input" };
  const candidates = (env.KUBECONFIG ?? '')
    .split(delimiter)
    .filter((p) => p !== '')
    .concat(join(env.HOME ?? homedir(), '.kube', 'config'));
  for (const path of candidates) {
    if (existsSync(path)) return { text: readFileSync(path, 'utf8'), source: path };
  }
  throw new InputError('kubeconfig', `is empty and no kubeconfig file was found (looked at ${candidates.join(', ')})`, ACCEPTED);
}

function decode(text: string, source: string): string {
  const trimmed = text.trim();
  if (looksLikeKubeconfig(trimmed)) return trimmed;
  if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) {
    const decoded = Buffer.from(trimmed.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (looksLikeKubeconfig(decoded)) return decoded;
    throw new InputError('kubeconfig', `${source} is base64 but does not decode to a kubeconfig`, ACCEPTED);
  }
  throw new InputError('kubeconfig', `${source} is neither kubeconfig YAML nor base64`, ACCEPTED);
}

function looksLikeKubeconfig(text: string): boolean {
  try {
    const doc: unknown = parseYaml(text);
    return typeof doc === 'object' && doc !== null && ('clusters' in doc || 'contexts' in doc);
  } catch {
    return false;
  }
}

function secretsOf(config: KubeConfig, input: string): string[] {
  const secrets = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === 'string' && value.length >= 8) secrets.add(value);
  };
  add(input.trim());
  for (const user of config.getUsers()) {
    add(user.token);
    add(user.password);
    add(user.keyData);
    add(user.certData);
    if (user.keyData) add(Buffer.from(user.keyData, 'base64').toString('utf8'));
  }
  return [...secrets];
}
