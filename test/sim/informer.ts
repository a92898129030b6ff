// List-then-watch with re-watch and re-list, the way client-go's reflector does it: one stream
// per resource for the whole simulator, whatever the number of machines.
/* eslint-disable @typescript-eslint/no-explicit-any */
import type { Watch } from '../env/client.ts';
import { sleep } from './common.ts';
import type { SimContext } from './common.ts';

export type InformerEvent = 'ADDED' | 'MODIFIED' | 'DELETED';

export class Informer {
  readonly #ctx: SimContext;
  readonly #path: string;
  readonly #onEvent: (type: InformerEvent, obj: any) => void;
  /** name -> resourceVersion of every object seen, to report only changes after a re-list */
  readonly #known = new Map<string, string>();
  #resourceVersion = '';
  #watch: Watch | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  /** how many times the stream was reopened (server timeouts, restarts) */
  restarts = 0;
  relists = 0;

  constructor(ctx: SimContext, path: string, onEvent: (type: InformerEvent, obj: any) => void) {
    this.#ctx = ctx;
    this.#path = path;
    this.#onEvent = onEvent;
  }

  /** Resolves once the initial list has been delivered; the watch then runs until stop(). */
  async start(): Promise<void> {
    await this.#relist();
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watch?.stop();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let needRelist = false;
    while (!this.#stopped) {
      if (needRelist) {
        try {
          await this.#relist();
          needRelist = false;
        } catch (e) {
          this.#ctx.log.emit('error', 'informer', { detail: `re-list ${this.#path}: ${(e as Error).message}` });
          await sleep(500);
          continue;
        }
      }
      const opened = Date.now();
      let gone = false;
      this.#watch = this.#ctx.client.watch(
        this.#path,
        (type, obj) =>
          this.#ctx.meter.track(() => {
            if (type === 'ERROR') {
              // a Status inside the stream, typically 410 Gone after compaction or a restart
              gone = true;
              return;
            }
            const rv: string | undefined = obj?.metadata?.resourceVersion;
            if (rv) this.#resourceVersion = rv;
            if (type === 'BOOKMARK') return;
            this.#deliver(type as InformerEvent, obj);
          }),
        { resourceVersion: this.#resourceVersion },
      );
      await this.#watch.done;
      if (this.#stopped) break;
      this.restarts++;
      needRelist = gone;
      // a stream that ends at once means the server is away: do not spin
      if (Date.now() - opened < 1000) await sleep(250);
    }
  }

  async #relist(): Promise<void> {
    const list = await this.#ctx.client.request<{ metadata: { resourceVersion: string }; items: any[] }>('GET', this.#path);
    this.relists++;
    this.#ctx.meter.track(() => {
      const present = new Set<string>();
      for (const item of list.items) {
        present.add(item.metadata.name);
        this.#deliver(this.#known.has(item.metadata.name) ? 'MODIFIED' : 'ADDED', item);
      }
      for (const name of [...this.#known.keys()]) {
        if (!present.has(name)) this.#deliver('DELETED', { metadata: { name } });
      }
      this.#resourceVersion = list.metadata.resourceVersion;
    });
  }

  #deliver(type: InformerEvent, obj: any): void {
    const name: string = obj.metadata.name;
    if (type === 'DELETED') {
      this.#known.delete(name);
    } else {
      if (this.#known.get(name) === obj.metadata.resourceVersion) return;
      this.#known.set(name, obj.metadata.resourceVersion);
    }
    try {
      this.#onEvent(type, obj);
    } catch (e) {
      this.#ctx.log.emit('error', 'informer', { detail: `handler for ${name}: ${(e as Error).message}` });
    }
  }
}
