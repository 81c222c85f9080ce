// Package cri tests rt the way Kubernetes reaches it: a CRI (runtime.v1)
// client speaks to containerd's CRI plugin, which runs every pod and container
// through containerd-shim-runc-v2 with rt as the runtime handler "rt".
//
// The tests do what kubelet does for a pod: RunPodSandbox with the handler,
// CreateContainer and StartContainer from an image that is already present
// (nothing is ever pulled), ExecSync, ContainerStatus, ContainerStats,
// UpdateContainerResources, the container log file, StopContainer,
// RemoveContainer, StopPodSandbox and RemovePodSandbox. Others cover a pod of
// two containers that join the sandbox's network and IPC namespaces by path,
// and a container with a restrictive security context and a memory limit whose
// breach must report the reason OOMKilled.
//
// They need the containerd that run.sh starts (its own socket, root, state,
// CNI network and the images it builds offline); without RT_CRI_ENDPOINT in
// the environment every test is skipped. This directory is a Go module of its
// own so that k8s.io/cri-api and gRPC stay out of rt's go.mod. See
// docs/kubernetes.md.
package cri
