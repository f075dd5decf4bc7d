package redact

import "fmt"

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

// prefilter finds the spots in a string where a detector might match. It is the only part of
// the engine that looks at every byte, in one pass of an automaton (see ac.go) over the
// enabled detectors' literals, the custom patterns' literal prefixes and the bytes that matter
// by themselves (digits, '@', ':', '=', ...); detectors look only around the spots it reports,
// so a string without any costs that pass and nothing else.
type prefilter struct {
	ac   *automaton
	hits []pfHit // by automaton pattern
}

// pfHit is what finding one of the automaton's patterns means.
type pfHit struct {
	spot   spot // a built-in literal's spot
	n      int  // the pattern's length
	custom int  // for a custom pattern's prefix, its index in Profile.custom, plus one
}

// newPrefilter builds the prefilter for the enabled detectors and the custom patterns.
func newPrefilter(on *[numBuiltin]bool, custom []customPattern) (*prefilter, error) {
	return buildPrefilter(on, custom, maxACStates)
}

// buildPrefilter builds a prefilter whose automaton has at most limit states. Custom patterns
// whose prefixes would take it past that (only very many, long ones can) lose their prefixes,
// and then run on every string.
func buildPrefilter(on *[numBuiltin]bool, custom []customPattern, limit int) (*prefilter, error) {
	var events [256]acEvent
	if on[detPhone] || on[detSSN] || on[detCard] || on[detIP] {
		for c := '0'; c <= '9'; c++ {
			events[c] = evNumber
		}
	}
	if on[detPhone] {
		events['+'] = evSign
		events['('] = evSign
	}
	if on[detEmail] {
		events['@'] = evAt
	}
	if on[detIP] || on[detURLCredentials] || on[detSecretAssignment] || on[detCloudKey] {
		events[':'] = evColon
	}
	if on[detSecretAssignment] || on[detCloudKey] {
		events['='] = evEquals
	}
	events['['] = evBracket

	for withCustom := true; ; withCustom = false {
		pf := &prefilter{}
		var pats []acPattern
		for _, l := range literals {
			if !on[l.det] || pf.has(pats, l) {
				continue
			}
			pats = append(pats, acPattern{text: l.text, fold: l.fold, boundary: l.boundary})
			pf.hits = append(pf.hits, pfHit{spot: l.spot, n: len(l.text)})
		}
		for i := range custom {
			if c := &custom[i]; c.prefix != "" && withCustom {
				pats = append(pats, acPattern{text: c.prefix, fold: c.fold})
				pf.hits = append(pf.hits, pfHit{n: len(c.prefix), custom: i + 1})
			}
		}
		var ok bool
		if pf.ac, ok = newAutomaton(pats, &events, limit); ok {
			if !withCustom {
				for i := range custom {
					custom[i].prefix = ""
				}
			}
			return pf, nil
		}
		if !withCustom {
			return nil, fmt.Errorf("the built-in detectors need an automaton of more than %d states", limit)
		}
	}
}

// has reports whether pats already holds l's text for l's spot (a literal that anchors two
// detectors is looked for once).
func (pf *prefilter) has(pats []acPattern, l literal) bool {
	for i, h := range pf.hits {
		if h.custom == 0 && h.spot == l.spot && pats[i].text == l.text {
			return true
		}
	}
	return false
}

// scan reports every spot in s to sc: the one-byte spots in order, each literal at its start.
func (pf *prefilter) scan(s string, sc *scanner) {
	pf.ac.scan(s, func(i int, r *acReport) {
		switch r.ev {
		case evNumber:
			sc.visitNumber(i)
		case evSign:
			if i+1 < len(s) && isDigit(s[i+1]) {
				sc.visit(i, spotNumber, 0)
			}
		case evAt:
			sc.visit(i, spotEmail, 0)
		case evColon:
			sc.visit(i, spotColon, 0)
		case evEquals:
			sc.visit(i, spotEquals, 0)
		case evBracket:
			sc.visit(i, spotMask, 0)
		}
		for _, p := range r.hits {
			h := &pf.hits[p]
			if h.custom > 0 {
				sc.prefixAt(h.custom-1, i+1-h.n)
			} else {
				sc.visit(i+1-h.n, h.spot, h.n)
			}
		}
	})
}
