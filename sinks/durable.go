package sinks

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"claude-otel-gw/sinks/spool"
	"claude-otel-gw/telemetry"
)

// durable is a queue kept in a spool on disk: a request is accepted once it is written and
// synced, and it leaves the spool only when it is delivered or dead-lettered. What was taken
// and not finished when the process stops (or dies) is delivered again at the next start.
//
// A spool record is one request: a byte with its signal, its number of telemetry records as a
// uvarint (the record's weight, so the spool can count them without decoding), then its
// protobuf encoding.
type durable struct {
	sp       *spool.Spool
	capacity int64
	// bad is told of a record that cannot be decoded (it passed its checksum, so it was
	// written so); such a record is acknowledged, never retried.
	bad func(error)

	mu       sync.Mutex
	reserved int64
	closed   bool
}

func newDurable(sp *spool.Spool, capacity int64, bad func(error)) *durable {
	return &durable{sp: sp, capacity: capacity, bad: bad}
}

// reserve refuses when what the spool holds, plus what is reserved, plus size would pass the
// disk budget. The spool checks the budget (and the free space) again when writing.
func (q *durable) reserve(size int) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.closed:
		return errClosed
	case int64(size) > q.capacity:
		return errTooLarge
	case q.sp.Sizes().Bytes+q.reserved+int64(size) > q.capacity:
		return errFull
	}
	q.reserved += int64(size)
	return nil
}

func (q *durable) unreserve(size int) {
	q.mu.Lock()
	q.reserved = max(q.reserved-int64(size), 0)
	q.mu.Unlock()
}

// put writes it to the spool and returns once it is durable.
func (q *durable) put(ctx context.Context, it item) ([]item, error) {
	defer q.unreserve(it.size)
	rec, err := encodeRecord(it.r, it.size)
	if err != nil {
		return nil, err
	}
	switch err := q.sp.Append(ctx, rec); {
	case errors.Is(err, spool.ErrFull):
		return nil, errFull
	case errors.Is(err, spool.ErrClosed):
		return nil, errClosed
	case err != nil:
		return nil, fmt.Errorf("writing to the spool: %w", err)
	}
	return nil, nil
}

// encodeRecord is a request as the spool keeps it.
func encodeRecord(r telemetry.Request, size int) ([]byte, error) {
	buf := make([]byte, 1, 1+binary.MaxVarintLen64+size)
	buf[0] = byte(r.Signal())
	buf = binary.AppendUvarint(buf, uint64(r.Records()))
	buf, err := proto.MarshalOptions{}.MarshalAppend(buf, r.Message())
	if err != nil {
		return nil, fmt.Errorf("encoding for the spool: %w", err)
	}
	return buf, nil
}

// decodeRecord turns a spool record back into a request.
func decodeRecord(rec spool.Record) (item, error) {
	if len(rec.Data) == 0 {
		return item{}, errors.New("empty spool record")
	}
	sig := telemetry.Signal(rec.Data[0])
	if sig < telemetry.Logs || sig > telemetry.Traces {
		return item{}, fmt.Errorf("spool record of unknown signal %d", rec.Data[0])
	}
	_, n := binary.Uvarint(rec.Data[1:])
	if n <= 0 {
		return item{}, errors.New("spool record without its record count")
	}
	body := rec.Data[1+n:]
	r := telemetry.Empty(sig)
	if err := proto.Unmarshal(body, r.Message()); err != nil {
		return item{}, fmt.Errorf("decoding a spool record: %w", err)
	}
	return item{r: r, size: len(body), records: r.Records(), at: rec.Appended, id: rec.ID}, nil
}

// recordWeight is the spool's Weigh: a record's telemetry records, from its head.
func recordWeight(head []byte) int64 {
	if len(head) < 2 {
		return 0
	}
	n, k := binary.Uvarint(head[1:])
	if k <= 0 {
		return 0
	}
	return int64(n)
}

// take waits for the next record not yet taken.
func (q *durable) take(ctx context.Context) (item, bool) {
	return q.decodeNext(func() (spool.Record, bool) {
		rec, err := q.sp.Next(ctx)
		return rec, err == nil
	})
}

// tryTake takes the next record if one waits.
func (q *durable) tryTake() (item, bool) {
	return q.decodeNext(func() (spool.Record, bool) {
		rec, ok, err := q.sp.TryNext()
		return rec, ok && err == nil
	})
}

// decodeNext decodes the records next returns until one decodes; one that does not is counted,
// acknowledged (it can never be delivered) and skipped.
func (q *durable) decodeNext(next func() (spool.Record, bool)) (item, bool) {
	for {
		rec, ok := next()
		if !ok {
			return item{}, false
		}
		it, err := decodeRecord(rec)
		if err != nil {
			q.bad(err)
			q.sp.Ack(rec.ID)
			continue
		}
		return it, true
	}
}

// done acknowledges delivered or dead-lettered items: they leave the spool.
func (q *durable) done(its []item) {
	ids := make([]uint64, len(its))
	for i := range its {
		ids[i] = its[i].id
	}
	q.sp.Ack(ids...)
}

// close refuses new reservations.
func (q *durable) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}

// sizes reports what the spool holds (not yet delivered) and its size on disk.
func (q *durable) sizes() (records int, bytes, disk int64) {
	st := q.sp.Sizes()
	return int(st.Weight), st.Bytes, st.DiskBytes
}

// oldest is the time the oldest record not yet delivered was accepted (zero when none); it
// may read the spool, so it is for the periodic gauge refresh, not the hot path.
func (q *durable) oldest() time.Time { return q.sp.Stats().Oldest }
