package redact

import (
	"fmt"
	"slices"
	"strings"
)

// spot says what the prefilter found at a position, and so which detectors look there.
type spot uint8

const (
	spotEmail         spot = iota + 1 // '@'
	spotNumber                        // the start of a number with a shape a detector starts with
	spotIPv6                          // "::", or three colons with hex digits between
	spotURL                           // a letter, then "://"
	spotAssign                        // ':' or '=' after a key that may name a secret
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

// shape is a pattern of byte classes (see shapeAccepts) that a detector's matches start with.
type shape struct {
	text  string
	start shapeStart
	spot  spot
	det   detID
}

// shapeStart says where a shape's match may start.
type shapeStart uint8

const (
	startNumber   shapeStart = iota // where a number starts (see ctxOther)
	startBoundary                   // not after a letter or digit
	startAnywhere
)

func (sh *shape) pattern() acPattern {
	return acPattern{text: sh.text, shape: true, number: sh.start == startNumber, boundary: sh.start == startBoundary}
}

// shapes anchor the number detectors and the detectors of what a ':' starts. Each holds what
// every match of its detector starts with, as far as it takes to pass over most text: the
// numbers findPhone, findSSN, findCard and findIPv4 take start with one of them (a grouped
// card number up to the third digit of its second group, an IPv4 address up to the first
// digit of its fourth part); every IPv6 address findIPv6 takes holds a "::" after at most
// four hex digits that follow no letter or digit, or else has all eight groups (net/netip
// takes no fewer), with one to four hex digits between its first colons; every URL
// findURLPassword reads has a letter before its "://". Longer shapes come first, so that two
// ending at one byte are reported in the order they start; shapes ending at different bytes
// are too, as none holds a number that starts inside it and ends with a shape of its own
// before the outer one ends.
var shapes = func() []shape {
	out := []shape{
		{text: "1-N##-N##-####", spot: spotNumber, det: detPhone},
		{text: "1.N##-N##-####", spot: spotNumber, det: detPhone},
		{text: "1-N##.N##.####", spot: spotNumber, det: detPhone},
		{text: "1.N##.N##.####", spot: spotNumber, det: detPhone},
		{text: "#############", spot: spotNumber, det: detCard},
		{text: "N##-N##-####", spot: spotNumber, det: detPhone},
		{text: "N##.N##.####", spot: spotNumber, det: detPhone},
		{text: "###-##-####", spot: spotNumber, det: detSSN},
		{text: "### ## ####", spot: spotNumber, det: detSSN},
		{text: "####-###", spot: spotNumber, det: detCard},
		{text: "#### ###", spot: spotNumber, det: detCard},
		{text: "1-(N##)", spot: spotNumber, det: detPhone},
		{text: "1.(N##)", spot: spotNumber, det: detPhone},
		{text: "1 (N##)", spot: spotNumber, det: detPhone},
		{text: "(N##)", start: startBoundary, spot: spotNumber, det: detPhone},
		{text: "+#", start: startBoundary, spot: spotNumber, det: detPhone},
		{text: "A://", start: startAnywhere, spot: spotURL, det: detURLCredentials},
	}
	// IPv6: "::" after up to four hex digits; three colons, one to four hex digits between the
	// first two and up to four between the last two.
	x := func(n int) string { return strings.Repeat("X", n) }
	for a := range 5 {
		out = append(out, shape{text: x(a) + "::", start: startBoundary, spot: spotIPv6, det: detIP})
	}
	for a := 1; a <= 4; a++ {
		for b := range 5 {
			out = append(out, shape{text: ":" + x(a) + ":" + x(b) + ":", start: startAnywhere, spot: spotIPv6, det: detIP})
		}
	}
	// IPv4: one to three digits in each of the first three parts.
	for _, a := range []string{"###", "##", "#"} {
		for _, b := range []string{"###", "##", "#"} {
			for _, c := range []string{"###", "##", "#"} {
				out = append(out, shape{text: a + "." + b + "." + c + ".#", spot: spotNumber, det: detIP})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b shape) int { return len(b.text) - len(a.text) })
	return out
}()

// keyEnds are how a key that may name a secret ends (see classifyKey, with the separators _ - .
// it ignores): every secret word ends in one of these pairs, or in its last letter after a
// separator. findAssignment takes a key only when one of them ends it, so only the ':' or '='
// after one is reported (see evAssign).
var keyEnds = func() []string {
	var out []string
	for _, e := range []struct{ last, before string }{
		{"d", "rw"}, // password, passwd, pwd
		{"s", "s"},  // pass
		{"e", "s"},  // passphrase
		{"t", "e"},  // secret
		{"n", "e"},  // token
		{"y", "e"},  // apikey, secretkey, ...
	} {
		for _, b := range e.before + "_-." {
			out = append(out, string(b)+e.last)
		}
	}
	return out
}()

// prefilter finds the spots in a string where a detector might match. It is the only part of
// the engine that looks at every byte, in one pass of an automaton (see ac.go) over the
// enabled detectors' literals and shapes, the custom patterns' literal prefixes, the ends of
// keys that may name secrets and the bytes that matter by themselves ('@', '['); detectors
// look only around the spots it reports, so a string without any costs that pass and nothing
// else.
type prefilter struct {
	ac   *automaton
	hits []pfHit // by automaton pattern
	// unanchored says some custom pattern has no prefix, and runs on every string.
	unanchored bool
}

// quiet reports whether s is a short string in which no spot and no custom pattern can be:
// one that need not be scanned again with a scanner set up to look at spots. For a long
// string, setting up the scanner costs little beside the scan.
func (pf *prefilter) quiet(s string) bool {
	return !pf.unanchored && pf.ac.onePass(len(s)) && pf.ac.quiet(s)
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
	if on[detEmail] {
		events['@'] = evAt
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
		for _, sh := range shapes {
			if on[sh.det] {
				pats = append(pats, sh.pattern())
				pf.hits = append(pf.hits, pfHit{spot: sh.spot, n: len(sh.text)})
			}
		}
		if on[detSecretAssignment] || on[detCloudKey] {
			for _, k := range keyEnds {
				pats = append(pats, acPattern{text: k, fold: true, keyEnd: true})
				pf.hits = append(pf.hits, pfHit{n: len(k)}) // never reported
			}
		}
		for i := range custom {
			if c := &custom[i]; c.prefix != "" && withCustom {
				pats = append(pats, acPattern{text: c.prefix, fold: c.fold})
				pf.hits = append(pf.hits, pfHit{n: len(c.prefix), custom: i + 1})
			}
		}
		var ok bool
		if pf.ac, ok = newAutomaton(pats, &events, limit); ok {
			for i := range custom {
				if !withCustom {
					custom[i].prefix = ""
				}
				pf.unanchored = pf.unanchored || custom[i].prefix == ""
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
		case evAt:
			sc.visit(i, spotEmail, 0)
		case evAssign:
			sc.visit(i, spotAssign, 0)
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
