// The pinned openshift/api commit (release-4.16 head, 2026-01-13) whose CRD manifests the oldest leg installs.
module ofi.test/openshiftapi

go 1.21

require github.com/openshift/api v0.0.0-20260113171308-0677a8879a46
