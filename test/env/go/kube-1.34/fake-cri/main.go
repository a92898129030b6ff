// Command fake-cri serves Kubernetes' fake CRI runtime (the one kubemark's hollow nodes use) on a
// unix socket, so an unmodified kubelet runs without a container engine. Test use only.
//
//	fake-cri unix:///path/to/runtime.sock
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	fake "k8s.io/cri-client/pkg/fake"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fake-cri unix:///path/to/runtime.sock")
		os.Exit(2)
	}
	runtime := fake.NewFakeRemoteRuntime()
	if err := runtime.Start(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("fake-cri: serving", os.Args[1])
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	runtime.Stop()
}
