// Package spool is a sink's durable queue: an append-only log of records on disk, in segment
// files of length-prefixed, CRC-checked records, that survives a crash (kill -9 or a power cut),
// a restart and hours offline. Append returns once the record is fsynced (concurrent appends
// share an fsync: group commit), so whatever the gateway acknowledges to a client is on disk.
// Readers take records in append order with Next and acknowledge them with Ack in any order;
// segments are deleted once every record in them is acknowledged.
//
// Delivery is at least once: after a crash, records handed out but whose acknowledgement had not
// been persisted are handed out again; nothing durable is lost, except records behind damage on
// disk, which recovery skips and logs.
//
// The folder holds the segments (<ID of their first record>.seg, so the names sort in append
// order), a small "state" file with the acknowledged and handed-out positions, and a "lock" file
// that keeps a second process out. The state is rewritten (by rename) at most every 50 ms while
// the positions move, and fsynced only at Close: losing its last update costs duplicates, not
// data. So Recovered.MaybeDelivered counts the records handed out up to the last update; those
// handed out in the moments before a crash come again uncounted.
//
// It is not for batching, retrying or knowing what a record holds: the delivery engine in
// package sinks does that, and hands this package opaque bytes. It keeps no record bodies in
// memory: readers read them back from the segment files.
//
// It works on Unix-like systems (it uses flock and statfs).
package spool

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"claude-otel-gw/internal/logevery"
)

// Options configure a Spool.
type Options struct {
	Dir          string        // <state dir>/spool/<sink>; created 0700 (parents too), files 0600
	MaxBytes     int64         // disk budget: Append refuses with ErrFull beyond it; 0: 1 GiB
	SegmentBytes int64         // a segment is closed (a new one started) past this; 0: 64 MiB (at most MaxBytes/4)
	FsyncDelay   time.Duration // group commit: an Append waits at most this long for others to share its fsync; 0: fsync at once
	Logger       *slog.Logger
	// MinFreeBytes: Append also refuses with ErrFull when the filesystem has less free space
	// than this (checked with syscall.Statfs at most once a second). 0: 64 MiB.
	MinFreeBytes int64
	// Weigh gives a record's weight, from at most the first WeighBytes bytes of its data: what
	// Stats.Weight and Recovered.Weight add up (the telemetry records a request holds, say).
	// nil: every record weighs 1.
	Weigh func(head []byte) int64
}

// WeighBytes is how much of a record's data Weigh is given.
const WeighBytes = 16

const (
	defaultMaxBytes     = 1 << 30
	defaultSegmentBytes = 64 << 20
	defaultMinFreeBytes = 64 << 20
)

var (
	// ErrFull: the budget (or the disk) is spent; the engine turns it into a retryable refusal.
	ErrFull = errors.New("spool: full")
	// ErrClosed: after Close.
	ErrClosed = errors.New("spool: closed")
)

// Recovered describes what Open found.
type Recovered struct {
	Records        int   // records not yet acknowledged, to be delivered
	Bytes          int64 // the length of their data
	Weight         int64 // their weight (Options.Weigh)
	MaybeDelivered int   // of those, records that were handed to a reader before the crash (possible duplicates)
	Corrupt        int   // corrupt or torn regions skipped (each logged)
}

// Record is one appended record as a reader gets it. Data belongs to the caller.
type Record struct {
	ID       uint64
	Data     []byte
	Appended time.Time // zero if unknown after recovery
}

// Stats describe what is waiting: appended and not yet acknowledged.
type Stats struct {
	Records   int
	Bytes     int64     // the length of the waiting records' data
	Weight    int64     // the waiting records' weight (Options.Weigh)
	DiskBytes int64     // the size of the segments on disk
	Oldest    time.Time // the append time of the oldest unacknowledged record; zero when empty
}

// Spool is a durable queue of records in one folder. It is safe for concurrent use.
type Spool struct {
	o        Options
	log      *slog.Logger
	segBytes int64
	lock     *os.File
	syncFile func(*os.File) error // (*os.File).Sync, but for tests

	// wmu serialises writers; it owns what only they use. Taken before mu when both are.
	wmu       sync.Mutex
	wbuf      []byte    // the record being written, reused
	free      int64     // the filesystem's free bytes, as of freeAt less what was written since
	freeAt    time.Time // zero: never measured
	refusing  bool      // the log's last word is that appends are refused
	refuseLog logevery.Limiter

	// rsem serialises readers (a channel, so that waiting for it honours ctx). Its holder owns
	// the read file and buffer.
	rsem    chan struct{}
	rfile   *os.File
	rfseg   *segment // what rfile is open on
	rbuf    []byte
	rhdr    [headerSize]byte // the header being read: a local would escape to the heap
	rbufOff int64            // the file offset of rbuf[0]
	rbufN   int              // valid bytes in rbuf

	mu      sync.Mutex
	closed  bool
	segs    []*segment // oldest first; the active one, if any, is last
	active  *segment   // the segment being written; nil until the next append needs one
	retired []*os.File // sealed segments' files, for the syncer to fsync and close
	dead    []*segment // delivered segments, for the deleter
	nextID  uint64     // the ID the next record gets
	written uint64     // one past the last ID written
	visible uint64     // one past the last ID known durable: readers stop there
	round   *round     // the appends waiting for the next fsync
	// dirDirty: a segment was created since the folder was last fsynced.
	dirDirty     bool
	diskBytes    int64
	waiting      int
	waitingBytes int64
	// waitingWeight is the waiting records' weight; after damage found while running it is
	// an estimate (the lost records' weights cannot be read), never negative.
	waitingWeight int64
	avail         chan struct{} // closed (and replaced) when readers may find more

	// The read position: cursor is the next ID to hand out, at offset roff of rseg, after rdata
	// bytes of that segment's data.
	cursor uint64
	rseg   *segment
	roff   int64
	rdata  int64
	// out are the records handed out, in ID order; out[outHead] is the oldest not acknowledged.
	out     []handed
	outHead int
	// prevHanded is the handed-out position Open found: until the readers pass it, it is still
	// the position to persist, so a second crash still counts those records as maybe delivered.
	prevHanded uint64
	// oldestID and oldestAt remember the append time Stats last read from disk.
	oldestID uint64
	oldestAt time.Time

	persisted [2]uint64 // the acked and handed positions last written; owned by the state writer
	errLog    logevery.Limiter

	kick       chan struct{} // wakes the syncer
	stateKick  chan struct{} // wakes the state writer
	deleteKick chan struct{} // wakes the deleter
	closeCh    chan struct{}
	syncDone   chan struct{}
	stateDone  chan struct{}
	deleteDone chan struct{}
	closeOnce  sync.Once
	closeErr   error
}

// handed is a record handed out and not yet known delivered.
type handed struct {
	id     uint64
	size   int64
	weight int64
	at     int64
	acked  bool
}

// Open opens or creates the spool, recovers it and returns it ready.
func Open(o Options) (*Spool, Recovered, error) {
	return open(o, (*os.File).Sync)
}

// open is Open with the function that fsyncs a file or folder, which tests watch.
func open(o Options, syncFile func(*os.File) error) (*Spool, Recovered, error) {
	if o.Dir == "" {
		return nil, Recovered{}, errors.New("spool: no folder given")
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = defaultMaxBytes
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = defaultSegmentBytes
	}
	if o.MinFreeBytes <= 0 {
		o.MinFreeBytes = defaultMinFreeBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Spool{
		o:   o,
		log: o.Logger,
		// Segments of at most a quarter of the budget free delivered data in steps small
		// enough that a budget below the segment size still works.
		segBytes:   max(min(o.SegmentBytes, o.MaxBytes/4), 1),
		syncFile:   syncFile,
		free:       math.MaxInt64 / 2, // unknown until measured: no reason to refuse
		refuseLog:  logevery.Limiter{Every: time.Minute},
		errLog:     logevery.Limiter{Every: time.Minute},
		rsem:       make(chan struct{}, 1),
		rbuf:       make([]byte, 64<<10),
		round:      newRound(),
		avail:      make(chan struct{}),
		kick:       make(chan struct{}, 1),
		stateKick:  make(chan struct{}, 1),
		deleteKick: make(chan struct{}, 1),
		closeCh:    make(chan struct{}),
		syncDone:   make(chan struct{}),
		stateDone:  make(chan struct{}),
		deleteDone: make(chan struct{}),
	}
	if err := s.makeDir(); err != nil {
		return nil, Recovered{}, err
	}
	lock, err := lockDir(o.Dir)
	if err != nil {
		return nil, Recovered{}, err
	}
	s.lock = lock
	rec, err := s.recover()
	if err != nil {
		lock.Close()
		return nil, Recovered{}, err
	}
	if err := s.saveState(false); err != nil {
		lock.Close()
		return nil, Recovered{}, err
	}
	if free, err := freeBytes(o.Dir); err == nil && free+s.diskBytes < o.MaxBytes {
		s.log.Warn("spool: the disk has less free space than the spool's budget; appends will be refused before the budget is spent",
			"dir", o.Dir, "free_bytes", free, "budget_bytes", o.MaxBytes)
	}
	if rec.Records > 0 || rec.Corrupt > 0 {
		s.log.Debug("spool: recovered", "dir", o.Dir, "records", rec.Records, "bytes", rec.Bytes,
			"maybe_delivered", rec.MaybeDelivered, "corrupt", rec.Corrupt)
	}
	go s.syncLoop()
	go s.stateLoop()
	go s.deleteLoop()
	return s, rec, nil
}

// makeDir creates the folder 0700 (parents too), or tightens it to 0700 if it is looser, and
// makes its entry durable.
func (s *Spool) makeDir() error {
	dir := s.o.Dir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("spool: %s is not a folder", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		s.log.Warn("spool: the folder was open to other users; made it 0700", "dir", dir, "was", fi.Mode().Perm())
	}
	return syncDir(filepath.Dir(dir), (*os.File).Sync)
}

// Capacity is the disk budget in bytes.
func (s *Spool) Capacity() int64 { return s.o.MaxBytes }

// Close syncs and closes; records handed out but not acked are simply not acked (they will be
// delivered again after the next Open). An Ack after Close is ignored. Safe twice.
func (s *Spool) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.shutdown() })
	return s.closeErr
}

func (s *Spool) shutdown() error {
	// Under wmu, no append is half-written: each one either is in a round the syncer's last
	// commit covers, or sees closed.
	s.wmu.Lock()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wmu.Unlock()
	close(s.closeCh)
	<-s.syncDone
	<-s.stateDone
	<-s.deleteDone
	s.deleteDead()
	// A reader in the middle of a record finishes it before its file goes.
	s.rsem <- struct{}{}
	if s.rfile != nil {
		s.rfile.Close()
		s.rfile, s.rfseg = nil, nil
	}
	s.mu.Lock()
	files := s.retired
	s.retired = nil
	if s.active != nil {
		files = append(files, s.active.f)
		s.active.f = nil
	}
	s.mu.Unlock()
	var errs []error
	for _, f := range files {
		if err := f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("spool: %w", err))
		}
	}
	errs = append(errs, s.saveState(true))
	if err := s.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("spool: %w", err))
	}
	return errors.Join(errs...)
}

// ackedThrough is the persisted acknowledged position: every ID up to it is delivered (or was
// skipped as damaged). s.mu is held.
func (s *Spool) ackedThrough() uint64 {
	if s.outHead < len(s.out) {
		return s.out[s.outHead].id - 1
	}
	return s.cursor - 1
}

// handedThrough is the persisted handed-out position. s.mu is held.
func (s *Spool) handedThrough() uint64 {
	return max(s.cursor-1, s.prevHanded)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// weigh is a record's weight per Options.Weigh.
func (s *Spool) weigh(data []byte) int64 {
	if s.o.Weigh == nil {
		return 1
	}
	return s.o.Weigh(data[:min(len(data), WeighBytes)])
}
