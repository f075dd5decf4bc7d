package sinks

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		initial, max time.Duration
		steps        []time.Duration
	}{
		{time.Second, 30 * time.Second, []time.Duration{1, 2, 4, 8, 16, 30, 30}},
		{time.Second, time.Second, []time.Duration{1, 1, 1}},
		{3 * time.Second, 10 * time.Second, []time.Duration{3, 6, 10, 10}},
	} {
		t.Run(fmt.Sprintf("%s..%s", tc.initial, tc.max), func(t *testing.T) {
			for range 50 { // the jitter is random: look at many runs
				b := backoff{initial: tc.initial, max: tc.max}
				for i, s := range tc.steps {
					step := s * time.Second
					if got := b.next(); got < step/2 || got > step {
						t.Fatalf("wait %d = %s, want within [%s, %s]", i+1, got, step/2, step)
					}
				}
			}
		})
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("400 bad request")
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) is not nil")
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{base, false},
		{nil, false},
		{Permanent(base), true},
		{fmt.Errorf("export: %w", Permanent(base)), true},
		{Permanent(fmt.Errorf("export: %w", base)), true},
	} {
		if got := IsPermanent(tc.err); got != tc.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	p := Permanent(base)
	if !errors.Is(p, base) || p.Error() != base.Error() {
		t.Errorf("Permanent(%v) = %q, hides the error it wraps", base, p)
	}
}
