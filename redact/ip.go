package redact

import (
	"net/netip"
	"strings"
)

// findIPv4 finds a dotted-quad IPv4 address at at. Octets are 0-255 without leading zeros, and
// a fifth group (an OID, a four-part version followed by more) rules the whole out. Loopback
// and unspecified addresses (127.0.0.1, 0.0.0.0) say nothing about anyone and stay.
func findIPv4(s string, at int) (start, end int, ok bool) {
	i := at
	var first, v int
	for part := 0; part < 4; part++ {
		if part > 0 {
			if i >= len(s) || s[i] != '.' {
				return 0, 0, false
			}
			i++
		}
		j := i
		v = 0
		for i < len(s) && isDigit(s[i]) {
			if i-j == 3 {
				return 0, 0, false
			}
			v = v*10 + int(s[i]-'0')
			i++
		}
		if i == j || v > 255 || (i-j > 1 && s[j] == '0') {
			return 0, 0, false
		}
		if part == 0 {
			first = v
		}
	}
	if !numberEnd(s, i) || first == 127 || s[at:i] == "0.0.0.0" {
		return 0, 0, false
	}
	return at, i, true
}

// findIPv6 finds an IPv6 address around the ':' at at, full or compressed, confirmed by
// net/netip. Text like a::b (no digit, two groups) is more likely code than an address, and
// loopback (::1) and unspecified (::) addresses stay. It also returns how far it looked, so the
// other colons of the same address are not looked at again.
func findIPv6(s string, at int) (start, end, seen int, ok bool) {
	start = at
	for start > 0 && at-start < 40 && isIPv6Char(s[start-1]) {
		start--
	}
	end = at + 1
	for end < len(s) && end-start < maxIPv6 && isIPv6Char(s[end]) {
		end++
	}
	seen = end
	if (start > 0 && (isWord(s[start-1]) || isIPv6Char(s[start-1]))) || (end < len(s) && (isWord(s[end]) || isIPv6Char(s[end]))) {
		return 0, 0, seen, false
	}
	for end > start && s[end-1] == '.' {
		end--
	}
	if end-start > 2 && s[end-1] == ':' && s[end-2] != ':' {
		end--
	}
	for start < end && s[start] == '.' {
		start++
	}
	cand := s[start:end]
	colons, digit := 0, false
	for i := 0; i < len(cand); i++ {
		switch c := cand[i]; {
		case c == ':':
			colons++
		case isDigit(c):
			digit = true
		}
	}
	if colons < 2 || (!digit && colons < 3) {
		return 0, 0, seen, false
	}
	if colons < 6 && !strings.Contains(cand, "::") {
		// Too few groups for an address without "::" (a time, 20:39:55.123): said here
		// rather than by netip, whose error for it costs an allocation.
		return 0, 0, seen, false
	}
	a, err := netip.ParseAddr(cand)
	if err != nil || !a.Is6() || a.IsLoopback() || a.IsUnspecified() {
		return 0, 0, seen, false
	}
	if end < len(s) && s[end] == '%' {
		// A zone (fe80::1%eth0) belongs to the address.
		z := end + 1
		for z < len(s) && z-end <= 16 && isWord(s[z]) {
			z++
		}
		if z > end+1 {
			end = z
		}
	}
	return start, end, seen, true
}

// maxIPv6 is the longest run of IPv6 characters findIPv6 takes for an address.
const maxIPv6 = 46

func isIPv6Char(c byte) bool { return isHex(c) || c == ':' || c == '.' }
