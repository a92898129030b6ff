import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { Credential, CredentialSource } from './credentials.ts';
import { maskProxyUrl, type ProxyChoice } from './proxy.ts';

/**
 * The one way requests reach the API server: node:https over one keep-alive agent (tunnelled
 * through an HTTP CONNECT proxy when one applies), with the credential of the moment. Lists,
 * watches, approvals and patches all take it. client-node's own fetch path was measured at
 * about 2.5 times the CPU per approval (BENCHMARKS.md) and honoured no proxy environment.
 * A refused request keeps the shape of client-node's ApiException (code, body, headers), so
 * errors.ts and retry-policy.ts read it the same way.
 */
export interface TlsSettings {
  readonly ca?: Buffer | string;
  readonly cert?: Buffer | string;
  readonly key?: Buffer | string;
  readonly rejectUnauthorized?: boolean;
  /** The kubeconfig's tls-server-name: the name sent as SNI and checked in the certificate. */
  readonly servername?: string;
}

export interface TransportOptions {
  readonly server: string;
  readonly tls: TlsSettings;
  /** Sent with every request; a list is sent as one header line per value (Impersonate-Group). */
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly credentials: CredentialSource;
  readonly proxy: ProxyChoice | undefined;
  readonly requestTimeoutMs: number;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
}

export interface WatchHandle {
  stop(): void;
}

/**
 * A proxy that would not open the tunnel. Its own refusal (4xx: forbidden, authentication
 * required) is final; a 5xx (it could not reach the API server) is a lost connection like any other.
 */
export class ProxyError extends Error {
  override readonly name = 'ProxyError';
  readonly proxyStatus: number;
  constructor(message: string, proxyStatus: number) {
    super(message);
    this.proxyStatus = proxyStatus;
  }
}

export class Transport {
  private readonly options: TransportOptions;
  private readonly base: URL;
  private agent: http.Agent | undefined;
  /** The client certificate the agent was built with (an exec plugin may change it). */
  private agentCert: string | undefined;

  constructor(options: TransportOptions) {
    this.options = options;
    this.base = new URL(options.server.replace(/\/+$/, ''));
  }

  /** "through proxy http://***@host:port (HTTPS_PROXY)", or '' when connecting directly. */
  describeProxy(): string {
    const proxy = this.options.proxy;
    return proxy ? `through proxy ${maskProxyUrl(proxy.url.href.replace(/\/$/, ''))} (${proxy.source})` : '';
  }

  /** One JSON request; resolves to the parsed body. A 401 refreshes the credential and is sent once more. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const { response, credential } = await this.send(method, path, options);
      const text = await readBody(response);
      const status = response.statusCode ?? 0;
      if (status >= 200 && status < 300) return text ? JSON.parse(text) : undefined;
      if (status === 401 && attempt === 0 && this.options.credentials.invalidate(credential)) continue;
      throw apiError(status, text, response.headers);
    }
  }

  /** A watch stream: every line is one event; done() once when it ends (no error when the server closed it). */
  async watch(path: string, onEvent: (type: string, object: unknown) => void, done: (error: unknown) => void, idleMs: number): Promise<WatchHandle> {
    const controller = new AbortController();
    for (let attempt = 0; ; attempt++) {
      const { response, credential } = await this.send('GET', path, { signal: controller.signal }, idleMs);
      const status = response.statusCode ?? 0;
      if (status !== 200) {
        const text = await readBody(response);
        if (status === 401 && attempt === 0 && this.options.credentials.invalidate(credential)) continue;
        throw apiError(status, text, response.headers);
      }
      let ended = false;
      const end = (error: unknown) => {
        if (ended) return;
        ended = true;
        done(error);
      };
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (!line) continue;
          try {
            const event = JSON.parse(line) as { type?: string; object?: unknown };
            onEvent(String(event.type), event.object);
          } catch (error) {
            response.destroy(error as Error);
          }
        }
      });
      response.on('end', () => end(undefined));
      response.on('error', end);
      response.on('close', () => end(controller.signal.aborted ? controller.signal.reason : new Error('watch connection closed')));
      return { stop: () => controller.abort() };
    }
  }

  private async send(method: string, path: string, options: RequestOptions, idleMs?: number): Promise<{ response: http.IncomingMessage; credential: Credential }> {
    const credential = await this.options.credentials.current();
    const agent = this.agentFor(credential.cert, credential.key);
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    const secure = url.protocol === 'https:';
    // A watch is bounded by its idle timer, every other request by the request timeout.
    const timeout = idleMs === undefined ? AbortSignal.timeout(this.options.requestTimeoutMs) : undefined;
    const signal = [timeout, options.signal].filter((s): s is AbortSignal => s !== undefined);
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(url, {
        method,
        agent,
        signal: signal.length > 1 ? AbortSignal.any(signal) : signal[0],
        headers: {
          ...this.options.headers,
          ...(credential.authorization ? { Authorization: credential.authorization } : {}),
          Accept: 'application/json',
          'User-Agent': 'openshift-finish-install',
          ...(payload === undefined ? {} : { 'Content-Type': options.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(payload) }),
        },
      });
      if (idleMs !== undefined) {
        req.setTimeout(idleMs, () => req.destroy(Object.assign(new Error(`no data for ${Math.round(idleMs / 1000)} s`), { name: 'TimeoutError' })));
      }
      req.on('response', (response) => resolve({ response, credential }));
      req.on('error', reject);
      req.end(payload);
    });
  }

  private agentFor(cert: string | undefined, key: string | undefined): http.Agent {
    // A new certificate from an exec plugin: later requests use a new pool; the old one's
    // requests finish and its idle connections are closed by the server.
    if (this.agent && this.agentCert === cert) return this.agent;
    const secure = this.base.protocol === 'https:';
    // One TLS context per agent, not one per connection: tls.connect would otherwise parse the
    // CA and the key again for every socket, and the native memory of each parse stays with the
    // allocator (a micro-test: 3,000 connections grew RSS by 58 MiB that way, 29 MiB with one).
    const material = { ...this.options.tls, ...(cert ? { cert, key } : {}) };
    const settings = secure ? { ...material, secureContext: tls.createSecureContext(material) } : material;
    const agentOptions = { keepAlive: true, ...settings };
    const agent = secure ? new https.Agent(agentOptions) : new http.Agent({ keepAlive: true });
    const proxy = this.options.proxy;
    if (proxy) {
      // node:http's Agent takes a socket from createConnection's callback when it returns nothing.
      // The options it passes are the agent's and the request's merged, TLS ones included
      // (servername, a cached session): tls.connect takes them as they are, over the tunnel.
      agent.createConnection = (connectOptions, callback) => {
        openTunnel(proxy, String(connectOptions.host), Number(connectOptions.port), this.options.requestTimeoutMs).then(
          (socket) => callback?.(null, secure ? tls.connect({ ...(connectOptions as tls.ConnectionOptions), ...settings, socket }) : socket),
          (error: Error) => callback?.(error, undefined as never),
        );
        return undefined;
      };
    }
    this.agent = agent;
    this.agentCert = cert;
    return agent;
  }
}

/** CONNECT host:port at the proxy; resolves to the tunnel's socket. */
function openTunnel(proxy: ProxyChoice, host: string, port: number, timeoutMs: number): Promise<import('node:net').Socket> {
  const masked = maskProxyUrl(proxy.url.href.replace(/\/$/, ''));
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const auth = proxy.url.username ? Buffer.from(`${decodeURIComponent(proxy.url.username)}:${decodeURIComponent(proxy.url.password)}`).toString('base64') : undefined;
  return new Promise((resolve, reject) => {
    const req = (proxy.url.protocol === 'https:' ? https : http).request({
      host: proxy.url.hostname.replace(/^\[|\]$/g, ''),
      port: proxy.url.port || (proxy.url.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: authority,
      agent: false,
      headers: { Host: authority, ...(auth ? { 'Proxy-Authorization': `Basic ${auth}` } : {}) },
      timeout: timeoutMs,
    });
    req.on('connect', (res, socket) => {
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(new ProxyError(`proxy ${masked} (${proxy.source}) refused the tunnel to ${authority}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim(), res.statusCode ?? 0));
    });
    req.on('response', (res) => {
      res.resume();
      reject(new ProxyError(`proxy ${masked} (${proxy.source}) answered CONNECT ${authority} with HTTP ${res.statusCode}`, res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`proxy ${masked} (${proxy.source}) did not answer CONNECT ${authority} within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) =>
      reject(Object.assign(new Error(`cannot connect to proxy ${masked} (${proxy.source}): ${error.code ?? error.message}`), { code: error.code })),
    );
    req.end();
  });
}

/** The body as text, decoded as it arrives: no native copy of a whole list per poll. */
function readBody(response: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    response.on('error', reject);
    response.on('end', () => resolve(text));
  });
}

function apiError(status: number, body: string, headers: http.IncomingHttpHeaders): Error {
  return Object.assign(new Error(`HTTP ${status}`), { code: status, body, headers });
}
