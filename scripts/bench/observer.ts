// The benchmark's own eyes: one CSR watch and one Node watch in the bench process, timing with
// performance.now() the moment each CSR is first seen Approved and each Node first seen Ready.
// The work of this watch (socket reads, JSON parsing, bookkeeping) is metered separately so the
// report can show it is not what the figures measure.
import https from 'node:https';
import { performance } from 'node:perf_hooks';

const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const NODE_PATH = '/api/v1/nodes';

interface Endpoint { url: string; caPem: string; token: string }

/* eslint-disable @typescript-eslint/no-explicit-any */
export class Observer {
  /** CSR name -> performance.now() when the watch first delivered it */
  readonly seen = new Map<string, number>();
  /** CSR name -> performance.now() when the watch first delivered it with an Approved condition */
  readonly approved = new Map<string, number>();
  /** CSR name -> performance.now() when status.certificate first appeared */
  readonly issued = new Map<string, number>();
  /** Node name -> performance.now() when first seen Ready=True */
  readonly ready = new Map<string, number>();
  #cpuMicros = 0;
  #stopped = false;
  readonly #agent: https.Agent;
  readonly #endpoint: Endpoint;
  readonly #requests = new Set<ReturnType<typeof https.request>>();
  readonly #loops: Promise<void>[] = [];

  constructor(endpoint: Endpoint) {
    this.#endpoint = endpoint;
    this.#agent = new https.Agent({ keepAlive: true, ca: endpoint.caPem });
  }

  get cpuMs(): number {
    return this.#cpuMicros / 1000;
  }

  /** Lists, then watches from the list's resourceVersion; resolves once both watches are open. */
  async start(): Promise<void> {
    const opened: Promise<void>[] = [];
    for (const [path, onObject] of [[CSR_PATH, (o: any, t: number) => this.#onCsr(o, t)], [NODE_PATH, (o: any, t: number) => this.#onNode(o, t)]] as const) {
      const list = await this.#get(path);
      const now = performance.now();
      for (const item of list.items ?? []) onObject(item, now);
      let open!: () => void;
      opened.push(new Promise<void>((resolve) => (open = resolve)));
      this.#loops.push(this.#watchLoop(path, list.metadata.resourceVersion, onObject, open));
    }
    await Promise.all(opened);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const r of this.#requests) r.destroy();
    await Promise.all(this.#loops);
    this.#agent.destroy();
  }

  #meter<T>(fn: () => T): T {
    const before = process.cpuUsage();
    try {
      return fn();
    } finally {
      const d = process.cpuUsage(before);
      this.#cpuMicros += d.user + d.system;
    }
  }

  #onCsr(csr: any, t: number): void {
    const name: string = csr.metadata.name;
    if (!this.seen.has(name)) this.seen.set(name, t);
    const conditions: any[] = csr.status?.conditions ?? [];
    if (!this.approved.has(name) && conditions.some((c) => c.type === 'Approved' && c.status !== 'False')) this.approved.set(name, t);
    if (!this.issued.has(name) && csr.status?.certificate) this.issued.set(name, t);
  }

  #onNode(node: any, t: number): void {
    const name: string = node.metadata.name;
    if (this.ready.has(name)) return;
    if ((node.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')) this.ready.set(name, t);
  }

  async #watchLoop(path: string, resourceVersion: string, onObject: (o: any, t: number) => void, open: () => void): Promise<void> {
    let rv = resourceVersion;
    while (!this.#stopped) {
      const result = await this.#watchOnce(path, rv, onObject, open, (v) => (rv = v));
      if (this.#stopped) break;
      if (result === 'gone') {
        const list = await this.#get(path).catch(() => undefined);
        if (!list) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        const now = performance.now();
        for (const item of list.items ?? []) this.#meter(() => onObject(item, now));
        rv = list.metadata.resourceVersion;
      }
    }
  }

  #watchOnce(path: string, rv: string, onObject: (o: any, t: number) => void, open: () => void, setRv: (rv: string) => void): Promise<'ended' | 'gone'> {
    return new Promise((resolve) => {
      let gone = false;
      const url = new URL(`${path}?watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(rv)}`, this.#endpoint.url);
      const req = https.request(url, { agent: this.#agent, headers: { Authorization: `Bearer ${this.#endpoint.token}`, Accept: 'application/json' } }, (res) => {
        open();
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const t = performance.now();
          this.#meter(() => {
            buffered += chunk;
            let nl: number;
            while ((nl = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, nl);
              buffered = buffered.slice(nl + 1);
              if (!line.trim()) continue;
              const ev = JSON.parse(line);
              if (ev.type === 'ERROR') {
                gone = true;
                continue;
              }
              if (ev.object?.metadata?.resourceVersion) setRv(ev.object.metadata.resourceVersion);
              if (ev.type === 'ADDED' || ev.type === 'MODIFIED') onObject(ev.object, t);
            }
          });
        });
        const end = () => {
          this.#requests.delete(req);
          resolve(gone || (res.statusCode ?? 0) >= 300 ? 'gone' : 'ended');
        };
        res.on('end', end);
        res.on('close', end);
        res.on('error', end);
      });
      this.#requests.add(req);
      req.on('error', () => {
        this.#requests.delete(req);
        setTimeout(() => resolve('ended'), 100);
      });
      req.end();
    });
  }

  #get(path: string): Promise<any> {
    return new Promise((resolve, reject) => {
      const req = https.request(new URL(path, this.#endpoint.url), { agent: this.#agent, headers: { Authorization: `Bearer ${this.#endpoint.token}`, Accept: 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            if ((res.statusCode ?? 0) >= 300) throw new Error(`GET ${path}: ${res.statusCode}`);
            resolve(this.#meter(() => JSON.parse(Buffer.concat(chunks).toString('utf8'))));
          } catch (e) {
            reject(e);
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }
}
