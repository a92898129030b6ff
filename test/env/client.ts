// A small Kubernetes HTTPS client for the tests and the simulator (never used by the product,
// which talks to the cluster through its own transport in src/cluster/).
// Kubernetes objects are loosely typed here on purpose: tests read whatever fields they check.
/* eslint-disable @typescript-eslint/no-explicit-any */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  impersonate?: { user: string; groups?: string[]; extra?: Record<string, string[]> };
  /** Statuses that count as success for request(); default any 2xx. Ignored by requestRaw(). */
  okStatuses?: number[];
}

export class KubeApiError extends Error {
  status: number;
  body: string;
  reason?: string;

  constructor(method: string, path: string, status: number, body: string) {
    const parsed = parseStatus(body);
    super(`${method} ${path}: ${status}${parsed.reason ? ` ${parsed.reason}` : ''}: ${parsed.message ?? body.slice(0, 500)}`);
    this.name = 'KubeApiError';
    this.status = status;
    this.body = body;
    if (parsed.reason) this.reason = parsed.reason;
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface Watch {
  stop(): void;
  /** Resolves when the watch ends: after stop(), when the server closes the stream, or on a network error. Never rejects. */
  done: Promise<void>;
}

export interface KubeClient {
  /** JSON in and out (a text body, as a 404 for an unknown kind has, comes back as text); throws KubeApiError on a status outside okStatuses. */
  request<T = any>(method: string, path: string, opts?: RequestOptions): Promise<T>;
  /** Never throws for an HTTP status, only for network errors. */
  requestRaw(method: string, path: string, opts?: RequestOptions): Promise<RawResponse>;
  /**
   * Streams `?watch=1&allowWatchBookmarks=true` on a list path. A non-2xx answer to the watch
   * request is delivered as one `ERROR` event carrying the Status object (as the server does for
   * errors inside the stream, e.g. 410 Gone), then the watch ends.
   */
  watch(path: string, onEvent: (type: string, obj: any) => void, opts?: { resourceVersion?: string }): Watch;
  /** Create, or on 409 get and replace. Resolves the resource path through discovery. */
  apply(manifest: any): Promise<any>;
  withIdentity(token: string): KubeClient;
}

const REQUEST_TIMEOUT_MS = 30_000;

interface Shared {
  base: URL;
  agent: https.Agent;
  // group/version -> kind -> resource info, identity-independent
  discovery: Map<string, Promise<Map<string, { name: string; namespaced: boolean }>>>;
}

export function createClient(url: string, caPem: string, token: string): KubeClient {
  const shared: Shared = {
    base: new URL(url),
    agent: new https.Agent({ keepAlive: true, ca: caPem }),
    discovery: new Map(),
  };
  return new Client(shared, token);
}

/** Closes the keep-alive sockets of every client made from the same createClient() call. */
export function destroyClient(client: KubeClient): void {
  if (client instanceof Client) client.shared.agent.destroy();
}

class Client implements KubeClient {
  readonly shared: Shared;
  readonly #token: string;

  constructor(shared: Shared, token: string) {
    this.shared = shared;
    this.#token = token;
  }

  withIdentity(token: string): KubeClient {
    return new Client(this.shared, token);
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.requestRaw(method, path, opts);
    const ok = opts.okStatuses ? opts.okStatuses.includes(res.status) : res.status >= 200 && res.status < 300;
    if (!ok) throw new KubeApiError(method, path, res.status, res.body);
    // An accepted 404 for a kind the server does not serve has a text body ("404 page not found").
    const json = /\bjson\b/.test(String(res.headers['content-type'] ?? ''));
    return (res.body === '' ? undefined : json ? JSON.parse(res.body) : res.body) as T;
  }

  requestRaw(method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
    const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const headers = this.#headers(method, opts, payload);
    return new Promise((resolve, reject) => {
      const req = https.request(this.#url(path), { method, headers, agent: this.shared.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  watch(path: string, onEvent: (type: string, obj: any) => void, opts: { resourceVersion?: string } = {}): Watch {
    const params = new URLSearchParams({ watch: '1', allowWatchBookmarks: 'true' });
    if (opts.resourceVersion) params.set('resourceVersion', opts.resourceVersion);
    const full = `${path}${path.includes('?') ? '&' : '?'}${params}`;
    let stopped = false;
    let req: ReturnType<typeof https.request> | undefined;
    const done = new Promise<void>((resolve) => {
      req = https.request(this.#url(full), { method: 'GET', headers: this.#headers('GET', {}, undefined), agent: this.shared.agent }, (res) => {
        if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
          readAll(res).then((body) => {
            if (!stopped) onEvent('ERROR', parseJson(body) ?? { kind: 'Status', code: res.statusCode, message: body });
            resolve();
          }, () => resolve());
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line || stopped) continue;
            const ev = parseJson(line) as { type?: string; object?: unknown } | undefined;
            if (ev?.type) onEvent(ev.type, ev.object);
          }
        });
        res.on('end', () => resolve());
        res.on('close', () => resolve());
        res.on('error', () => resolve());
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.end();
    });
    return {
      stop: () => {
        stopped = true;
        req?.destroy();
      },
      done,
    };
  }

  async apply(manifest: any): Promise<any> {
    const { collection, item } = await this.#paths(manifest);
    try {
      return await this.request('POST', collection, { body: manifest });
    } catch (e) {
      if (!(e instanceof KubeApiError) || e.status !== 409) throw e;
    }
    for (let attempt = 0; ; attempt++) {
      const current = await this.request<{ metadata: { resourceVersion: string } }>('GET', item);
      const body = { ...manifest, metadata: { ...manifest.metadata, resourceVersion: current.metadata.resourceVersion } };
      try {
        return await this.request('PUT', item, { body });
      } catch (e) {
        if (!(e instanceof KubeApiError) || e.status !== 409 || attempt >= 5) throw e;
      }
    }
  }

  async #paths(manifest: { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } }): Promise<{ collection: string; item: string }> {
    const { apiVersion, kind } = manifest;
    const name = manifest.metadata?.name;
    if (!apiVersion || !kind || !name) throw new Error('apply: manifest needs apiVersion, kind and metadata.name');
    const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    let kinds = this.shared.discovery.get(apiVersion);
    if (!kinds) {
      kinds = this.request<{ resources: { name: string; kind: string; namespaced: boolean }[] }>('GET', prefix).then(
        (list) => new Map(list.resources.filter((r) => !r.name.includes('/')).map((r) => [r.kind, { name: r.name, namespaced: r.namespaced }])),
      );
      kinds.catch(() => this.shared.discovery.delete(apiVersion));
      this.shared.discovery.set(apiVersion, kinds);
    }
    const resource = (await kinds).get(kind);
    if (!resource) throw new Error(`apply: the server has no kind ${kind} in ${apiVersion}`);
    let collection = `${prefix}/${resource.name}`;
    if (resource.namespaced) {
      const ns = manifest.metadata?.namespace ?? 'default';
      collection = `${prefix}/namespaces/${encodeURIComponent(ns)}/${resource.name}`;
    }
    return { collection, item: `${collection}/${encodeURIComponent(name)}` };
  }

  #url(path: string): URL {
    return new URL(path, this.shared.base);
  }

  #headers(method: string, opts: RequestOptions, payload: string | undefined): Record<string, string | string[]> {
    const headers: Record<string, string | string[]> = {
      Authorization: `Bearer ${this.#token}`,
      Accept: 'application/json',
    };
    if (payload !== undefined) {
      headers['Content-Type'] = opts.contentType ?? (method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    if (opts.impersonate) {
      headers['Impersonate-User'] = opts.impersonate.user;
      if (opts.impersonate.groups?.length) headers['Impersonate-Group'] = opts.impersonate.groups;
      // the key percent-encoded (it may hold a '/'), as the API server decodes it
      for (const [key, values] of Object.entries(opts.impersonate.extra ?? {})) headers[`Impersonate-Extra-${encodeURIComponent(key)}`] = values;
    }
    return headers;
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseStatus(body: string): { reason?: string; message?: string } {
  const s = parseJson(body) as { kind?: string; reason?: string; message?: string } | undefined;
  return s && typeof s === 'object' && s.kind === 'Status' ? { reason: s.reason, message: s.message } : {};
}
