package redact

import (
	"cmp"
	"slices"
	"testing"

	"claude-otel-gw/config"
)

// FuzzPrefilter checks that the prefilter's shapes and key patterns pass over nothing a
// detector takes: in any text, the built-in detectors find the same spans through the
// prefilter as they do when every digit that starts a number, every '+' or '(' before a digit,
// every ':' and every '=' is a spot. A detector that comes to take a number or an operator its
// shapes or key patterns do not announce fails here.
func FuzzPrefilter(f *testing.F) {
	for _, c := range readCorpus(f) {
		f.Add(c.Text)
	}
	for _, cases := range []map[string][]detectorCase{detectorCases, moreDetectorCases} {
		for _, cs := range cases {
			for _, c := range cs {
				f.Add(c.in)
			}
		}
	}
	f.Add(prose)
	f.Add(logLines)
	f.Add("1-(415) 555-0134 +1 (415) 555-0134 ....1::2 1:2:3:4:5:6:7:8 a:b:c:d:e:f:1:2 [ip:0123456789ab]2026-11-2542")
	profiles := []*Profile{
		mustCompile(f, "default", nil),
		mustCompile(f, "numbers", &config.Redaction{Detectors: []string{"phone", "ssn", "credit_card", "ip"}}),
		mustCompile(f, "colons", &config.Redaction{Detectors: []string{"ip", "url_credentials", "cloud_key"}}),
		mustCompile(f, "assignments", &config.Redaction{Detectors: []string{"secret_assignment"}}),
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range profiles {
			got, want := spans(p, s, false), spans(p, s, true)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: in %q the prefilter finds\n %v\nbut spots everywhere find\n %v", p.name, s, got, want)
			}
		}
	})
}

// spans returns the spans p's detectors find in s, sorted. everywhere makes every digit that
// starts a number, every '+' or '(' before a digit, every ':' and every '=' a spot, in place of
// the prefilter's shapes and key patterns.
func spans(p *Profile, s string, everywhere bool) []match {
	var sc scanner
	sc.p = p
	if !everywhere {
		sc.collect(s)
	} else {
		sc.s = s
		reports := make([]*acReport, len(s))
		p.pf.ac.scan(s, func(i int, r *acReport) { reports[i] = r })
		for i := 0; i < len(s); i++ {
			if r := reports[i]; r != nil {
				switch r.ev {
				case evAt:
					sc.visit(i, spotEmail, 0)
				case evBracket:
					sc.visit(i, spotMask, 0)
				}
				for _, h := range r.hits {
					switch hit := p.pf.hits[h]; hit.spot {
					case spotNumber, spotIPv6, spotURL:
					default:
						sc.visit(i+1-hit.n, hit.spot, hit.n)
					}
				}
			}
			everySpot(&sc, i)
		}
	}
	ms := append(sc.buf[:sc.n:sc.n], sc.more...)
	slices.SortFunc(ms, func(a, b match) int {
		return cmp.Or(a.start-b.start, a.end-b.end, int(a.id)-int(b.id))
	})
	return ms
}

// everySpot runs the number, IPv6, URL and assignment detectors at i as though every byte
// that may start one of their matches were a spot.
func everySpot(sc *scanner, i int) {
	s, on := sc.s, &sc.p.on
	switch c := s[i]; {
	case isDigit(c) && numberStartRef(s, i):
		sc.visitNumber(i)
	case (c == '+' || c == '(') && on[detPhone] && (i == 0 || !isAlnum(s[i-1])) && i+1 < len(s) && isDigit(s[i+1]):
		sc.visitNumber(i)
	case c == ':' && i >= sc.maskUntil:
		if on[detIP] && i >= sc.colonUntil {
			start, end, seen, ok := findIPv6(s, i)
			if sc.colonUntil = seen; ok {
				sc.add(start, end, detIP)
			}
		}
		if on[detURLCredentials] {
			if start, end, ok := findURLPassword(s, i); ok {
				sc.add(start, end, detURLCredentials)
			}
		}
		if start, end, id, ok := sc.assignment(i); ok {
			sc.add(start, end, id)
		}
	case c == '=' && i >= sc.maskUntil:
		if start, end, id, ok := sc.assignment(i); ok {
			sc.add(start, end, id)
		}
	}
}
