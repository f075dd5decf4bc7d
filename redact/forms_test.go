package redact

import (
	"testing"

	"claude-otel-gw/config"
)

// formCases are the forms the detectors' contract names, one or more each, and their near
// misses: written for these tests, not taken from the corpus.
var formCases = map[string][]detectorCase{
	"email": {
		{"From: \"Ops\" <ops-team@sub.example.io>", "From: \"Ops\" <[REDACTED:email]>"},
		{"ALICE@EXAMPLE.COM wrote", "[REDACTED:email] wrote"},
		{"reply to first.last+tag@mail.example.museum;", "reply to [REDACTED:email];"},
		same("see https://medium.com/@alice/post-1"),
		same("ssh-keygen -C deploy@host, then user@127"),
		same("decorator @dataclass(frozen=True) and @Override"),
	},
	"phone": {
		{"JP +81 3-1234-5678", "JP [REDACTED:phone]"},
		{"IN +91 98765 43210", "IN [REDACTED:phone]"},
		{"AU +61 2 9876 5432", "AU [REDACTED:phone]"},
		{"BR +55 11 91234-5678", "BR [REDACTED:phone]"},
		{"CN +86 138 0013 8000", "CN [REDACTED:phone]"},
		{"DE +49 (0)30 901820", "DE [REDACTED:phone]"},
		{"NL +31.20.123.4567", "NL [REDACTED:phone]"},
		{"tel:+442079460958", "tel:[REDACTED:phone]"},
		{"(212) 555-0175 x12", "[REDACTED:phone] x12"},
		{"1 (800) 555-0199", "[REDACTED:phone]"},
		same("+49 alone, +1 555, a+12 34"),
		same("offset +02:00 and -05:00, delta +15 ms"),
		same("chmod 755 555-01; range 100-200-300"),
		same("epoch 1795639196052 and 4155550134567"),
	},
	"ssn": {
		{"SSN: 123-45-6789", "SSN: [REDACTED:ssn]"},
		{"(ssn 219 09 9999)", "(ssn [REDACTED:ssn])"},
		same("999-45-6789 666-45-6789 000-45-6789 123-00-6789 123-45-0000"),
		same("2026-11-25 and 12-345-6789 and 1234-56-789"),
	},
	"credit_card": {
		{"visa13 4222000000006", "visa13 [REDACTED:credit_card]"},
		{"visa19 4000000000000000006", "visa19 [REDACTED:credit_card]"},
		{"stripe 4242-4242-4242-4242 ok", "stripe [REDACTED:credit_card] ok"},
		{"mc 5555 5555 5555 4444", "mc [REDACTED:credit_card]"},
		{"disc 6011 0009 9013 9424", "disc [REDACTED:credit_card]"},
		{"amex 3782-822463-10005", "amex [REDACTED:credit_card]"},
		same("bad luhn 4242 4242 4242 4241 and 5555-5555-5555-4445"),
		same("no issuer 1234 5678 9012 3452 and 9111111111111111"),
		same("invoice INV-4242424242424242, order #4242424242424241"),
		same("ups 1Z999AA10123456784, usps 9205 5000 0000 0000 0000 00"),
		same("mixed 4242 4242-4242 4242"),
	},
	"ip": {
		{"peer 192.0.2.1, 198.51.100.23", "peer [REDACTED:ip], [REDACTED:ip]"},
		{"ssh ubuntu@203.0.113.5", "ssh ubuntu@[REDACTED:ip]"},
		{"v6 2001:db8:0:0:1::1 end", "v6 [REDACTED:ip] end"},
		{"prefix 2001:db8:: routed", "prefix [REDACTED:ip] routed"},
		{"compressed ::2 and fd00::a", "compressed [REDACTED:ip] and [REDACTED:ip]"},
		{"url http://[2001:db8::42]:8080/", "url http://[[REDACTED:ip]]:8080/"},
		same("oid 1.3.6.1.4.1 and build 10.0.19041.1 and 300.1.1.1"),
		same("rust a::b::c, c++ std::map, hex dead:beef, ratio 16:9"),
		same("unspecified :: and ::1"),
	},
	"vcs_token": {
		{"ghu_16C7e42F292c6912E7710c838347Ae178B4a", "[REDACTED:vcs_token]"},
		{"refresh ghr_16C7e42F292c6912E7710c838347Ae178B4a.", "refresh [REDACTED:vcs_token]."},
		{"git remote add o https://oauth2:glpat-AbCdEfGhIjKlMnOpQrSt@gitlab.com/g/p.git", "git remote add o https://oauth2:[REDACTED:vcs_token]@gitlab.com/g/p.git"},
		same("branch ghp_fix-login and glpat-docs"),
	},
	"ai_key": {
		{`{"x-api-key": "sk-ant-api03-Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0PpOoNnMm"}`, `{"x-api-key": "[REDACTED:ai_key]"}`},
		{"export OPENAI_API_KEY='sk-svcacct-Ab12Cd34Ef56Gh78Ij90Kl12'", "export OPENAI_API_KEY='[REDACTED:ai_key]'"},
		same("flags sk-hynix-memory-module-catalogue and task-1234"),
	},
	"saas_token": {
		{"STRIPE_KEY=sk_live_51H8xYzAbCdEfGhIjKl", "STRIPE_KEY=[REDACTED:saas_token]"},
		{"user xoxp-123456789012-123456789012-1234567890123-abcdef", "user [REDACTED:saas_token]"},
		{"//registry.npmjs.org/:_authToken=npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "//registry.npmjs.org/:_authToken=[REDACTED:saas_token]"},
		same("xoxoxo, SG.tag, npm_modules_cache, sk_live_test"),
	},
	"auth_header": {
		{`curl -H "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l" https://x`, `curl -H "Authorization: Basic [REDACTED:auth_header]" https://x`},
		{"curl --header 'authorization: bearer abc.def-ghi' https://x", "curl --header 'authorization: bearer [REDACTED:auth_header]' https://x"},
		{"http.request.header.authorization=Bearer t0ken", "http.request.header.authorization=Bearer [REDACTED:auth_header]"},
		{"Proxy-Authorization: Basic dXNlcjpwYXNz", "Proxy-Authorization: Basic [REDACTED:auth_header]"},
		same("Authorization: Bearer <token> and Bearer ${API_TOKEN}"),
		same("the basic idea; bearer of bad news; Basic HTTP authentication"),
	},
	"url_credentials": {
		{"MONGO=mongodb+srv://admin:S3cr3t!@cluster0.example.net/db", "MONGO=mongodb+srv://admin:[REDACTED:url_credentials]@cluster0.example.net/db"},
		{"amqp://guest:guest@localhost:5672/", "amqp://guest:[REDACTED:url_credentials]@localhost:5672/"},
		{"ftp://bob:pa%40ss@files.example.com/x", "ftp://bob:[REDACTED:url_credentials]@files.example.com/x"},
		same("postgres://app@db:5432/x and https://host:443/a:b@c"),
		same("mysql://root:$MYSQL_ROOT_PASSWORD@db/x"),
	},
	"secret_assignment": {
		{"MYSQL_ROOT_PASSWORD=r00t-pw docker run", "MYSQL_ROOT_PASSWORD=[REDACTED:secret_assignment] docker run"},
		{"AWS_SESSION_TOKEN=FwoGZXIvYXdzEBYaDH", "AWS_SESSION_TOKEN=[REDACTED:secret_assignment]"},
		{"client_secret: 8f3b2a1c\n", "client_secret: [REDACTED:secret_assignment]\n"},
		{`{"access_token":"abc.def","expires_in":3600}`, `{"access_token":"[REDACTED:secret_assignment]","expires_in":3600}`},
		{"vault login --api-key k3y-42 -v", "vault login --api-key [REDACTED:secret_assignment] -v"},
		{"apikey=abcd1234&q=x", "apikey=[REDACTED:secret_assignment]&q=x"},
		{"passwd: 'letmein'", "passwd: '[REDACTED:secret_assignment]'"},
		{"pwd=s3cret", "pwd=[REDACTED:secret_assignment]"},
		{"dbPassword = \"pa55\"", "dbPassword = \"[REDACTED:secret_assignment]\""},
		{"  password: 'hunter2'  # prod", "  password: '[REDACTED:secret_assignment]'  # prod"},
		same("PWD=/srv/app, pwd: ~/src, password=\"\", token=, secret:"),
		same("The token expired; rotate the secret; the password is stored hashed."),
		same("tokens: 128000, max_tokens=4096, refresh_token_ttl=3600s"),
		same(`if password == "" { return errEmpty }`),
	},
}

// lookAlikes are values that must survive any profile: ids, digests, versions, times,
// durations, ports, numbers that fail a check, tracking and invoice numbers, paths with line
// numbers, and the words password, secret and token in prose.
var lookAlikes = []string{
	"commit 3f786850e387550fdab836ed7e6dc881de23001b, short 3f78685",
	"uuid 123e4567-e89b-12d3-a456-426614174000 and {550E8400-E29B-41D4-A716-446655440000}",
	"trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
	"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==",
	"go 1.26.8, node v22.11.0, python 3.12.7, semver 2.0.0-rc.1+build.5, v0.0.0-20250424160509-463d218d4745",
	"at 2026-11-25T20:39:55.123Z, 2026-11-25 20:39:55 +0000, Tue, 25 Nov 2026 20:39:55 GMT",
	"epoch 1795639195, 1795639196052 ms, 1795639195873000000 ns",
	"took 1m42.5s, 350ms, 2h3m, 1.5µs, 86400s",
	"listening on :8080, 0.0.0.0:4317, localhost:4318, [::]:443",
	"order 4111111111111112, ref 5555 5555 5555 4445",
	"tracking 1Z999AA10123456784 and 9400 1000 0000 0000 0000 00, invoice INV-2026-004211",
	"panic at sinks/queue.go:142:7, see redact/text.go:88 and C:\\src\\main.c(42)",
	"The password reset mail explains how to choose a strong password.",
	"Keep the secret sauce secret; a token of thanks; tokens are counted per request.",
	"claude-opus-5-5 used 1200 input tokens and 340 output tokens costing $0.00762",
	"pid 48213, exit status 137, errno 111, HTTP 503, port 5432",
	"chmod 0755 /usr/local/bin/app && ls -la ~/.config",
	"matrix [1, 2, 3] and map[string]int{\"a\": 1}",
}

func TestForms(t *testing.T) {
	p := mustCompile(t, "default", nil)
	for name, cases := range formCases {
		alone := mustCompile(t, name, &config.Redaction{Detectors: []string{name}})
		for _, c := range cases {
			if got := p.String(c.in); got != c.want {
				t.Errorf("%s: String(%q)\n got %q\nwant %q", name, c.in, got, c.want)
			}
			if got := alone.String(c.in); got != c.want {
				t.Errorf("%s alone: String(%q)\n got %q\nwant %q", name, c.in, got, c.want)
			}
		}
	}
}

func TestLookAlikesSurvive(t *testing.T) {
	p := mustCompile(t, "default", nil)
	for _, s := range lookAlikes {
		if got := p.String(s); got != s {
			t.Errorf("String(%q)\n got %q", s, got)
		}
	}
}
