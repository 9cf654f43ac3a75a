// Package deploy tests gspy's deployment: the Helm chart (helm/gspy) and the
// plain manifest rendered from it (deploy/daemonset.yaml), and the container
// image (deploy/Containerfile) run as the DaemonSet runs it.
package deploy
