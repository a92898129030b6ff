import { accessSync, constants } from 'node:fs';
import { isAbsolute, sep } from 'node:path';
import type { Cluster } from '@kubernetes/client-node';
import { InputError } from '../settings/settings.ts';
import type { Entry, UserEntry } from './kubeconfig-files.ts';
import { maskProxyUrl } from './proxy.ts';

const RELATIVE_ACCEPTED =
  "an absolute path, or the certificate in the kubeconfig itself (certificate-authority-data, client-certificate-data, client-key-data, token); relative paths are resolved against the folder of a kubeconfig file (KUBECONFIG or --kubeconfig), which the 'kubeconfig' input has not";

/**
 * What kubectl refuses or warns about in the context it uses, checked before anything connects:
 * files that cannot be read, relative paths with no folder to resolve them against, a CA beside
 * insecure-skip-tls-verify, an exec plugin that insists on a terminal, impersonated groups with no
 * user. Returns the warnings to log.
 */
export function checkCurrent(cluster: Entry<Cluster>, user: Entry<UserEntry> | undefined): string[] {
  const files = [
    { entry: cluster, what: `cluster '${cluster.value.name}'`, field: 'certificate-authority', path: cluster.value.caData ? undefined : cluster.value.caFile },
    ...(user ? userFiles(user) : []),
  ];
  for (const { entry, what, field, path } of files) {
    if (!path) continue;
    if (!isAbsolute(path)) {
      throw new InputError('kubeconfig', `${what} in ${entry.source} has the relative ${field} path '${path}', and there is no folder to resolve it against`, RELATIVE_ACCEPTED);
    }
    if (field === 'exec command') continue;
    try {
      accessSync(path, constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new InputError('kubeconfig', `${what} in ${entry.source}: cannot read ${field} ${path} (${code})`, "a readable file; a relative path is taken from the kubeconfig file's folder, as kubectl does");
    }
  }
  const warnings: string[] = [];
  const { name, skipTLSVerify, caData, caFile, server } = cluster.value;
  if (skipTLSVerify && (caData || caFile)) {
    throw new InputError(
      'kubeconfig',
      `cluster '${name}' in ${cluster.source} sets both insecure-skip-tls-verify and a certificate authority (certificate-authority${caData ? '-data' : ''})`,
      'one of the two, as kubectl: the certificate authority (recommended), or insecure-skip-tls-verify: true alone',
    );
  }
  if (skipTLSVerify) {
    warnings.push(
      `cluster '${name}' in ${cluster.source} sets insecure-skip-tls-verify: the certificate of ${maskProxyUrl(server)} is not checked, so whoever can intercept the connection gets the credential and can answer in the cluster's name. Set certificate-authority-data instead.`,
    );
  }
  if (user) checkUser(user);
  return warnings;
}

function userFiles(user: Entry<UserEntry>): Array<{ entry: Entry<unknown>; what: string; field: string; path: string | undefined }> {
  const { user: u, tokenFile } = user.value;
  const command = (u.exec as { command?: unknown } | null | undefined)?.command;
  const what = `user '${user.value.name}'`;
  return [
    { entry: user, what, field: 'client-certificate', path: u.certData ? undefined : u.certFile },
    { entry: user, what, field: 'client-key', path: u.keyData ? undefined : u.keyFile },
    { entry: user, what, field: 'tokenFile', path: tokenFile },
    // A command without a slash is looked up in PATH, as kubectl does.
    { entry: user, what, field: 'exec command', path: typeof command === 'string' && command.includes(sep) ? command : undefined },
  ];
}

function checkUser(user: Entry<UserEntry>): void {
  const { name, interactiveMode, impersonate } = user.value;
  if (interactiveMode === 'Always') {
    const command = String((user.value.user.exec as { command?: unknown }).command);
    throw new InputError(
      'kubeconfig',
      `user '${name}' in ${user.source} has an exec plugin (${command}) with interactiveMode: Always, which needs a terminal to answer it; this run has none`,
      'interactiveMode: Never or IfAvailable (the plugin then runs without a terminal, as kubectl runs it in a pipeline)',
    );
  }
  const without = [
    ...(impersonate.groups.length ? ['as-groups'] : []),
    ...(impersonate.uid ? ['as-uid'] : []),
    ...(Object.keys(impersonate.extra).length ? ['as-user-extra'] : []),
  ];
  if (!impersonate.user && without.length) {
    throw new InputError(
      'kubeconfig',
      `user '${name}' in ${user.source} sets ${without.join(', ')} without as`,
      'as (the user to impersonate) together with as-groups, as-uid or as-user-extra: the API server refuses to impersonate groups without a user',
    );
  }
}
