import type { ApiClient } from './client.ts';
import { statusOf } from './errors.ts';
import { toCsr, type Csr } from './objects.ts';
import { objectPath, PATHS } from './paths.ts';

export type ApprovalOutcome = 'approved' | 'already-approved' | 'denied' | 'gone';

/** The reason of our Approved condition: tells our approvals from other approvers'. */
export const APPROVAL_REASON = 'OpenShiftFinishInstallApproved';

/**
 * PUT .../approval with the object as read plus an Approved condition. Only conditions are
 * taken by the approval subresource. 409 means the object changed: re-read and retry.
 */
export async function approveCsr(client: ApiClient, csr: Csr, message: string): Promise<ApprovalOutcome> {
  let current: Csr | undefined = csr;
  for (let attempt = 0; current; attempt++) {
    // A CSR deleted and re-created under the same name is another request: never approve
    // what the policy did not see.
    if (current.uid !== csr.uid) return 'gone';
    // Our own earlier attempt may have succeeded after its response was lost.
    if (current.state === 'approved') return current.approvedBy === APPROVAL_REASON ? 'approved' : 'already-approved';
    if (current.state === 'denied' || current.state === 'failed') return 'denied';
    const body = {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: current.name, resourceVersion: current.resourceVersion, uid: current.uid },
      spec: { request: current.request, signerName: current.signerName, usages: [...current.usages] },
      status: {
        conditions: [{ type: 'Approved', status: 'True', reason: APPROVAL_REASON, message, lastUpdateTime: new Date() }],
      },
    };
    try {
      await client.send(`approve CertificateSigningRequest ${csr.name}`, 'PUT', PATHS.csrApproval(current.name), { body });
      return 'approved';
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) return 'gone';
      if (status !== 409 || attempt >= 10) throw error;
      current = await readCsr(client, csr.name);
    }
  }
  return 'gone';
}

export async function readCsr(client: ApiClient, name: string): Promise<Csr | undefined> {
  try {
    return toCsr(await client.send(`read CertificateSigningRequest ${name}`, 'GET', objectPath(PATHS.csrs, name)));
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}
