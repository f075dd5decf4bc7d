package route

import "math/bits"

// bitset marks records of one request by their position in walk order (resource, scope, record;
// for metrics: resource, scope, metric, data point).
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

// len is how many positions b can hold.
func (b bitset) len() int { return len(b) * 64 }

func (b bitset) set(i int)      { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) has(i int) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// or adds every member of o to b.
func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}

func (b bitset) equal(o bitset) bool {
	for i := range b {
		if b[i] != o[i] {
			return false
		}
	}
	return true
}

// rank re-indexes sub (a subset of b) by the positions of b's members: the result has bit j set
// when b's j-th member is in sub. It maps a selection made on a request onto a filtered copy
// of that request which kept only b's records.
func (b bitset) rank(sub bitset) bitset {
	out := newBitset(b.count())
	j := 0
	for i := range b.len() {
		if b.has(i) {
			if sub.has(i) {
				out.set(j)
			}
			j++
		}
	}
	return out
}
