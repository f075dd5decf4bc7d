package redact

import (
	"regexp"
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// customPattern is a detector from the config: [[redaction.<profile>.pattern]].
type customPattern struct {
	id detID
	re *regexp.Regexp
	// prefix is literal text every match starts with (lower case when fold), or "" when the
	// regex has none. A pattern with a prefix joins the prefilter's automaton and runs only on
	// strings that hold its prefix; one without runs on every string.
	prefix string
	fold   bool
	// asserts: the regex looks at the text before its prefix (^, \b), so it runs over the
	// whole string rather than from the first prefix on.
	asserts bool
}

// maxPrefix bounds a custom pattern's prefix in the automaton; a longer literal is cut (its
// start is still in every match).
const maxPrefix = 32

// maxPrefixed bounds how many custom patterns may have a prefix (the scanner tracks which
// were seen in a 64-bit set); the others run on every string.
const maxPrefixed = 64

// newCustomPattern compiles a custom pattern's regex (already known to compile) and finds its
// literal prefix.
func newCustomPattern(id detID, re *regexp.Regexp, index int) customPattern {
	c := customPattern{id: id, re: re}
	if index >= maxPrefixed {
		return c
	}
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return c
	}
	runes, fold, asserts := literalPrefix(tree.Simplify())
	var b []byte
	for _, r := range runes {
		if fold {
			if !asciiFold(r) {
				break
			}
			r = unicode.ToLower(r)
		}
		if len(b)+utf8.RuneLen(r) > maxPrefix {
			break
		}
		b = utf8.AppendRune(b, r)
	}
	c.prefix, c.fold, c.asserts = string(b), fold, asserts
	return c
}

// literalPrefix returns the literal every match of re starts with (nil for none), whether it
// matches without regard to case, and whether empty-width assertions (^, \b, ...) come before
// it.
func literalPrefix(re *syntax.Regexp) (prefix []rune, fold, asserts bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return re.Rune, re.Flags&syntax.FoldCase != 0, false
	case syntax.OpCapture:
		return literalPrefix(re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			switch sub.Op {
			case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
				syntax.OpWordBoundary, syntax.OpNoWordBoundary:
				asserts = true
				continue
			case syntax.OpEmptyMatch:
				continue
			}
			p, f, a := literalPrefix(sub)
			return p, f, asserts || a
		}
	}
	return nil, false, false
}

// asciiFold reports whether every rune that r matches without regard to case is ASCII, so the
// automaton's ASCII case folding finds all of them. (Go folds k with the Kelvin sign and s with
// the long s.)
func asciiFold(r rune) bool {
	if r >= utf8.RuneSelf {
		return false
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
