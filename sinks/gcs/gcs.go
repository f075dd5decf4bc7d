// Package gcs is the Cloud Storage destination, the full-fidelity audit archive: each batch the
// delivery engine hands it becomes one gzip object of OTLP/JSON lines in a bucket, named in
// Hive-style partitions,
//
//	<prefix>/signal=<logs|metrics|traces>/date=YYYY-MM-DD/hour=HH/<host>-<unique>.jsonl.gz
//
// so that BigQuery external tables and bucket lifecycle rules can select by signal, day and hour.
// Objects are written with the sink's Cloud KMS key (CMEK) and storage class when set, and Start
// makes sure the bucket has a lifecycle rule deleting the prefix's objects after retention_days.
//
// A batch is written at most once however often it is retried: its object's name is fixed at its
// first attempt (the content's hash and a random part) and remembered until it is written, and
// the upload carries a does-not-exist precondition, so a retry of a batch whose earlier attempt
// did reach the bucket finds its object there and succeeds without a second one. The same
// content received again is another batch and another object: the archive keeps what the
// gateway acknowledged, twice if it was sent twice. After a restart, a batch a durable queue
// replays gets a new name, so one whose upload had succeeded just before a crash may be
// archived twice (at least once, never lost).
//
// It is not for batching, retrying or closing objects by size or age: the delivery engine's
// batcher closes a batch (an object) by size and age, and the engine retries a failed Write.
// Nor is it a reader of the archive.
package gcs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/storage"

	"claude-otel-gw/config"
	"claude-otel-gw/sinks"
	"claude-otel-gw/sinks/gcp"
)

var (
	_ sinks.Writer  = (*Writer)(nil)
	_ sinks.Limiter = (*Writer)(nil)
	_ sinks.Starter = (*Writer)(nil)
)

// Options configure a Writer.
type Options struct {
	Name          string      // the sink's name, for logs
	Google        gcp.Options // Project (may be empty: not needed for objects), CredentialsFile, Endpoint, Insecure, UserAgent
	Bucket        string      // required
	Prefix        string      // object name prefix without trailing slash; "" allowed (names then start at signal=)
	KMSKey        string      // projects/P/locations/L/keyRings/R/cryptoKeys/K, or ""
	StorageClass  string      // "", STANDARD, NEARLINE, COLDLINE, ARCHIVE (config validated)
	RetentionDays int         // 0: leave the bucket's lifecycle alone
	Host          string      // the <host> in object names; "" = os.Hostname(), sanitised to [A-Za-z0-9._-]
	Logger        *slog.Logger
}

// Writer writes batches as objects into one bucket. It is safe for concurrent use: the storage
// client is shared, and each Write uploads an object of its own.
type Writer struct {
	o       Options
	host    string
	log     *slog.Logger
	gopts   gcp.Options // o.Google with the endpoint in the form the storage client needs
	now     func() time.Time
	pending *pending // names of batches tried and not yet written

	// retentionRetry is the first wait before trying the retention rule again after a failed
	// Start; it doubles up to retentionRetryMax. Close cancels stopped, which ends the
	// background tries and any call they are making.
	retentionRetry time.Duration
	stopped        context.Context
	stop           context.CancelFunc
	retentionDone  chan struct{} // closed when the background tries end; nil if none ran

	mu     sync.Mutex
	client *storage.Client
	bucket *storage.BucketHandle
	closed bool
}

// startTimeout bounds Start when its context has no deadline of its own: a bucket that cannot
// be reached must not hold the gateway's startup forever.
const startTimeout = 30 * time.Second

var (
	errClosed     = errors.New("closed")
	errNotStarted = errors.New("not started")
)

// New checks the options and builds the writer. It reads no credentials beyond checking that a
// credentials file is one, and contacts nothing: Start builds the client.
func New(o Options) (*Writer, error) {
	w, err := newWriter(o)
	if err != nil {
		return nil, fmt.Errorf("gcs sink %q: %w", o.Name, err)
	}
	return w, nil
}

func newWriter(o Options) (*Writer, error) {
	switch {
	case o.Bucket == "":
		return nil, errors.New("no bucket given")
	case strings.HasPrefix(o.Prefix, "/") || strings.HasSuffix(o.Prefix, "/"):
		return nil, fmt.Errorf("prefix %q: must not start or end with /", o.Prefix)
	case o.KMSKey != "" && !config.ValidKMSKey(o.KMSKey):
		return nil, fmt.Errorf("kms_key %q: want projects/P/locations/L/keyRings/R/cryptoKeys/K", o.KMSKey)
	case o.RetentionDays < 0:
		return nil, fmt.Errorf("retention_days %d: must not be negative", o.RetentionDays)
	}
	if o.StorageClass != "" && !slices.Contains(config.StorageClasses, o.StorageClass) {
		return nil, fmt.Errorf("storage_class %q: want STANDARD, NEARLINE, COLDLINE or ARCHIVE", o.StorageClass)
	}
	host := o.Host
	if host == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("no host given and the machine's name is unknown: %w", err)
		}
		host = h
	}
	host = sanitizeHost(host)
	if err := checkNameLength(o.Prefix, host); err != nil {
		return nil, err
	}
	gopts := o.Google
	if gopts.Endpoint != "" {
		ep, err := storageEndpoint(gopts.Endpoint, gopts.Insecure)
		if err != nil {
			return nil, err
		}
		gopts.Endpoint = ep
	}
	// Checks what can be checked offline: a credentials file's kind, insecure only on loopback.
	if _, err := gcp.HTTPClientOptions(gopts); err != nil {
		return nil, err
	}
	stopped, stop := context.WithCancel(context.Background())
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Writer{
		o:       o,
		host:    host,
		log:     log.With("sink", o.Name),
		gopts:   gopts,
		now:     time.Now,
		pending: newPending(pendingMemory),

		retentionRetry: time.Minute,
		stopped:        stopped,
		stop:           stop,
	}, nil
}

// storageEndpoint turns the endpoint as configured (a URL, with or without the JSON API's path,
// or a bare host:port) into the base URL the storage client takes: the client resolves object
// calls relative to it ("b/<bucket>/o") and uploads from its host ("/upload/storage/v1/..."),
// so it must end in "/storage/v1/".
func storageEndpoint(ep string, insecure bool) (string, error) {
	if !strings.Contains(ep, "://") {
		scheme := "https"
		if insecure {
			scheme = "http"
		}
		ep = scheme + "://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("endpoint %q: not a URL or host:port", ep)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if u.Path == "" {
		u.Path = "/storage/v1"
	}
	u.Path += "/"
	u.RawPath = ""
	return u.String(), nil
}

// Start builds the storage client and, when RetentionDays is set, makes sure the bucket has the
// lifecycle rule that deletes the prefix's objects once that old. When the rule cannot be put
// in place (no network at start, credentials that may not change the bucket), Start still
// succeeds: it logs the reason as an error and keeps trying in the background until the rule is
// there. Refusing to start would stop the whole gateway, and every destination would lose what
// Claude Code sends meanwhile; objects kept longer than configured until an operator acts are
// the lesser harm. It is bounded by ctx (and by startTimeout when ctx has no deadline).
func (w *Writer) Start(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}
	opts, err := gcp.HTTPClientOptions(w.gopts)
	if err != nil {
		return err
	}
	// The client's credentials may keep the context they are built with for fetching tokens
	// later: it must outlive Start's.
	client, err := storage.NewClient(context.WithoutCancel(ctx), opts...)
	if err != nil {
		return fmt.Errorf("cloud storage client: %w", err)
	}
	// The engine owns retries: a library retrying an upload for minutes would hide an outage
	// from it (and from the sink's health) while the batch waits.
	client.SetRetry(storage.WithPolicy(storage.RetryNever))
	w.mu.Lock()
	if w.closed || w.client != nil {
		w.mu.Unlock()
		client.Close()
		if w.closed {
			return errClosed
		}
		return errors.New("already started")
	}
	w.client, w.bucket = client, client.Bucket(w.o.Bucket)
	w.mu.Unlock()
	if w.o.RetentionDays > 0 {
		if err := w.ensureRetention(ctx); err != nil {
			w.log.Error("the bucket's retention rule is not in place; objects are written and kept until it is", "err", err, "retry_in", w.retentionRetry)
			w.retentionDone = make(chan struct{})
			go w.keepTryingRetention()
		}
	}
	w.log.Info("gcs sink ready", "bucket", w.o.Bucket, "prefix", w.o.Prefix, "host", w.host,
		"cmek", w.o.KMSKey != "", "storage_class", w.o.StorageClass, "retention_days", w.o.RetentionDays)
	return nil
}

// Limits leaves the batch size to the engine's batch settings: an object can be as large as a
// batch gets, and the upload is a single request whatever its size.
func (w *Writer) Limits() sinks.Limits { return sinks.Limits{} }

// Close closes the storage client. Writes after it fail.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	w.stop()
	if w.retentionDone != nil {
		w.mu.Unlock()
		<-w.retentionDone
		w.mu.Lock()
	}
	if w.client == nil {
		return nil
	}
	err := w.client.Close()
	w.client, w.bucket = nil, nil
	if err != nil {
		return fmt.Errorf("closing the storage client: %w", err)
	}
	return nil
}

// bucketHandle returns the bucket to write to, once started and until closed.
func (w *Writer) bucketHandle() (*storage.BucketHandle, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closed:
		return nil, errClosed
	case w.bucket == nil:
		return nil, errNotStarted
	}
	return w.bucket, nil
}
