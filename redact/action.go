package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strings"
	"sync"
)

// hasher tags values with a keyed hash instead of masking them, so that equal values can be
// correlated across records (the same user's email in every event) without being readable. The
// tag is [<detector>:<first 12 hex digits of HMAC-SHA256(key, value)>]; 48 bits keep
// accidental collisions rare across the values one organisation sees, and the key keeps them
// from being reversed by hashing guesses.
type hasher struct {
	pool sync.Pool // of hash.Hash, each an HMAC with the profile's key
}

func newHasher(key []byte) *hasher {
	h := &hasher{}
	h.pool.New = func() any { return hmac.New(sha256.New, key) }
	return h
}

// tag writes the hash tag for value, found by the detector called name, to b.
func (h *hasher) tag(b *strings.Builder, name string, value []byte) {
	m := h.pool.Get().(hash.Hash)
	m.Reset()
	m.Write(value)
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	h.pool.Put(m)
	var hx [12]byte
	hex.Encode(hx[:], sum[:6])
	b.WriteByte('[')
	b.WriteString(name)
	b.WriteByte(':')
	b.Write(hx[:])
	b.WriteByte(']')
}

// canonical returns the form of a detected value that is hashed, so that one value written two
// ways gets one tag: phone, card and SSN numbers by their digits (a North American number
// without its leading 1), email addresses in lower case.
func canonical(id detID, v string) []byte {
	switch id {
	case detPhone, detCard, detSSN:
		d := make([]byte, 0, len(v))
		for i := 0; i < len(v); i++ {
			if isDigit(v[i]) {
				d = append(d, v[i])
			}
		}
		if id == detPhone && len(d) == 11 && d[0] == '1' {
			d = d[1:]
		}
		return d
	case detEmail:
		return []byte(strings.ToLower(v))
	}
	return []byte(v)
}
