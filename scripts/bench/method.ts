// The prose of the benchmark's report: how to read the figures and how they were measured.
import { APPROVALS_IN_FLIGHT } from '../../src/approver/options.ts';

export function readingNotes(): string {
  return `## Reading the figures

- **The shell loops are paced by kubectl, not by their sleep.** kubectl limits itself to 5
  requests/s (burst 10; still so in 1.34), and \`kubectl certificate approve\` makes a GET and a PUT per CSR, so a loop
  approves about 2.5 CSRs a second once a few are pending. At 100 machines the 10 s loop takes only
  about 15–20% longer than the 1 s loop; at 1000 both approve some 300 CSRs in two minutes, and
  serving requests wait behind the whole client backlog.
- **The raw loop** lists every CSR again as soon as it has approved what it saw. It keeps up in a
  burst, but it costs the API server a full list every few milliseconds when nothing happens: see its
  request count and CPU time when machines join one by one.
- **Where the action's time goes in a burst** (measured with per-CSR traces against the audit log):
  the API server answers an approval in 10–20 ms; the rest of the latency is the queue of approvals
  waiting for one of the 16 slots. Signature and identity checks cost about 0.15 ms per CSR
  uncontended. At 10 machines every figure is a few tens of milliseconds and the action's first
  approvals run through code the JIT has not compiled yet: the client p50 ratio to the raw loop
  ranged from 1.5× to 2.4× over the last runs, for a difference of 20–35 ms.
- **Serving requests in a 1000-machine burst** are decided as soon as they arrive (p50 about
  100 ms), but those created while the client backlog drains queue behind it (p95 2–3 s).
- **Kubernetes 1.34 against 1.20** (the earlier test bed): the 1.34 API server runs the Node
  authorizer, NodeRestriction and priority-and-fairness; the first run on it (2026-12-01) had the
  action's client p50 at 100 machines at 2.2× the raw loop (0.87× on 1.20) while the bench's own
  event loop lagged 100 ms (27 ms during the raw loop's run), a sign of load from outside the
  run on this shared 2-core machine; 10 and 1000 machines stayed within the goals. Re-run on an
  idle machine before reading more into it.
- **Peak RSS** is mostly fixed cost: the action at rest with its bundle loaded is about 90–100 MB
  (97–100 MB at 10 machines; 170–190 MB at 1000 over the runs on 1.20 and 1.34). At 1000 machines V8's young generation grows to 64 MB (V8 sizes it from
  the machine's memory, 23.5 GiB here); the old generation holds 25–45 MB. With
  \`NODE_OPTIONS=--max-semi-space-size=8\` the 1000-machine peak was 158 MB in a separate run; a
  JavaScript action cannot pass V8 flags itself (\`v8.setFlagsFromString\` at run time does not
  resize the young generation, measured).
`;
}

/** The method text; which parts apply depends on the run (the loop cap, whether a baseline ran). */
export function methodText(run: { loopCapMs: number; loopsUpToMachines: number; baseline: boolean }): string {
  return `## Method

Each run (one scenario × one approver) gets a fresh control plane (\`test/env/controlplane.ts\`:
etcd, kube-apiserver and kube-controller-manager's CSR signer, RBAC on) with an audit log at
Metadata level for every request, and the simulator (\`test/sim/install.ts\`) with 3 control-plane
Nodes Ready and every worker declared but not yet booted. The signer's client gets OpenShift's
kube-controller-manager limits (\`--kube-api-qps=150 --kube-api-burst=300\`): with the upstream
default of 20 requests/s, signing, not approving, would set the pace of a burst. The approver under
test is started and the run waits until it is ready (the action: the API server has answered its
first CSR and Node lists, plus 250 ms for its watches to open; the raw loop: its first list; a shell
loop: its first iteration plus half its sleep, the expected phase of a loop already running when
machines boot). Then the workers boot, all at once (burst) or one by one at seeded exponential
intervals; the run ends when every worker's Node is Ready. In the real-kubelet scenario the workers
are unmodified kubelets of the same version with the fake CRI runtime kubemark uses
(\`test/env/kubelet.ts\`), all started at once: the time runs from their start (a process each,
mount namespace, runtime, kubelet start-up included) until every Node is Ready and has its serving
certificate (a real Node is Ready before it has one), and creation times are the bench watch's
ADDED. The shell loops cannot finish a thousand
machines in reasonable time (kubectl's client-side rate limit of 5 requests/s, and \`kubectl
certificate approve\` makes a GET and a PUT per CSR: about 2.5 approvals/s, some 13 minutes per run),
so at a thousand machines they are stopped ${run.loopCapMs / 1000} s after the first boot; a figure
marked ≥ is then a lower bound (CSRs still pending count with the time they had waited so far),
and a ratio marked ≤ an upper bound. Above ${run.loopsUpToMachines} machines (the 2000-machine burst,
OpenShift's largest tested cluster size) the shell loops are left out: capped at the same
${run.loopCapMs / 1000} s they would approve the same ~300 CSRs as at a thousand (their pace is
kubectl's rate limit, not the number of machines), so their columns would repeat the 1000-machine
lower bounds while adding several minutes to the run; the raw loop stays as the server's limit.
${run.baseline ? `
The **baseline** is the same action spawn running an earlier bundle (\`--baseline=<file>\`; its
size, sha256 and the commit it came from are under Machine), copied beside a \`package.json\` of
\`"type": "module"\` as \`dist/index.js\` sits in this package, so Node loads both alike. Within each
scenario the action and the baseline run one right after the other, the baseline first in every
other scenario (and every other round with \`--repeat=N\`, which goes round the systems N times
and reports each figure's median), so both see the same machine state and neither always runs
second.
"action ÷ baseline" is shown for every figure of the approver itself; the regressions section lists
each one more than 10 % worse. At 10 machines most figures are tens of milliseconds, where one
run's noise is larger than 10 %: read those entries against the spread between runs. With
\`--repeat=3\` or more, each entry says whether the action's median is also worse than the
baseline's worst run. One that is not lies within the spread the baseline shows against itself.
Two goals count them: every entry, and the entries beyond that spread. A figure that is within
the spread can still be a real regression smaller than the noise. More runs narrow the spread;
no run here can show a 10 % difference in a figure that varies by more than that between runs.
` : ''}
- **Approvers.** *action*: \`node dist/index.js\`, spawned as a GitHub runner does
  (\`test/integration/harness.ts\`) with the least-privilege identity of \`deploy/rbac.yaml\`,
  \`nodes\` listing every worker with its IP and DNS name, \`wait-for-operators: false\`,
  \`stable-period: 0s\`, \`poll-interval: 10s\` (the default). *loop 10 s / loop 1 s*: the documented
  \`kubectl get csr -o go-template='{{range .items}}{{if not .status}}{{.metadata.name}}{{"\\n"}}{{end}}{{end}}' | xargs --no-run-if-empty kubectl certificate approve\`
  in \`while true; do …; sleep N; done\`, as the admin identity, with a kubectl of the control
  plane's version built from the same wrapper module (\`test/env/go/kube-1.34\`). *raw loop*
  (\`scripts/bench/raw-approver.ts\`, a child process): list all CSRs, PUT \`…/approval\` on every
  pending one, ${APPROVALS_IN_FLIGHT} in flight (the action's \`APPROVALS_IN_FLIGHT\`), no checks, repeat at once — what the
  server itself allows.
- **Latency** of a CSR: from its creation to the moment the bench's own watch (in the bench
  process, \`performance.now()\`) first delivers it with an \`Approved\` condition. Creation is the
  earlier of the moment the simulated kubelet's POST returned and the bench watch's ADDED
  (\`creationTimestamp\` has whole-second resolution, too coarse). Client and serving CSRs separately;
  nearest-rank percentiles.
- **Throughput**: approved CSRs (client + serving) ÷ (last approval observed − first CSR created).
  In a burst the simulated kubelets file client CSRs as fast as they can (key generation in
  process, 64 requests in flight), and serving CSRs once their Node registered.
- **API requests**: counted by the API server (audit log): the action and the raw loop by their
  user, the shell loops by user agent (\`kubectl/…\`). "Beyond initial list + watch" leaves out
  the first list and first watch of each resource and one-off requests at start (the action's
  SelfSubjectAccessReview preflight, discovery); re-lists, re-watches and approvals count.
- **Last Node Ready → action exit**: from the simulated kubelet's Ready status PATCH returning to
  the action's process exit, with \`stable-period: 0s\` and the action started before the machines.
- **Peak RSS**: \`VmHWM\` of the process from \`/proc/<pid>/status\`, polled every 20 ms.
  **Cold start**: spawn → the first request of the action's identity received by the API server
  (audit \`requestReceivedTimestamp\`, microseconds; same clock).
- **Simulator CPU** (\`sim.cpuMs()\`: key generation, request building, event handling) and the
  **bench watch CPU** are measured in the bench process during the run, with its event-loop delay,
  so a reader can see that the figures are the approvers', not the harness's.
`;
}
