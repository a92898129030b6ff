module openshift-finish-install/x509diff

go 1.22
