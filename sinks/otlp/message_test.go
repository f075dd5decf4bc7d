package otlp

import (
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestExcerpt(t *testing.T) {
	s := newScrubber(map[string]string{
		"x-api-key":     "sk-live-abcdefgh12345678",
		"authorization": "Bearer tok-1234567890",
		"x-tenant":      "acme", // too short to be a credential: left alone
	})
	for _, tc := range []struct {
		in, want string
	}{
		{"", ""},
		{"  quota exceeded\n", "quota exceeded"},
		{"key sk-live-abcdefgh12345678 is revoked", "key [REDACTED] is revoked"},
		{"header was Bearer tok-1234567890.", "header was [REDACTED]."},
		{"token tok-1234567890 expired", "token [REDACTED] expired"},
		{"tenant acme unknown", "tenant acme unknown"},
		{"<html>\n  <body>\tBad Gateway</body>\n</html>", "<html> <body> Bad Gateway</body> </html>"},
		{"\xff\xfe\x00binary", "(9 bytes, not text)"},
	} {
		if got := s.excerpt(tc.in); got != tc.want {
			t.Errorf("excerpt(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}

	long := strings.Repeat("é", 1000) // two bytes a rune: a cut must not split one
	got := s.excerpt(long)
	if len(got) > maxExcerpt+len("...") || !strings.HasSuffix(got, "...") || !utf8.ValidString(got) {
		t.Errorf("excerpt of %d bytes = %d bytes %q..., want at most %d valid UTF-8 bytes and an ellipsis", len(long), len(got), got[:20], maxExcerpt)
	}
	// A secret straddling the cut is replaced before the cut, not half-shown.
	secret := strings.Repeat("a", maxExcerpt-5) + " sk-live-abcdefgh12345678"
	if got := s.excerpt(secret); strings.Contains(got, "sk-live") {
		t.Errorf("excerpt shows part of a secret at the cut: %q", got)
	}
}

func TestTLSHint(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{x509.UnknownAuthorityError{}, "not trusted (check ca_file)"},
		{x509.HostnameError{Host: "otlp.example.com", Certificate: &x509.Certificate{}}, "not for this host"},
		{&net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}, "check cert_file and key_file"},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, ""},
		{errors.New("EOF"), ""},
	} {
		if got := tlsHint(tc.err); !strings.Contains(got, tc.want) || (tc.want == "" && got != "") {
			t.Errorf("tlsHint(%v) = %q, want it to say %q", tc.err, got, tc.want)
		}
	}
}

func TestStatusDetail(t *testing.T) {
	for _, tc := range []struct {
		name, ctype, body, want string
	}{
		{"json status", mediaJSON, `{"code":3,"message":"bad span"}`, "bad span"},
		{"json status with an unknown detail", mediaJSON,
			`{"code":3,"message":"bad span","details":[{"@type":"type.googleapis.com/acme.Detail","x":1}]}`, "bad span"},
		{"json that is not a status", mediaJSON + "; charset=utf-8", `{"error":"nope"}`, `{"error":"nope"}`},
		{"text", "text/plain", "upstream timed out", "upstream timed out"},
		{"no content type", "", "oops", "oops"},
		{"empty", mediaProtobuf, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, _ := statusDetail(tc.ctype, []byte(tc.body))
			if got != tc.want {
				t.Errorf("statusDetail = %q, want %q", got, tc.want)
			}
		})
	}
}
