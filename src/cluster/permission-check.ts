/** One permission the action needs, as a SelfSubjectAccessReview asks about it. */
export interface PermissionCheck {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly name?: string;
  readonly namespace?: string;
}

/** The RBAC rule that grants `check`, as it is written in deploy/rbac.yaml (messages and diagnostics). */
export function describeRule(check: PermissionCheck): string {
  const resource = check.subresource ? `${check.resource}/${check.subresource}` : check.resource;
  const names = check.name ? `, resourceNames: ["${check.name}"]` : '';
  const scope = check.namespace ? ` (Role in namespace ${check.namespace})` : '';
  return `{apiGroups: ["${check.group}"], resources: ["${resource}"], verbs: ["${check.verb}"]${names}}${scope}`;
}
