// One simulated machine: the kubelet's TLS bootstrap and certificate manager as seen from the API.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { X509Certificate } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { buildCsr } from './csr-builder.ts';
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import { BOOTSTRAPPER, SIGNER, StoppedError, call, csrObject, isStatus, k8sTime, kubeletUsages, nodeIdentity, sleep } from './common.ts';
import type { Identity, SimContext } from './common.ts';
import { csrCondition } from './csr-watch.ts';
import type { CsrWatch } from './csr-watch.ts';

export interface KubeletOptions {
  /** node name; also the DNS name in the serving certificate */
  name: string;
  /** IP addresses (10.0.0.0/8 or 2001:db8::/32 data only, never contacted) */
  addresses: string[];
  /** A CSR not issued within this time is abandoned for a new one with a new key. Default 15 min. */
  reRequestAfterMs?: number;
  /**
   * Client CSRs pending once the machine has started, oldest first, as on a machine that has
   * waited through N - 1 timeouts: only the newest is live, the older ones' keys are gone.
   * Default 1.
   */
  preexistingClientCsrs?: number;
  /** Gap between those. Default 1100 ms, so their creationTimestamps (whole seconds) differ. */
  preexistingGapMs?: number;
  labels?: Record<string, string>;
  /** The kubelet's key: ECDSA (the default) files the two-usage sets, RSA the legacy sets. */
  keyType?: 'ec' | 'rsa';
}

export type KubeletPhase = 'off' | 'client-pending' | 'registering' | 'serving-pending' | 'ready' | 'stopped' | 'failed';

/** Date.now() of the first time each step happened (the approval and issue of the live CSR). */
export interface KubeletTimes {
  started?: number;
  clientCsrCreated?: number;
  clientApproved?: number;
  clientIssued?: number;
  nodeRegistered?: number;
  servingCsrCreated?: number;
  servingApproved?: number;
  servingIssued?: number;
  ready?: number;
}

type CertKind = 'client' | 'serving';


export class Kubelet {
  readonly name: string;
  readonly addresses: readonly string[];
  phase: KubeletPhase = 'off';
  readonly times: KubeletTimes = {};
  /** every client CSR filed, oldest first; the last one is the one the kubelet waits on */
  readonly clientCsrs: string[] = [];
  readonly servingCsrs: string[] = [];
  readonly certificates: { client?: string; serving?: string } = {};
  /** set when a step failed for good (a non-retryable API error) */
  error: Error | undefined;

  readonly #ctx: SimContext;
  readonly #csrs: CsrWatch;
  readonly #opts: KubeletOptions;
  #live: { name: string; kind: CertKind } | undefined;
  #reRequestTimer: NodeJS.Timeout | undefined;
  readonly #approvalsSeen = new Set<string>();
  #stopped = false;
  readonly #ready: Promise<void>;
  #resolveReady: () => void = () => {};
  #rejectReady: (e: Error) => void = () => {};

  constructor(ctx: SimContext, csrs: CsrWatch, opts: KubeletOptions) {
    this.#ctx = ctx;
    this.#csrs = csrs;
    this.#opts = opts;
    this.name = opts.name;
    this.addresses = opts.addresses;
    this.#ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.#ready.catch(() => {});
  }

  /** The CSR the kubelet currently waits on. */
  get liveCsr(): string | undefined {
    return this.#live?.name;
  }

  get reRequestAfterMs(): number {
    return this.#opts.reRequestAfterMs ?? 15 * 60_000;
  }

  /** Boots the machine; resolves once its live client CSR is filed. */
  async start(): Promise<void> {
    if (this.phase !== 'off') return;
    this.phase = 'client-pending';
    this.times.started = Date.now();
    try {
      const stale = (this.#opts.preexistingClientCsrs ?? 1) - 1;
      for (let i = 0; i < stale; i++) {
        await this.#file('client', { stale: true });
        await sleep(this.#opts.preexistingGapMs ?? 1100);
      }
      await this.#file('client');
    } catch (e) {
      this.#fail(e);
      throw e;
    }
  }

  /** Resolves when the Node is Ready (both certificates issued); rejects if the kubelet failed. */
  whenReady(): Promise<void> {
    return this.#ready;
  }

  stop(): void {
    this.#stopped = true;
    if (this.phase !== 'ready' && this.phase !== 'failed') this.phase = 'stopped';
    clearTimeout(this.#reRequestTimer);
    for (const name of [...this.clientCsrs, ...this.servingCsrs]) this.#csrs.off(name);
    this.#rejectReady(new StoppedError());
  }

  async #file(kind: CertKind, opts: { stale?: boolean } = {}): Promise<void> {
    const identity = kind === 'client' ? BOOTSTRAPPER : await this.#servingIdentity();
    const keyType = this.#opts.keyType ?? 'ec';
    const body = this.#ctx.meter.track(() => {
      // As a real kubelet (checked against one in real-kubelets.test.ts): DNS names then IPs,
      // each sorted, IPs by their text.
      const spec =
        kind === 'client'
          ? { commonName: `system:node:${this.name}`, organizations: ['system:nodes'], keyType }
          : { commonName: `system:node:${this.name}`, organizations: ['system:nodes'], dnsNames: [this.name], ipAddresses: sortedByText(this.addresses), keyType };
      const { pem } = buildCsr(spec);
      return csrObject(pem, kind === 'client' ? SIGNER.kubeletClient : SIGNER.kubeletServing, kubeletUsages(kind, keyType));
    });
    const created = await call<any>(this.#ctx, 'POST', PATHS.csrs, { body, impersonate: identity, stopped: () => this.#stopped });
    const name: string = created.metadata.name;
    (kind === 'client' ? this.clientCsrs : this.servingCsrs).push(name);
    const key = kind === 'client' ? 'clientCsrCreated' : 'servingCsrCreated';
    this.times[key] ??= Date.now();
    this.#ctx.log.emit(`${kind}-csr-created`, this.name, { csr: name, detail: opts.stale ? 'abandoned' : undefined });
    if (!opts.stale) {
      this.#live = { name, kind };
      clearTimeout(this.#reRequestTimer);
      this.#reRequestTimer = setTimeout(() => this.#reRequest(kind), this.reRequestAfterMs);
    }
    this.#csrs.on(name, (csr) => this.#ctx.meter.track(() => this.#onCsr(csr)));
  }

  // The certificate manager gives up on a CSR after its timeout and starts over with a new key.
  #reRequest(kind: CertKind): void {
    if (this.#stopped || this.#live?.kind !== kind) return;
    this.#ctx.log.emit('re-request', this.name, { csr: this.#live.name, detail: `${kind} CSR not issued within ${this.reRequestAfterMs} ms` });
    this.#file(kind).catch((e) => this.#fail(e));
  }

  #onCsr(csr: any): void {
    if (this.#stopped) return;
    const name: string = csr.metadata.name;
    const live = this.#live?.name === name ? this.#live : undefined;
    if (csrCondition(csr, 'Approved') && !this.#approvalsSeen.has(name)) {
      this.#approvalsSeen.add(name);
      if (!live) {
        this.#ctx.log.emit('stale-csr-approved', this.name, { csr: name });
      } else {
        this.times[live.kind === 'client' ? 'clientApproved' : 'servingApproved'] ??= Date.now();
        this.#ctx.log.emit(`${live.kind}-csr-approved`, this.name, { csr: name });
      }
    }
    if (!live) return;
    for (const type of ['Denied', 'Failed'] as const) {
      const c = csrCondition(csr, type);
      if (c && !this.#approvalsSeen.has(`${type}:${name}`)) {
        this.#approvalsSeen.add(`${type}:${name}`);
        this.#ctx.log.emit(type === 'Denied' ? 'csr-denied' : 'csr-failed', this.name, { csr: name, detail: c.message });
      }
    }
    const certificate: string | undefined = csr.status?.certificate;
    if (!certificate) return;
    clearTimeout(this.#reRequestTimer);
    this.#live = undefined;
    const pem = Buffer.from(certificate, 'base64').toString('utf8');
    if (live.kind === 'client' && this.phase === 'client-pending') {
      this.certificates.client = pem;
      this.times.clientIssued = Date.now();
      this.#ctx.log.emit('client-csr-issued', this.name, { csr: name });
      this.phase = 'registering';
      this.#register().catch((e) => this.#fail(e));
    } else if (live.kind === 'serving' && this.phase === 'serving-pending') {
      this.certificates.serving = pem;
      this.times.servingIssued = Date.now();
      this.#ctx.log.emit('serving-csr-issued', this.name, { csr: name });
      this.#setReady().catch((e) => this.#fail(e));
    }
  }

  /**
   * The identity the API server gives the kubelet's client certificate: since 1.32 it carries the
   * certificate's fingerprint as `extra` (authentication.kubernetes.io/credential-id).
   */
  async #servingIdentity(): Promise<Identity & { extra?: Record<string, string[]> }> {
    const identity = nodeIdentity(this.name);
    if (!this.certificates.client || (await serverMinor(this.#ctx)) < 32) return identity;
    const fingerprint = new X509Certificate(this.certificates.client).fingerprint256.replaceAll(':', '').toLowerCase();
    return { ...identity, extra: { 'authentication.kubernetes.io/credential-id': [`X509SHA256=${fingerprint}`] } };
  }

  // As the kubelet does, with its own client certificate's identity: the Node authorizer and
  // NodeRestriction let it create its own Node and write its own status, nothing more.
  async #register(): Promise<void> {
    const stopped = () => this.#stopped;
    const impersonate = nodeIdentity(this.name);
    const labels = { 'kubernetes.io/hostname': this.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...this.#opts.labels };
    // NodeRestriction refuses node-role.kubernetes.io/* from a node: the cluster sets the role.
    const selfSettable = Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith('node-role.kubernetes.io/')));
    const role = { 'node-role.kubernetes.io/worker': '', ...labels };
    try {
      await call(this.#ctx, 'POST', PATHS.nodes, { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: this.name, labels: selfSettable } }, impersonate, stopped });
    } catch (e) {
      if (!isStatus(e, 409)) throw e; // a Node left from an earlier life of this machine is reused
    }
    await call(this.#ctx, 'PATCH', objectPath(PATHS.nodes, this.name), { body: { metadata: { labels: role } }, contentType: 'application/merge-patch+json', stopped });
    await this.#patchStatus({
      addresses: [...this.addresses.map((a) => ({ type: 'InternalIP', address: a })), { type: 'Hostname', address: this.name }],
      conditions: [readyCondition(false)],
    });
    this.times.nodeRegistered = Date.now();
    this.#ctx.log.emit('node-registered', this.name);
    // The serving CSR comes only once the Node has its addresses.
    this.phase = 'serving-pending';
    await this.#file('serving');
  }

  async #setReady(): Promise<void> {
    await this.#patchStatus({ conditions: [readyCondition(true)] });
    this.phase = 'ready';
    this.times.ready = Date.now();
    this.#ctx.log.emit('ready', this.name);
    this.#resolveReady();
  }

  #patchStatus(status: object): Promise<unknown> {
    return call(this.#ctx, 'PATCH', `${objectPath(PATHS.nodes, this.name)}/status`, {
      body: { status },
      contentType: 'application/merge-patch+json',
      impersonate: nodeIdentity(this.name),
      stopped: () => this.#stopped,
    });
  }

  #fail(e: unknown): void {
    if (e instanceof StoppedError || this.#stopped) return;
    this.error = e as Error;
    this.phase = 'failed';
    clearTimeout(this.#reRequestTimer);
    this.#ctx.log.emit('error', this.name, { detail: (e as Error).message });
    this.#rejectReady(e as Error);
  }
}

function readyCondition(ready: boolean): object {
  const now = k8sTime();
  return ready
    ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }
    : {
        type: 'Ready',
        status: 'False',
        reason: 'KubeletNotReady',
        message: 'container runtime network not ready: NetworkReady=false',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      };
}

/** Go's net.IP.String order, what the kubelet sorts its IP SANs by (IPv6 compressed, lower case). */
function sortedByText(ips: readonly string[]): string[] {
  const text = (ip: string) => (isIPv6(ip) ? new URL(`http://[${ip}]`).hostname.slice(1, -1) : ip);
  return [...ips].sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}

const minors = new WeakMap<SimContext, Promise<number>>();

/** The API server's minor version, asked once per simulation. */
function serverMinor(ctx: SimContext): Promise<number> {
  let minor = minors.get(ctx);
  if (!minor) {
    minor = call<{ minor: string }>(ctx, 'GET', '/version').then((v) => parseInt(v.minor, 10));
    minors.set(ctx, minor);
  }
  return minor;
}
