// The CLI's options as the inputs the core reads: --nodes-file is the inventory input, a file in
// any of its forms (re-read by the --watch service, see nodes-file.ts); --kubeconfig must name a
// readable file.
import { accessSync, constants, readFileSync } from 'node:fs';
import type { Log } from '../log.ts';
import type { InputName } from '../settings/inputs.ts';
import { parseInventory } from '../settings/inventory.ts';
import { InputError, type InputReader, type Settings } from '../settings/settings.ts';
import { NodesFileReload } from './nodes-file.ts';
import { optionName, type CliOptions } from './options.ts';

export interface CliInputs {
  readonly read: InputReader;
  /**
   * The nodes file's machines, when it changed, is usable, and has kept that content for the
   * settle time (undefined: keep the list). Called every second or so.
   */
  readonly reloadNodes: () => Settings['nodes'] | undefined;
}

export function cliInputs(options: CliOptions, log: Log, now: () => number = Date.now): CliInputs {
  const { nodesFile, kubeconfigFile } = options;
  const reload = new NodesFileReload({
    parse: (text) => {
      // A file that is empty for a moment is not "unlist every machine": keep the machines listed until then.
      if (text.trim() === '') throw new Error(`${nodesFile} is empty; the previous list stays (list no machine with a line holding only a comment)`);
      try {
        return parseInventory(text, nodesFile!, 'inventory');
      } catch (error) {
        throw error instanceof InputError ? new Error(error.named(optionName)) : error;
      }
    },
    warn: (reason) => log.warning(`ignoring the changed nodes file: ${reason}`),
  });
  const read = (name: InputName): string => {
    if (name === 'kubeconfig') {
      // The file is loaded by path (RunOptions.kubeconfigFile), so that an error about its content names it.
      if (kubeconfigFile) readable(kubeconfigFile, 'kubeconfig', 'a readable kubeconfig file');
      return '';
    }
    if (name === 'inventory') {
      if (nodesFile === undefined) return '';
      if (options.inputs.nodes !== undefined) throw new InputError('nodes', 'both --nodes and --nodes-file are given', 'one of them');
      // The settings read the file again (and refuse it when it is no inventory); the service starts from this reading.
      reload.started(readNodesFile(nodesFile));
      return nodesFile;
    }
    const value = options.inputs[name];
    return value === undefined ? '' : String(value);
  };
  const reloadNodes = () => {
    if (nodesFile === undefined) return undefined;
    let text: string;
    try {
      text = readNodesFile(nodesFile);
    } catch (error) {
      // A file that cannot be read is not "unlist every machine" either.
      return reload.next({ error: error instanceof InputError ? error.named(optionName) : (error as Error).message }, now());
    }
    return reload.next({ text }, now());
  };
  return { read, reloadNodes };
}

function readNodesFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw cannotRead(path, 'nodes-file', 'a readable file, one machine per line', error);
  }
}

function readable(path: string, input: string, accepted: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw cannotRead(path, input, accepted, error);
  }
}

function cannotRead(path: string, input: string, accepted: string, error: unknown): InputError {
  return new InputError(input, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, accepted);
}
