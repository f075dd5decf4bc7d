package redact

// findPhone finds a phone number starting at at (a digit, '+' or '('): a North American number
// in its usual written forms, or an international number written with its +country code.
//
// Numbers without a country code are taken only in the North American shapes with parentheses
// or dashes or dots, (415) 555-0134, 415-555-0199, 415.555.0199: three bare numbers separated
// by spaces (512 256 1024) are too often something else.
func findPhone(s string, at int) (start, end int, ok bool) {
	switch {
	case s[at] == '+':
		if at+1 < len(s) && s[at+1] == '1' {
			if end, ok := nanp(s, at+2, true); ok {
				return at, end, true
			}
			return 0, 0, false
		}
		if end, ok := intlPhone(s, at+1); ok {
			return at, end, true
		}
		return 0, 0, false
	case s[at] == '1' && at+2 < len(s) && (s[at+1] == '-' || s[at+1] == '.' || s[at+1] == ' '):
		// 1-800-555-0199: the trunk prefix, then a whole number.
		if end, ok := nanp(s, at+2, false); ok && (s[at+1] != ' ' || s[at+2] == '(') {
			return at, end, true
		}
	}
	if end, ok := nanp(s, at, false); ok {
		return at, end, true
	}
	return 0, 0, false
}

// nanp parses a North American number (area code, exchange, line) starting at i. afterCountry
// says "+1" came just before, which also allows spaces and no separators at all.
func nanp(s string, i int, afterCountry bool) (end int, ok bool) {
	n := len(s)
	if afterCountry && digitsAt(s, i, 10) {
		// +14155550134
		if s[i] < '2' || s[i+3] < '2' || !numberEnd(s, i+10) {
			return 0, false
		}
		return i + 10, true
	}
	if afterCountry && i < n && (s[i] == ' ' || s[i] == '-' || s[i] == '.') {
		i++
	}
	parens := false
	if i < n && s[i] == '(' {
		parens = true
		i++
	}
	if !digitsAt(s, i, 3) || s[i] < '2' {
		return 0, false
	}
	i += 3
	var sep byte
	if parens {
		if i >= n || s[i] != ')' {
			return 0, false
		}
		i++
		if i < n && (s[i] == ' ' || s[i] == '-' || s[i] == '.') {
			i++
		}
	} else {
		if i < n && (s[i] == ' ' || s[i] == '-' || s[i] == '.') {
			sep = s[i]
			i++
		}
		if (sep == ' ' || sep == 0) && !afterCountry {
			return 0, false
		}
	}
	if !digitsAt(s, i, 3) || s[i] < '2' {
		return 0, false
	}
	i += 3
	switch {
	case parens:
		if i < n && (s[i] == ' ' || s[i] == '-' || s[i] == '.') {
			i++
		}
	case sep != 0:
		if i >= n || s[i] != sep {
			return 0, false
		}
		i++
	}
	if !digitsAt(s, i, 4) {
		return 0, false
	}
	i += 4
	if !numberEnd(s, i) {
		return 0, false
	}
	return i, true
}

// intlPhone parses the digits of an international number after its '+': groups of digits
// separated by single spaces, dashes or dots, optionally a "(0)" trunk prefix, 8 to 15 digits
// in all, starting with a country code.
func intlPhone(s string, i int) (end int, ok bool) {
	n, i0 := len(s), i
	digits, groups, firstLen, sepAfterFirst := 0, 0, 0, false
	end = -1
	for i < n {
		if s[i] == '(' && groups > 0 {
			j := i + 1
			for j < n && isDigit(s[j]) && j-i <= 4 {
				j++
			}
			if j == i+1 || j >= n || s[j] != ')' {
				break
			}
			digits += j - i - 1
			i = j + 1
			if i < n && (s[i] == ' ' || s[i] == '-') && i+1 < n && isDigit(s[i+1]) {
				i++
			}
			continue
		}
		j := i
		for j < n && isDigit(s[j]) {
			j++
		}
		if j == i {
			break
		}
		digits += j - i
		if groups == 0 {
			firstLen = j - i
		}
		groups++
		end, i = j, j
		if digits > 15 {
			return 0, false
		}
		if i+1 < n && (s[i] == ' ' || s[i] == '-' || s[i] == '.') && (isDigit(s[i+1]) || s[i+1] == '(') {
			if groups == 1 {
				sepAfterFirst = true
			}
			i++
			continue
		}
		break
	}
	if end < 0 || digits < 8 || !numberEnd(s, end) {
		return 0, false
	}
	if sepAfterFirst && !countryCode(s[i0:i0+firstLen]) {
		return 0, false
	}
	return end, true
}

// countryCode reports whether cc is an assigned international calling code, so that "+100 200
// 300" is not taken for a phone number. North America (1) is not among them: those numbers
// have their own shape (see nanp).
func countryCode(cc string) bool {
	switch len(cc) {
	case 1:
		return cc == "7"
	case 2:
		switch cc {
		case "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
			"46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61",
			"62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94",
			"95", "98":
			return true
		}
	case 3:
		switch cc[:2] {
		case "21", "22", "23", "24", "25", "26", "29", "35", "37", "38", "42", "50", "59", "67",
			"68", "69", "85", "87", "88", "96", "97", "99":
			return true
		}
	}
	return false
}

// digitsAt reports whether s has exactly k digits at i (and not a longer run).
func digitsAt(s string, i, k int) bool {
	if i+k > len(s) {
		return false
	}
	for j := i; j < i+k; j++ {
		if !isDigit(s[j]) {
			return false
		}
	}
	return i+k == len(s) || !isDigit(s[i+k])
}

// numberEnd reports whether a number may end at i: not followed by a letter or digit, nor by a
// decimal part or a further dashed or dotted group.
func numberEnd(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	c := s[i]
	if isWord(c) {
		return false
	}
	if (c == '.' || c == '-') && i+1 < len(s) && isDigit(s[i+1]) {
		return false
	}
	return true
}
