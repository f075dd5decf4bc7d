package gcs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
)

// startAttempts bounds the storage library's own retries of the bucket calls Start makes: a
// moment's network trouble must not refuse the gateway's start, nor a long one hold it.
const startAttempts = 3

// ensureRetention makes sure the bucket's lifecycle has the rule deleting the prefix's objects
// RetentionDays old, and touches nothing when it has: Start runs at every start of every
// gateway writing to the bucket. Rules of others are kept as they are; a delete rule of exactly
// this prefix and no other condition is this sink's, and one with another age is replaced.
// The update is conditional on the bucket's settings not having changed since they were read,
// so that a rule someone adds at the same moment is not lost; when they have, it reads them
// again and tries once more.
func (w *Writer) ensureRetention(ctx context.Context) error {
	days := int64(w.o.RetentionDays)
	w.mu.Lock()
	client := w.client
	w.mu.Unlock()
	if client == nil {
		return errNotStarted
	}
	// The client never retries (the engine owns upload retries), and BucketHandle.Retryer would
	// change that for the whole client; the bucket calls here retry by themselves.
	b := client.Bucket(w.o.Bucket)
	for try := 1; ; try++ {
		var attrs *storage.BucketAttrs
		err := retryTransient(ctx, func() (err error) {
			attrs, err = b.Attrs(ctx)
			return err
		})
		if err != nil {
			return w.bucketError(err, permGet)
		}
		rules, old, changed := withRetention(attrs.Lifecycle.Rules, days, w.o.Prefix)
		if !changed {
			w.log.Debug("the bucket's lifecycle already deletes the prefix's objects in time", "bucket", w.o.Bucket, "days", days)
			return nil
		}
		err = retryTransient(ctx, func() error {
			_, err := b.If(storage.BucketConditions{MetagenerationMatch: attrs.MetaGeneration}).
				Update(ctx, storage.BucketAttrsToUpdate{Lifecycle: &storage.Lifecycle{Rules: rules}})
			return err
		})
		if err == nil {
			if old > 0 {
				w.log.Info("replaced the bucket's lifecycle delete rule for the prefix", "bucket", w.o.Bucket, "prefix", w.o.Prefix, "days", days, "was_days", old)
			} else {
				w.log.Info("added a lifecycle delete rule for the prefix to the bucket", "bucket", w.o.Bucket, "prefix", w.o.Prefix, "days", days)
			}
			return nil
		}
		if httpStatus(err) == http.StatusPreconditionFailed && try < 2 {
			continue
		}
		return w.bucketError(err, permUpdate)
	}
}

// retentionRetryMax caps the wait between tries of the retention rule after a failed Start: an
// operator who fixes the grant sees it take effect within the hour.
const retentionRetryMax = time.Hour

// keepTryingRetention tries the retention rule again, with growing waits, until it is in place
// or the writer closes. Each failure is logged: the operator must learn that objects are being
// kept longer than configured.
func (w *Writer) keepTryingRetention() {
	defer close(w.retentionDone)
	wait := w.retentionRetry
	for {
		select {
		case <-w.stopped.Done():
			return
		case <-time.After(wait):
		}
		ctx, cancel := context.WithTimeout(w.stopped, startTimeout)
		err := w.ensureRetention(ctx)
		cancel()
		if err == nil {
			return
		}
		wait = min(2*wait, retentionRetryMax)
		w.log.Error("the bucket's retention rule is still not in place", "err", err, "retry_in", wait)
	}
}

// retryTransient calls f up to startAttempts times while it fails for a reason that passes
// (a server error, a quota, a broken connection), with a short pause between.
func retryTransient(ctx context.Context, f func() error) error {
	pause := 100 * time.Millisecond
	for try := 1; ; try++ {
		err := f()
		code := httpStatus(err)
		transient := err != nil && ctx.Err() == nil && (code >= 500 || code == http.StatusTooManyRequests || code == 0)
		if !transient || try == startAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause *= 2
	}
}

// The permissions Start needs on the bucket for retention_days.
const (
	permGet    = "storage.buckets.get"
	permUpdate = "storage.buckets.update"
)

// bucketError says what stands in the way of the retention rule, and how to clear it; permission
// is what the failed call needed.
func (w *Writer) bucketError(err error, permission string) error {
	bucket, days := w.o.Bucket, w.o.RetentionDays
	switch {
	case errors.Is(err, storage.ErrBucketNotExist) || httpStatus(err) == http.StatusNotFound:
		return fmt.Errorf("bucket %s does not exist (or the credentials may not see it): %w", bucket, err)
	case httpStatus(err) == http.StatusForbidden && permission == permGet:
		return fmt.Errorf("bucket %s: the credentials may not read its lifecycle (%s, e.g. roles/storage.admin): grant it, or set the %d-day delete rule yourself and retention_days = 0: %w",
			bucket, permission, days, err)
	case httpStatus(err) == http.StatusForbidden:
		return fmt.Errorf("bucket %s: the credentials may not change its lifecycle (%s, e.g. roles/storage.admin): set the %d-day delete rule yourself or set retention_days = 0: %w",
			bucket, permission, days, err)
	case httpStatus(err) == http.StatusUnauthorized:
		return fmt.Errorf("bucket %s: the credentials were refused: %w", bucket, err)
	case httpStatus(err) == http.StatusPreconditionFailed:
		return fmt.Errorf("bucket %s: its settings kept changing while the %d-day delete rule was being added: %w", bucket, days, err)
	}
	doing := "read"
	if permission == permUpdate {
		doing = "update"
	}
	return fmt.Errorf("bucket %s: cannot %s its lifecycle for retention_days = %d: %w", bucket, doing, days, err)
}

func httpStatus(err error) int {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// withRetention returns rules with this sink's delete rule (age days, the prefix's objects) in
// place, whether that changed anything, and the age of the rule it replaced (0 if none).
func withRetention(rules []storage.LifecycleRule, days int64, prefix string) (out []storage.LifecycleRule, old int64, changed bool) {
	ours := retentionRule(days, prefix)
	out = make([]storage.LifecycleRule, 0, len(rules)+1)
	found := false
	for _, r := range rules {
		if !isRetentionRule(r, prefix) {
			out = append(out, r)
			continue
		}
		switch {
		case found:
			changed = true // a second rule of ours is one too many
		case r.Condition.AgeInDays == days:
			out = append(out, r)
			found = true
		default:
			out = append(out, ours)
			old, found, changed = r.Condition.AgeInDays, true, true
		}
	}
	if !found {
		out = append(out, ours)
		changed = true
	}
	return out, old, changed
}

// retentionRule deletes the prefix's objects days old; with no prefix, the bucket's.
func retentionRule(days int64, prefix string) storage.LifecycleRule {
	return storage.LifecycleRule{
		Action:    storage.LifecycleAction{Type: storage.DeleteAction},
		Condition: storage.LifecycleCondition{AgeInDays: days, MatchesPrefix: rulePrefix(prefix)},
	}
}

func rulePrefix(prefix string) []string {
	if prefix == "" {
		return nil
	}
	return []string{prefix + "/"}
}

// isRetentionRule reports whether r is a rule of the shape retentionRule makes for prefix,
// whatever its age: a delete by age and exactly that prefix, with no other condition.
func isRetentionRule(r storage.LifecycleRule, prefix string) bool {
	c := r.Condition
	return r.Action.Type == storage.DeleteAction && r.Action.StorageClass == "" &&
		c.AgeInDays > 0 && !c.AllObjects &&
		slices.Equal(c.MatchesPrefix, rulePrefix(prefix)) &&
		c.CreatedBefore.IsZero() && c.CustomTimeBefore.IsZero() && c.NoncurrentTimeBefore.IsZero() &&
		c.DaysSinceCustomTime == 0 && c.DaysSinceNoncurrentTime == 0 && c.NumNewerVersions == 0 &&
		c.Liveness == storage.LiveAndArchived &&
		len(c.MatchesStorageClasses) == 0 && len(c.MatchesSuffix) == 0
}
