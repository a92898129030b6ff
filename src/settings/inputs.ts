/**
 * The action's inputs and outputs (CONTRACT.md): the single source for action.yml, the parser,
 * and any other entry point's help text.
 */
export interface InputDefinition {
  readonly name: string;
  readonly default: string;
  readonly description: string;
}

export const INPUTS = [
  {
    name: 'kubeconfig',
    default: '',
    description:
      'Kubeconfig content, plain YAML or base64; file paths inside it must be absolute (there is no folder to resolve them against). Empty: the files of the KUBECONFIG environment variable, merged as kubectl merges them (relative paths from each file\'s folder), else ~/.kube/config. Finding no usable config is an error, never a silent fallback to localhost. Registered as a secret.',
  },
  { name: 'context', default: '', description: "Context to use; empty means the kubeconfig's current-context." },
  {
    name: 'nodes',
    default: '',
    description:
      "The machines this install added. Entries separated by newlines or commas; each entry is a node name, optionally followed (after whitespace) by the IP addresses and DNS names that machine may put in its serving certificate. Blank lines and # comments are ignored. Empty: no CSR is approved and node readiness is not awaited. A machine listed without addresses is trusted about itself: its serving certificate may carry its node name and the names under it and InternalIP/ExternalIP addresses its Node reports, which the machine writes itself, within the cluster's machine networks (see machine-networks) and never in its service or cluster network nor on a VIP; declaring the addresses makes the check independent of the machine.",
  },
  {
    name: 'inventory',
    default: '',
    description:
      "Instead of nodes: the path of a file listing the machines, relative to the working directory. Its form is detected: lines as in nodes; an OpenShift nodes-config.yaml (oc adm node-image create) or agent-config.yaml (each host's hostname, with every static IPv4 and IPv6 address of its nmstate networkConfig; a host that takes an address by DHCP or IPv6 autoconf is listed by name only, without addresses); or a YAML or JSON list of {name, addresses}. A file of none of these forms is an error naming it, before anything is written. Set nodes or inventory, not both.",
  },
  {
    name: 'machine-networks',
    default: '',
    description:
      "CIDRs (newline or comma separated) that the IP addresses of a machine listed without addresses must lie in. Empty: the cluster's machine networks, read from the Infrastructure object cluster (status.platformStatus.<platform>.machineNetworks) and the install-config in ConfigMap kube-system/cluster-config-v1 (networking.machineNetwork); when the cluster has none, the run says so and such a machine's addresses are not bounded by a machine network. Set: these replace the cluster's, which are then not read. Whatever it says, such a machine never gets an address in the cluster's service or cluster network, nor an API or ingress VIP.",
  },
  {
    name: 'max-requested-duration',
    default: '',
    description:
      'A kubelet request whose spec.expirationSeconds asks for a longer certificate than this duration (for example 720h) stays Pending with reason requested-duration-too-long. Empty: no cap (the cluster signer caps every certificate at its own maximum anyway; kubelets do not set expirationSeconds). The requested duration is shown in the summary and in refused-csrs either way.',
  },
  {
    name: 'nodes-timeout',
    default: '60m',
    description: 'How long to keep approving and waiting for every listed node to be Ready with its serving certificate issued.',
  },
  {
    name: 'wait-for-operators',
    default: 'true',
    description: 'Wait until every ClusterOperator is stable: Available=True, Progressing=False, Degraded=False.',
  },
  {
    name: 'stable-period',
    default: '5m',
    description: 'How long all operators must stay stable, without interruption, before the wait succeeds. 0s accepts the first stable observation.',
  },
  { name: 'operators-timeout', default: '60m', description: 'Deadline for the operator wait.' },
  {
    name: 'ignore-operators',
    default: '',
    description: 'Operator names (newline or comma separated) reported but not waited for.',
  },
  {
    name: 'wait-for-cluster-version',
    default: 'true',
    description:
      'Within the operator wait (so only when wait-for-operators is true), under its operators-timeout: wait until ClusterVersion version is Available=True, Failing=False, Progressing=False and its newest history entry is Completed, as openshift-install wait-for install-complete does.',
  },
  {
    name: 'machine-config-pools',
    default: '',
    description:
      'MachineConfigPool names (newline or comma separated) to wait for: Updated=True, Degraded=False, every machine updated and ready, the current generation observed. Same deadline as the operator wait (only when wait-for-operators is true).',
  },
  {
    name: 'registry-storage',
    default: 'keep',
    description:
      'keep: do not touch the image registry. emptyDir: Managed with emptyDir storage (non-production only). pvc: Managed with a PersistentVolumeClaim.',
  },
  {
    name: 'registry-pvc-claim',
    default: '',
    description: "Claim name for pvc. Empty: the operator's default claim image-registry-storage.",
  },
  {
    name: 'registry-pvc-size',
    default: '',
    description: 'When set (for example 100Gi), create the claim in openshift-image-registry if it does not exist yet.',
  },
  {
    name: 'registry-pvc-access-mode',
    default: 'ReadWriteOnce',
    description: 'Access mode of a claim the action creates: ReadWriteOnce or ReadWriteMany.',
  },
  {
    name: 'registry-pvc-storage-class',
    default: '',
    description: 'StorageClass of a claim the action creates; empty means the cluster default.',
  },
  {
    name: 'registry-rollout-strategy',
    default: 'auto',
    description: 'auto: Recreate with 1 replica when the claim is ReadWriteOnce, otherwise leave it. Or Recreate / RollingUpdate.',
  },
  {
    name: 'registry-replicas',
    default: '',
    description: 'Replica count; empty leaves it to auto or the current value.',
  },
  {
    name: 'registry-timeout',
    default: '15m',
    description: 'How long to wait for the registry itself to report the requested storage and be Available.',
  },
  { name: 'dry-run', default: 'false', description: 'Evaluate and report everything, write nothing to the cluster.' },
  { name: 'poll-interval', default: '10s', description: 'Re-list interval that backs up watches.' },
  { name: 'summary', default: 'true', description: 'Write the job summary.' },
] as const satisfies readonly InputDefinition[];

export type InputName = (typeof INPUTS)[number]['name'];

export const OUTPUTS = [
  { name: 'result', description: 'success, timeout (a deadline passed) or error (anything else that failed).' },
  {
    name: 'approved-csrs',
    description:
      'JSON array of the names of the CSRs this run approved (in dry-run: would approve). At most 64 KiB (each name at most 300 characters); the rest are counted in approved-csrs-omitted and listed whole in diagnostics-path.',
  },
  { name: 'approved-csrs-omitted', description: 'How many approved requests approved-csrs left out to stay within its bound (0 when it holds them all).' },
  {
    name: 'refused-csrs',
    description:
      'JSON array of {name, signer, requestor, node, reason} for the pending kubelet CSRs this run would not approve; reason is a stable kebab-case code; expirationSeconds is added when the request asks for a duration. At most 100 entries and 32 KiB (each text field at most 300 characters); the rest are counted in refused-csrs-omitted and listed whole in diagnostics-path.',
  },
  {
    name: 'refused-csrs-omitted',
    description: 'How many refused requests refused-csrs left out to stay within its bounds (0 when it holds them all).',
  },
  {
    name: 'nodes',
    description:
      'JSON array of {name, ready, clientApproved, servingIssued, clientCertificates} for every listed node; clientCertificates counts the client certificates issued for that name on requests this run approved (more than 1 is also a warning).',
  },
  {
    name: 'nodes-ready',
    description: 'true when every listed node is Ready with its serving certificate issued (also true when no node is listed).',
  },
  { name: 'operators-stable', description: 'true when the operator wait succeeded (true when it was not requested).' },
  {
    name: 'unstable-operators',
    description: 'JSON array of {name, available, progressing, degraded, message} for operators not stable at the end.',
  },
  {
    name: 'registry',
    description:
      "JSON object {managementState, storage, claim, rolloutStrategy, replicas, ready, changed}; {} when registry-storage is keep.",
  },
  {
    name: 'cluster-version',
    description:
      'JSON object {version, completed, available, progressing, failing, message} of ClusterVersion version (version from status.desired.version); {} when not awaited and not readable.',
  },
  {
    name: 'machine-config-pools',
    description: 'JSON array of {name, updated, degraded, machineCount, updatedMachineCount, readyMachineCount} for the pools named in machine-config-pools.',
  },
  {
    name: 'diagnostics-path',
    description:
      'When the run did not succeed: a folder with the unstable operators (conditions, related objects), the events of nodes not Ready, the refused and approved CSRs, the reads the identity was refused (not-readable.json, with the rule that allows each), and oc adm inspect output where oc is installed; for actions/upload-artifact. On success it is empty, unless approved-csrs or refused-csrs had to leave requests out: the folder then holds the full lists (csrs-approved.json, csrs-refused.json). Never holds secrets.',
  },
  { name: 'duration-seconds', description: 'Whole seconds the action ran.' },
] as const;

export type OutputName = (typeof OUTPUTS)[number]['name'];
