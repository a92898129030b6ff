// The pinned openshift/api commit (release-4.21 head, 2026-07-10) whose CRD manifests the test bed installs.
module ofi.test/openshiftapi

go 1.21

require github.com/openshift/api v0.0.0-20260710095909-1cb630ce7109
