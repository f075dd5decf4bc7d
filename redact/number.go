package redact

// findSSN finds a US social security number at at, written 078-05-1120 or 078 05 1120, and
// checks the ranges that are never issued: area 000, 666 and 900-999, group 00, serial 0000.
func findSSN(s string, at int) (start, end int, ok bool) {
	if !digitsAt(s, at, 3) || at+11 > len(s) {
		return 0, 0, false
	}
	sep := s[at+3]
	if (sep != '-' && sep != ' ') || !digitsAt(s, at+4, 2) || s[at+6] != sep || !digitsAt(s, at+7, 4) {
		return 0, 0, false
	}
	end = at + 11
	if !numberEnd(s, end) || (end+1 < len(s) && s[end] == sep && isDigit(s[end+1])) {
		return 0, 0, false
	}
	if sep == ' ' && at >= 2 && s[at-1] == ' ' && isDigit(s[at-2]) {
		// One of a longer run of spaced numbers, not a number of its own.
		return 0, 0, false
	}
	area := s[at : at+3]
	if area == "000" || area == "666" || area[0] == '9' || s[at+4:at+6] == "00" || s[at+7:at+11] == "0000" {
		return 0, 0, false
	}
	return at, end, true
}

// findCard finds a payment card number at at: 13 to 19 digits, plain or in groups separated by
// spaces or dashes (4-4-4-4, 4-6-5, ...), with a known issuer prefix and a valid Luhn check
// digit. Only the first group may start the number, so a digit group inside a UUID or a longer
// dashed id never does.
func findCard(s string, at int) (start, end int, ok bool) {
	n := len(s)
	j := at
	for j < n && isDigit(s[j]) {
		j++
	}
	var digits [19]byte
	if run := j - at; run >= 13 {
		if run > 19 || !numberEnd(s, j) || !cardNumber(digits[:copy(digits[:], s[at:j])]) {
			return 0, 0, false
		}
		return at, j, true
	} else if run != 4 || j >= n || (s[j] != ' ' && s[j] != '-') {
		return 0, 0, false
	}
	sep := s[j]
	nd := copy(digits[:], s[at:j])
	best := -1
	for groups := 1; groups < 6 && j < n && s[j] == sep; groups++ {
		k := j + 1
		for k < n && isDigit(s[k]) {
			k++
		}
		g := k - j - 1
		if g < 3 || g > 6 || nd+g > 19 {
			break
		}
		nd += copy(digits[nd:], s[j+1:k])
		j = k
		if nd >= 13 && (numberEnd(s, j) || s[j] == sep) && cardNumber(digits[:nd]) {
			best = j
		}
	}
	if best < 0 {
		return 0, 0, false
	}
	return at, best, true
}

// cardNumber reports whether d (13 to 19 digits) has a known issuer prefix, a length that
// issuer uses, and a valid Luhn check digit.
func cardNumber(d []byte) bool {
	n := len(d)
	if n < 13 || n > 19 {
		return false
	}
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p3 := p2*10 + int(d[2]-'0')
	p4 := p3*10 + int(d[3]-'0')
	var issuer bool
	switch {
	case d[0] == '4': // Visa
		issuer = n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		issuer = n == 16
	case p2 == 34 || p2 == 37: // American Express
		issuer = n == 15
	case p4 == 6011, p2 == 65, p3 >= 644 && p3 <= 649: // Discover
		issuer = n >= 16
	case p4 >= 3528 && p4 <= 3589: // JCB
		issuer = n >= 16
	case p2 == 36 || p2 == 38, p3 >= 300 && p3 <= 305: // Diners Club
		issuer = n >= 14
	case p2 == 62: // UnionPay
		issuer = n >= 16
	}
	return issuer && luhn(d)
}

// luhn checks the Luhn (mod 10) check digit of a string of digits.
func luhn(d []byte) bool {
	sum, double := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}
