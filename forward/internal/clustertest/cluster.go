package clustertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// The names of rhizome's built-in environment (na-prod/bookkeeper), so that code under test can
// use them unchanged.
const (
	gkeContext     = "gke_clover-prod-kubernetes_us-central1_na-prod-us-central1-cluster"
	namespace      = "gke-cloudsql-access"
	deploymentName = "gke-cloudsql-access"
	instanceName   = "clover-prod-databases:us-central1:billing-bookkeeper"
	defaultPodPort = 3307
	// A PostgreSQL instance behind the same pod, as Cloud SQL teams have beside their MySQL.
	pgInstanceName = "clover-prod-databases:us-central1:billing-ledger"
	pgPodPort      = 5432
)

// stopGrace is how long a component of the cluster gets between SIGTERM and SIGKILL.
const stopGrace = 5 * time.Second

// Options changes how Start sets up a Cluster. The zero value works.
type Options struct {
	// BinDir holds kube-apiserver, etcd and kwok. Empty means $RHIZOME_KUBE_BIN, else
	// .cache/kube/<versions>/bin in the repository (where scripts/kube-tools builds them).
	BinDir string
	// PodPort is the pod port the proxy says it listens on, and the one port of the pod that
	// port-forward reaches. Zero means 3307.
	PodPort int
}

// Cluster is a running control plane with the built-in environment's names, a pod that KWOK
// runs, a MariaDB server and a PostgreSQL server. The caller of Start owns it and must call Close. Its methods are
// safe for concurrent use, but the fault helpers change what every user of the cluster sees.
type Cluster struct {
	Kubeconfig     string // kubeconfig file; its current context is Context. See Env
	Context        string // like the built-in environment's GKE context
	Namespace      string
	Deployment     string
	Instance       string // the Cloud SQL instance the connection script knows
	ConnectCommand string // absolute path: kubectl exec deploy/D -- ConnectCommand Instance
	PodPort        int    // the port in "Listening on 127.0.0.1:PORT"; port-forward to it
	MySQL          MySQL  // MariaDB itself, bypassing the pod
	Dir            string // work folder under /tmp with every component's log; Close removes it

	// PGInstance is a PostgreSQL instance the connection script knows too: its proxy says it
	// listens on pod port PGPodPort, which leads to Postgres.
	PGInstance string
	PGPodPort  int
	Postgres   Postgres // PostgreSQL itself, bypassing the pod

	sp      *spawner
	pki     *pki   // the CA that signs users' certificates (UserKubeconfig)
	server  string // the API server's URL
	api     *kubeAPI
	objs    *objects
	proxies []*proxy // MariaDB's, then Postgres's
	control *control
	procs   []*child // etcd, kube-apiserver, mariadbd, postgres: stopped last to first
	// startAPI starts kube-apiserver, on the same port each time (StopAPIServer, StartAPIServer).
	startAPI func(ctx context.Context) (*child, error)

	mu     sync.Mutex // serializes the fault helpers and Close; guards the fields below
	kwok   *kwok
	pod    string  // the current pod's name
	log    *podLog // the current pod's log
	closed bool

	closeOnce sync.Once
	closeErr  error
}

// Start runs a cluster and returns when the pod is Running and MariaDB and PostgreSQL accept
// connections.
// ctx bounds only the start-up; the processes run until Close or the test process ends. When the
// binaries are missing the error wraps ErrToolsMissing.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	t, err := findTools(opts.BinDir)
	if err != nil {
		return nil, err
	}
	if opts.PodPort == 0 {
		opts.PodPort = defaultPodPort
	}
	dir, err := newWorkDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		Kubeconfig:     filepath.Join(dir, "kubeconfig"),
		Context:        gkeContext,
		Namespace:      namespace,
		Deployment:     deploymentName,
		Instance:       instanceName,
		ConnectCommand: filepath.Join(dir, "cloudsql-connect"),
		PodPort:        opts.PodPort,
		PGInstance:     pgInstanceName,
		PGPodPort:      pgPodPort,
		Dir:            dir,
		sp:             newSpawner(),
	}
	if err := c.start(ctx, t); err != nil {
		c.Close()
		return nil, fmt.Errorf("starting test cluster: %w", err)
	}
	return c, nil
}

// start brings the parts up; on error, Close stops whatever did start.
func (c *Cluster) start(ctx context.Context, t tools) error {
	ports, err := freePorts(8)
	if err != nil {
		return err
	}
	etcdPort, peerPort, apiPort, kwokPort, mysqlPort, targetPort, pgPort, pgTargetPort :=
		ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6], ports[7]
	c.Postgres = Postgres{
		Addr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(pgPort)),
		User:     "rhizome",
		Database: "postgres",
		App:      "ledger_app", AppPassword: "ledger-app-test",
	}
	c.MySQL = MySQL{
		Addr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(mysqlPort)),
		User:     "rhizome",
		Password: "rhizome-test",
		Database: "bookkeeper",
	}

	// The databases need nothing from Kubernetes, so they start alongside.
	type started struct {
		proc *child
		err  error
	}
	mariadb, postgres := make(chan started, 1), make(chan started, 1)
	go func() {
		p, err := startMariaDB(ctx, c.sp, t, c.Dir, mysqlPort, c.MySQL)
		mariadb <- started{p, err}
	}()
	go func() {
		p, err := startPostgres(ctx, c.sp, t, c.Dir, pgPort, c.Postgres)
		postgres <- started{p, err}
	}()
	c.proxies = []*proxy{
		{instance: c.Instance, podPort: c.PodPort, dbAddr: c.MySQL.Addr,
			targetAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(targetPort))},
		{instance: c.PGInstance, podPort: c.PGPodPort, dbAddr: c.Postgres.Addr,
			targetAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(pgTargetPort))},
	}
	err = c.startKubernetes(ctx, t, etcdPort, peerPort, apiPort, kwokPort)
	errs := []error{err}
	for _, ch := range []chan started{mariadb, postgres} {
		s := <-ch
		if s.proc != nil {
			c.procs = append(c.procs, s.proc)
		}
		errs = append(errs, s.err)
	}
	return errors.Join(errs...)
}

func (c *Cluster) startKubernetes(ctx context.Context, t tools, etcdPort, peerPort, apiPort, kwokPort int) error {
	p, err := newPKI(c.Dir)
	if err != nil {
		return err
	}
	tlsConfig, err := p.adminTLS()
	if err != nil {
		return err
	}
	server := "https://127.0.0.1:" + strconv.Itoa(apiPort)
	if err := writeKubeconfig(c.Kubeconfig, c.Context, server, p.caPEM, p.adminCertPEM, p.adminKeyPEM); err != nil {
		return err
	}
	c.pki, c.server = p, server
	c.api = newKubeAPI(server, tlsConfig)

	etcd, err := startEtcd(ctx, c.sp, t.etcd, c.Dir, etcdPort, peerPort)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, etcd)
	c.startAPI = func(ctx context.Context) (*child, error) {
		return startAPIServer(ctx, c.sp, t.apiserver, c.Dir, apiPort, etcdPort, p, c.api)
	}
	apiserver, err := c.startAPI(ctx)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, apiserver)

	var forwards []portMap
	var podPorts []int
	for _, p := range c.proxies {
		_, target, _ := net.SplitHostPort(p.targetAddr)
		targetPort, _ := strconv.Atoi(target)
		forwards = append(forwards, portMap{p.podPort, targetPort})
		podPorts = append(podPorts, p.podPort)
	}
	c.objs = &objects{api: c.api, namespace: c.Namespace, deployment: c.Deployment, podPorts: podPorts}
	if err := c.objs.create(ctx); err != nil {
		return err
	}

	// What the pod offers: a work folder for exec, a log, and a proxy behind each port.
	podDir := filepath.Join(c.Dir, "pod")
	if err := os.Mkdir(podDir, 0o755); err != nil {
		return fmt.Errorf("making pod folder: %w", err)
	}
	if c.control, err = startControl(c.proxies, c.ConnectCommand); err != nil {
		return err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.kwok = &kwok{
		bin: t.kwok, dir: c.Dir, kubeconfig: c.Kubeconfig, port: kwokPort, sp: c.sp,
		config: kwokConfig{
			namespace: c.Namespace, workDir: podDir, forwards: forwards,
		},
	}
	return c.newPodLocked(ctx)
}

// newPodLocked creates a pod of the Deployment with a log of its own and no proxy running, then
// starts KWOK, which must be stopped, configured for that pod. It returns when the pod runs.
func (c *Cluster) newPodLocked(ctx context.Context) error {
	name, err := c.objs.createPod(ctx)
	if err != nil {
		return err
	}
	c.pod = name
	if c.log, err = newPodLog(filepath.Join(c.Dir, "pod-"+name+".log")); err != nil {
		return err
	}
	for _, p := range c.proxies {
		p.newPod(c.log)
	}
	c.kwok.config.pod, c.kwok.config.logFile = name, c.log.path
	if err := c.kwok.start(ctx); err != nil {
		return err
	}
	return c.objs.waitPodRunning(ctx, name)
}

// ErrClosed is what ReplacePod, StopKWOK and StartKWOK return after Close.
var ErrClosed = errors.New("clustertest: cluster closed")

// Env returns the variables a child process such as kubectl needs to reach the cluster, to
// append to os.Environ().
func (c *Cluster) Env() []string {
	return []string{"KUBECONFIG=" + c.Kubeconfig}
}

// Pod returns the name of the Deployment's current pod.
func (c *Cluster) Pod() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pod
}

// PodLog returns the path of the file KWOK serves as the current pod's log. Each pod has its
// own, named pod-NAME.log in Dir.
func (c *Cluster) PodLog() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.path
}

// Close stops every process and goroutine of the cluster and removes its work folder. It is
// safe to call more than once; later calls return the first call's result.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.close() })
	return c.closeErr
}

func (c *Cluster) close() error {
	var errs []error
	c.mu.Lock()
	c.closed = true
	if c.kwok != nil {
		errs = append(errs, c.kwok.stop())
	}
	c.mu.Unlock()
	if c.control != nil {
		c.control.close()
	}
	for _, p := range c.proxies {
		p.close()
	}
	for i := len(c.procs) - 1; i >= 0; i-- {
		errs = append(errs, c.procs[i].stop(stopGrace))
	}
	if c.api != nil {
		c.api.close()
	}
	// Every child has exited, so ending the spawner's thread kills nothing.
	c.sp.close()
	errs = append(errs, os.RemoveAll(c.Dir))
	return errors.Join(errs...)
}
