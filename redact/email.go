package redact

// findEmail finds an email address around the '@' at at.
func findEmail(s string, at int) (start, end int, ok bool) {
	start = at
	for start > 0 && isLocalChar(s[start-1]) {
		start--
		if at-start > 64 {
			return 0, 0, false
		}
	}
	for start < at && (s[start] == '.' || s[start] == '-' || s[start] == '+' || s[start] == '%') {
		start++ // punctuation before an address ("--alice@...") is not part of it
	}
	if start == at || s[start:at] == "git" || inURLAuthority(s, start) {
		// git@github.com is an SSH login, not a person; user@ in scheme://user@host is
		// url_credentials' business.
		return 0, 0, false
	}
	end = at + 1
	for end < len(s) && isDomainChar(s[end]) {
		end++
		if end-at > 254 {
			return 0, 0, false
		}
	}
	for end > at+1 && (s[end-1] == '.' || s[end-1] == '-') {
		end--
	}
	if !validDomain(s[at+1 : end]) {
		return 0, 0, false
	}
	return start, end, true
}

func isLocalChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func isDomainChar(c byte) bool { return isAlnum(c) || c == '.' || c == '-' }

// validDomain checks a domain of at least two labels ending in an alphabetic top-level domain,
// which rules out module versions (x/net@v0.60.0), image digests (app@sha256:...) and retina
// image names (icon@2x.png).
func validDomain(d string) bool {
	labels, last := 0, 0
	for i := 0; i <= len(d); i++ {
		if i < len(d) && d[i] != '.' {
			continue
		}
		l := d[last:i]
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		if labels == 0 && len(l) == 2 && isDigit(l[0]) && l[1] == 'x' {
			return false
		}
		labels++
		if i == len(d) {
			if len(l) < 2 {
				return false
			}
			for j := 0; j < len(l); j++ {
				if !isAlpha(l[j]) {
					return false
				}
			}
		}
		last = i + 1
	}
	return labels >= 2
}

// inURLAuthority reports whether the text starting at i is the user part of a URL's authority
// (scheme://user@host or scheme://user:password@host).
func inURLAuthority(s string, i int) bool {
	if i >= 2 && s[i-2:i] == "//" {
		return true
	}
	if i < 1 || s[i-1] != ':' {
		return false
	}
	for j := i - 1; j > 0 && i-j < 256; j-- {
		switch c := s[j-1]; {
		case c == '/':
			return j >= 2 && s[j-2] == '/'
		case c == '@' || c == ' ' || c == '\t' || c == '\n' || c == '"' || c == '\'':
			return false
		}
	}
	return false
}
