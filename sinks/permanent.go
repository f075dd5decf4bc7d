package sinks

import "errors"

// permanentError marks an error a retry cannot fix. Its message is the wrapped error's, so logs
// show the destination's own reason.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as permanent: the destination refused the data for good (it is malformed,
// too large, rejected by policy) and sending it again cannot help. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err: err}
}

// IsPermanent reports whether err, or any error it wraps, was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
