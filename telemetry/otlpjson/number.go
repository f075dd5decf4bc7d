package otlpjson

import (
	"errors"
	"math"
	"strconv"
)

var (
	errNotInteger = errors.New("not an integer")
	errRange      = errors.New("value out of range")
)

// parseInteger reads the JSON number lit (already checked against the grammar) as sign and
// magnitude. A fraction or exponent is fine as long as the value is a whole number
// (1.5e3, 10E-1): JavaScript writes large integers that way, and doing the arithmetic on the
// digits keeps every int64 exact where a float64 detour would not.
func parseInteger(lit []byte) (neg bool, mag uint64, err error) {
	i := 0
	if lit[0] == '-' {
		neg = true
		i++
	}
	start := i
	for i < len(lit) && isDigit(lit[i]) {
		i++
	}
	whole := lit[start:i]
	var frac []byte
	if i < len(lit) && lit[i] == '.' {
		i++
		start = i
		for i < len(lit) && isDigit(lit[i]) {
			i++
		}
		frac = lit[start:i]
	}
	exp := 0
	if i < len(lit) { // an exponent, the grammar allows nothing else here
		i++
		expNeg := false
		if lit[i] == '+' || lit[i] == '-' {
			expNeg = lit[i] == '-'
			i++
		}
		for ; i < len(lit); i++ {
			// Capped well past anything that could matter: the digits are bounded by the
			// input's length long before this.
			if exp < 1<<30 {
				exp = exp*10 + int(lit[i]-'0')
			}
		}
		if expNeg {
			exp = -exp
		}
	}
	if len(frac) == 0 && exp == 0 {
		mag, err = accumulate(0, whole)
		return neg, mag, err
	}

	// The value is digits × 10^scale, digits being whole followed by frac.
	digits := func(k int) byte {
		if k < len(whole) {
			return whole[k]
		}
		return frac[k-len(whole)]
	}
	n := len(whole) + len(frac)
	scale := exp - len(frac)
	if scale < 0 {
		keep := max(n+scale, 0)
		for k := keep; k < n; k++ {
			if digits(k) != '0' {
				return false, 0, errNotInteger
			}
		}
		n = keep
	}
	for k := range n {
		d := uint64(digits(k) - '0')
		if mag > (math.MaxUint64-d)/10 {
			return false, 0, errRange
		}
		mag = mag*10 + d
	}
	if scale > 0 && mag != 0 {
		for range scale {
			if mag > math.MaxUint64/10 {
				return false, 0, errRange
			}
			mag *= 10
		}
	}
	return neg, mag, nil
}

func accumulate(mag uint64, digits []byte) (uint64, error) {
	for _, c := range digits {
		d := uint64(c - '0')
		if mag > (math.MaxUint64-d)/10 {
			return 0, errRange
		}
		mag = mag*10 + d
	}
	return mag, nil
}

// signed turns sign and magnitude into an int64 no wider than bits.
func signed(neg bool, mag uint64, bits int) (int64, error) {
	limit := uint64(1) << (bits - 1)
	if neg {
		if mag > limit {
			return 0, errRange
		}
		return int64(-mag), nil // wraps to the two's complement, so 1<<63 gives MinInt64
	}
	if mag >= limit {
		return 0, errRange
	}
	return int64(mag), nil
}

// unsigned turns sign and magnitude into a uint64 no wider than bits.
func unsigned(neg bool, mag uint64, bits int) (uint64, error) {
	if neg && mag != 0 {
		return 0, errRange
	}
	if bits < 64 && mag >= uint64(1)<<bits {
		return 0, errRange
	}
	return mag, nil
}

// parseFloat reads the JSON number lit (already checked against the grammar).
func parseFloat(lit []byte, bits int) (float64, error) {
	f, err := strconv.ParseFloat(string(lit), bits)
	if err != nil {
		// The grammar was checked, so the only way left to fail is a value too large.
		return 0, errRange
	}
	return f, nil
}
