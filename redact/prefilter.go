package redact

// spot says what the prefilter found at a position, and so which detectors look there.
type spot uint8

const (
	spotEmail         spot = iota + 1 // '@'
	spotNumber                        // a digit, '+' or '(' that may start a number
	spotColon                         // ':' (IPv6, "://", key: value)
	spotEquals                        // '=' (key=value)
	spotMask                          // '[' that may open a mask from an earlier redaction
	spotFlag                          // "--" that may start --key value
	spotCurlUser                      // curl's -u / --user
	spotPEM                           // -----BEGIN
	spotJWT                           // eyJ
	spotAWSKeyID                      // AKIA, ASIA
	spotGCPKey                        // AIza
	spotOAuth                         // ya29.
	spotGitHub                        // ghp_ gho_ ghu_ ghs_ ghr_
	spotGitHubPAT                     // github_pat_
	spotGitLab                        // glpat- and the other GitLab token prefixes
	spotSK                            // sk- (Anthropic, OpenAI)
	spotSlack                         // xox?- and xapp-
	spotSlackHook                     // hooks.slack.com/
	spotStripe                        // sk_live_ rk_live_ sk_test_ rk_test_ whsec_
	spotSendGrid                      // SG.
	spotNPM                           // npm_, hf_: 30 or more letters and digits
	spotSaaSB64                       // dckr_pat_, pypi-: 20 or more base64url characters
	spotBearer                        // bearer (any case)
	spotBasic                         // basic (any case)
	spotAWSSecretName                 // secret_access_key (any case), a name an AWS secret follows
	spotGoogleSecret                  // GOCSPX- (Google OAuth client secret)
	spotCLIFlag                       // -p, -a: password options of a few commands
)

// literal is a fixed string that anchors a detector.
type literal struct {
	text     string // as written; lower case when fold is set
	fold     bool   // match without regard to case
	boundary bool   // must not follow a letter or digit
	spot     spot
	det      detID
}

// literals anchor the detectors that start with a fixed string. A profile's prefilter holds
// only those whose detector it runs.
var literals = []literal{
	{text: "-----BEGIN", spot: spotPEM, det: detPrivateKey},
	{text: "eyJ", boundary: true, spot: spotJWT, det: detJWT},
	{text: "AKIA", boundary: true, spot: spotAWSKeyID, det: detCloudKey},
	{text: "ASIA", boundary: true, spot: spotAWSKeyID, det: detCloudKey},
	{text: "AIza", boundary: true, spot: spotGCPKey, det: detCloudKey},
	{text: "ya29.", boundary: true, spot: spotOAuth, det: detCloudKey},
	{text: "ghp_", boundary: true, spot: spotGitHub, det: detVCSToken},
	{text: "gho_", boundary: true, spot: spotGitHub, det: detVCSToken},
	{text: "ghu_", boundary: true, spot: spotGitHub, det: detVCSToken},
	{text: "ghs_", boundary: true, spot: spotGitHub, det: detVCSToken},
	{text: "ghr_", boundary: true, spot: spotGitHub, det: detVCSToken},
	{text: "github_pat_", boundary: true, spot: spotGitHubPAT, det: detVCSToken},
	{text: "glpat-", boundary: true, spot: spotGitLab, det: detVCSToken},
	{text: "gldt-", boundary: true, spot: spotGitLab, det: detVCSToken},
	{text: "glrt-", boundary: true, spot: spotGitLab, det: detVCSToken},
	{text: "glptt-", boundary: true, spot: spotGitLab, det: detVCSToken},
	{text: "sk-", boundary: true, spot: spotSK, det: detAIKey},
	{text: "xox", boundary: true, spot: spotSlack, det: detSaaSToken},
	{text: "xapp-", boundary: true, spot: spotSlack, det: detSaaSToken},
	{text: "hooks.slack.com/", boundary: true, spot: spotSlackHook, det: detSaaSToken},
	{text: "sk_live_", boundary: true, spot: spotStripe, det: detSaaSToken},
	{text: "rk_live_", boundary: true, spot: spotStripe, det: detSaaSToken},
	{text: "sk_test_", boundary: true, spot: spotStripe, det: detSaaSToken},
	{text: "rk_test_", boundary: true, spot: spotStripe, det: detSaaSToken},
	{text: "whsec_", boundary: true, spot: spotStripe, det: detSaaSToken},
	{text: "SG.", boundary: true, spot: spotSendGrid, det: detSaaSToken},
	{text: "npm_", boundary: true, spot: spotNPM, det: detSaaSToken},
	{text: "dckr_pat_", boundary: true, spot: spotSaaSB64, det: detSaaSToken},
	{text: "pypi-AgEIcHlwaS5vcmc", boundary: true, spot: spotSaaSB64, det: detSaaSToken},
	{text: "hf_", boundary: true, spot: spotNPM, det: detSaaSToken},
	{text: "secret_access_key", fold: true, spot: spotAWSSecretName, det: detCloudKey},
	{text: "GOCSPX-", boundary: true, spot: spotGoogleSecret, det: detCloudKey},
	{text: "-p", spot: spotCLIFlag, det: detSecretAssignment},
	{text: "-a", spot: spotCLIFlag, det: detSecretAssignment},
	{text: "bearer", fold: true, boundary: true, spot: spotBearer, det: detAuthHeader},
	{text: "basic", fold: true, boundary: true, spot: spotBasic, det: detAuthHeader},
	{text: "-u ", spot: spotCurlUser, det: detAuthHeader},
	{text: "--user", spot: spotCurlUser, det: detAuthHeader},
	{text: "--", spot: spotFlag, det: detSecretAssignment},
	{text: "--", spot: spotFlag, det: detCloudKey}, // --aws-secret-access-key
}

// Byte classes of the prefilter's table.
const (
	classLiteral = 1 << iota // starts at least one literal
	classAt
	classDigit
	classSign // '+' or '(' before a number
	classColon
	classEquals
	classBracket
)

// prefilter finds the spots in a string where a detector might match. It is the only part of
// the engine that looks at every byte; detectors look only around the spots it reports, so a
// string without any costs one pass over a table. It is one piece so that it can be replaced
// (by an Aho-Corasick automaton over the literals, say) without touching the detectors.
type prefilter struct {
	class [256]uint8
	// Literals by first byte (both cases for folded literals): those that must start a word,
	// and those that may start anywhere. Inside a word, which is where most letters are, only
	// the second list is looked at.
	wordStart, anywhere [256][]literal
}

// newPrefilter builds the prefilter for the enabled detectors.
func newPrefilter(on *[numBuiltin]bool) *prefilter {
	pf := &prefilter{}
	for _, l := range literals {
		if !on[l.det] || pf.has(l) {
			continue
		}
		firsts := []byte{l.text[0]}
		if l.fold && isAlpha(l.text[0]) {
			firsts = append(firsts, l.text[0]-('a'-'A'))
		}
		for _, c := range firsts {
			pf.class[c] |= classLiteral
			if l.boundary {
				pf.wordStart[c] = append(pf.wordStart[c], l)
			} else {
				pf.anywhere[c] = append(pf.anywhere[c], l)
			}
		}
	}
	if on[detEmail] {
		pf.class['@'] |= classAt
	}
	if on[detPhone] || on[detSSN] || on[detCard] || on[detIP] {
		for c := byte('0'); c <= '9'; c++ {
			pf.class[c] |= classDigit
		}
	}
	if on[detPhone] {
		pf.class['+'] |= classSign
		pf.class['('] |= classSign
	}
	if on[detIP] || on[detURLCredentials] || on[detSecretAssignment] || on[detCloudKey] {
		pf.class[':'] |= classColon
	}
	if on[detSecretAssignment] || on[detCloudKey] {
		pf.class['='] |= classEquals
	}
	pf.class['['] |= classBracket
	return pf
}

// has reports whether the prefilter already looks for l's text at l's spot (for a literal that
// anchors two detectors).
func (pf *prefilter) has(l literal) bool {
	for _, o := range append(pf.wordStart[l.text[0]], pf.anywhere[l.text[0]]...) {
		if o.text == l.text && o.spot == l.spot {
			return true
		}
	}
	return false
}

// scan calls visit for every spot in s, in order. n is the length of the literal found, 0 for
// a single-byte spot.
func (pf *prefilter) scan(s string, visit func(at int, sp spot, n int)) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		cl := pf.class[c]
		if cl == 0 {
			continue
		}
		switch {
		case cl&classLiteral != 0:
			if !wordBefore(s, i) {
				for j := range pf.wordStart[c] {
					if l := &pf.wordStart[c][j]; l.at(s, i) {
						visit(i, l.spot, len(l.text))
					}
				}
			}
			for j := range pf.anywhere[c] {
				if l := &pf.anywhere[c][j]; l.at(s, i) {
					visit(i, l.spot, len(l.text))
				}
			}
		case cl&classDigit != 0:
			if numberStart(s, i) {
				visit(i, spotNumber, 0)
			}
		case cl&classAt != 0:
			visit(i, spotEmail, 0)
		case cl&classColon != 0:
			visit(i, spotColon, 0)
		case cl&classEquals != 0:
			visit(i, spotEquals, 0)
		case cl&classSign != 0:
			if i+1 < len(s) && isDigit(s[i+1]) && !wordBefore(s, i) {
				visit(i, spotNumber, 0)
			}
		case cl&classBracket != 0:
			visit(i, spotMask, 0)
		}
	}
}

// at reports whether the literal occurs at s[i:] (its first byte is known to match, and its
// boundary to hold).
func (l *literal) at(s string, i int) bool {
	if len(s)-i < len(l.text) {
		return false
	}
	if l.fold {
		return lower(s[i+1]) == l.text[1] && hasPrefixFold(s, i, l.text)
	}
	return s[i+1] == l.text[1] && s[i:i+len(l.text)] == l.text
}

// numberStart reports whether the digit at i starts a number of its own, rather than
// continuing a word (v1, sha256), a decimal or dotted number (1.5, 10.0.0.1), or a hyphenated
// identifier (e20e-46c3). Numbers inside those are never phone, card or SSN numbers.
func numberStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	switch p := s[i-1]; {
	case isWord(p), p == '.':
		return false
	case p == '-':
		return i < 2 || !isAlnum(s[i-2])
	}
	return true
}
