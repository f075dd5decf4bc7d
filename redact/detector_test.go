package redact

import (
	"testing"

	"claude-otel-gw/config"
)

// detectorCase is a text and what the default profile must make of it.
type detectorCase struct {
	in, want string
}

// same is a look-alike that must come out untouched.
func same(s string) detectorCase { return detectorCase{s, s} }

var detectorCases = map[string][]detectorCase{
	"email": {
		{"mail alice@example.com now", "mail [REDACTED:email] now"},
		{"<Bob.Jones+ci@mail.corp.example.co.uk>", "<[REDACTED:email]>"},
		{"mailto:ops@example.net.", "mailto:[REDACTED:email]."},
		{`{"user.email":"jane.doe@example.com"}`, `{"user.email":"[REDACTED:email]"}`},
		{"Co-Authored-By: Claude <noreply@anthropic.com>", "Co-Authored-By: Claude <[REDACTED:email]>"},
		same("git clone git@github.com:acme/billing.git"),
		same("go get golang.org/x/net@v0.60.0"),
		same("docker pull app@sha256:9f86d081884c7d659a2feaa0"),
		same("npm i @types/node and use @decorator"),
		same("icon@2x.png and user@localhost"),
		same("written to a@b"),
	},
	"phone": {
		{"call (415) 555-0134 today", "call [REDACTED:phone] today"},
		{"call 415-555-0199.", "call [REDACTED:phone]."},
		{"call 415.555.0199", "call [REDACTED:phone]"},
		{"call +1 415 555 0134", "call [REDACTED:phone]"},
		{"call +1 (415) 555-0134", "call [REDACTED:phone]"},
		{"call +14155550134", "call [REDACTED:phone]"},
		{"call 1-800-555-0199", "call [REDACTED:phone]"},
		{"UK +44 20 7946 0958", "UK [REDACTED:phone]"},
		{"FR +33 6 12 34 56 78", "FR [REDACTED:phone]"},
		{"ES +34 912 345 678", "ES [REDACTED:phone]"},
		{"DE +49 30 901820", "DE [REDACTED:phone]"},
		{"UK +44 (0)20 7946 0958", "UK [REDACTED:phone]"},
		{"RU +7 495 123-45-67", "RU [REDACTED:phone]"},
		same("sizes 512 256 1024"),
		same("area 123-456-7890"), // area codes never start with 1
		same("score +100 200 300"),
		same("ratio +12.5%"),
		same("version 415-555-0199-2"),
		same("date 2026-11-25 and 20:39:55"),
		same("id 4155550134"),
		same("x415-555-0199"),
	},
	"ssn": {
		{"SSN 078-05-1120.", "SSN [REDACTED:ssn]."},
		{"ssn: 078 05 1120", "ssn: [REDACTED:ssn]"},
		same("bad area 000-12-3456, 666-12-3456, 900-12-3456"),
		same("bad group 078-00-1120, bad serial 078-05-0000"),
		same("run 1 078 05 1120 2"),
		same("id 078-05-1120-7"),
		same("part A078-05-1120"),
	},
	"credit_card": {
		{"visa 4111 1111 1111 1111", "visa [REDACTED:credit_card]"},
		{"visa 4111111111111111.", "visa [REDACTED:credit_card]."},
		{"mc 5500-0000-0000-0004", "mc [REDACTED:credit_card]"},
		{"mc2 2221000000000009", "mc2 [REDACTED:credit_card]"},
		{"amex 3714 496353 98431", "amex [REDACTED:credit_card]"},
		{"amex 378282246310005", "amex [REDACTED:credit_card]"},
		{"discover 6011111111111117", "discover [REDACTED:credit_card]"},
		{"jcb 3530111333300000", "jcb [REDACTED:credit_card]"},
		{"diners 3056 930902 5904", "diners [REDACTED:credit_card]"},
		{"unionpay 6200000000000005", "unionpay [REDACTED:credit_card]"},
		{"card 4111 1111 1111 1111 2029", "card [REDACTED:credit_card] 2029"},
		same("order 4111111111111112"),    // Luhn-invalid
		same("nanos 1795639195873000000"), // no issuer starts with 1
		same("tracking 9400 1000 0000 0000 0000 00"),
		same("uuid 41111111-1111-1111-1111-111111111111"),
		same("hex 4111111111111111abc"),
		same("fedex 7489 1234 5678"),
	},
	"ip": {
		{"from 10.20.30.40:8080", "from [REDACTED:ip]:8080"},
		{"dns 8.8.8.8.", "dns [REDACTED:ip]."},
		{"net 192.168.1.0/24", "net [REDACTED:ip]/24"},
		{"v6 2001:db8::1 ok", "v6 [REDACTED:ip] ok"},
		{"v6 [2001:db8:85a3::8a2e:370:7334]:443", "v6 [[REDACTED:ip]]:443"},
		{"ll fe80::1ff:fe23:4567:890a%eth0 up", "ll [REDACTED:ip] up"},
		{"mapped ::ffff:192.0.2.128", "mapped [REDACTED:ip]"},
		{"full 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "full [REDACTED:ip]"},
		same("loopback 127.0.0.1:4317 and ::1 and 0.0.0.0:9317"),
		same("versions 1.26.8, v1.85.0 and 1.2.3.4.5"),
		same("bad 256.1.1.1 and 01.2.3.4"),
		same("times 20:39:55 and 2026-11-25T20:39:55Z"),
		same("mac 00:1a:2b:3c:4d:5e"),
		same("code std::vector a::b"),
		same("digest sha256:9f86d081884c7d659a2feaa0c55ad015"),
	},
	"cloud_key": {
		{"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY_ID=[REDACTED:cloud_key]"},
		{"temp ASIAY34FZKBOKMUTVV7A here", "temp [REDACTED:cloud_key] here"},
		{"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = [REDACTED:cloud_key]"},
		{`"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"`, `"SecretAccessKey": "[REDACTED:cloud_key]"`},
		{"--aws-secret-access-key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "--aws-secret-access-key [REDACTED:cloud_key]"},
		{"key=AIzaSyA1b2C3d4E5f6G7h8I9j0KLMNOPQRSTUVW&q=1", "key=[REDACTED:cloud_key]&q=1"},
		{"Authorization: Bearer ya29.a0AfH6SMBx3jKq-Zr8_example_token_value", "Authorization: Bearer [REDACTED:cloud_key]"},
		same("AKIA is the prefix; AKIAIOSFODNN7EXAMPLEX is too long"),
		same("AIzaShort"),
	},
	"vcs_token": {
		{"GH_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a gh pr list", "GH_TOKEN=[REDACTED:vcs_token] gh pr list"},
		{"https://gho_16C7e42F292c6912E7710c838347Ae178B4a@github.com/x", "https://[REDACTED:vcs_token]@github.com/x"},
		{"pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "pat [REDACTED:vcs_token]"},
		{"gitlab glpat-AbCdEfGhIjKlMnOpQrSt", "gitlab [REDACTED:vcs_token]"},
		same("ghp_short and aghp_16C7e42F292c6912E7710c838347Ae178B4a"),
	},
	"ai_key": {
		{"key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd", "key [REDACTED:ai_key]"},
		{"key sk-proj-Xy12Ab34Cd56Ef78Gh90Ij12Kl34Mn56", "key [REDACTED:ai_key]"},
		{"key sk-T3BlbkFJabcdefghij0123456789ABCDEFGHIJ", "key [REDACTED:ai_key]"},
		same("pip install scikit-learn sk-learn; task-list; sk-abcdefghijklmnopqrstuvwxyz"),
	},
	"saas_token": {
		{"bot xoxb-123456789012-1234567890123-AbCdEfGhIjKl", "bot [REDACTED:saas_token]"},
		{"app xapp-1-A0123456789-1234567890123-abcdef", "app [REDACTED:saas_token]"},
		{"https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXX/", "https://hooks.slack.com/services/[REDACTED:saas_token]/"},
		{"stripe rk_live_51H8xYzAbCdEfGhIjKl", "stripe [REDACTED:saas_token]"},
		{"SG.abcdefghijklmnopqrstuv.ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq", "[REDACTED:saas_token]"},
		{"npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "[REDACTED:saas_token]"},
		same("xoxo hugs, SG.x, npm_install, sk_live_"),
	},
	"jwt": {
		{"t=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U;", "t=[REDACTED:jwt];"},
		{"none eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. ok", "none [REDACTED:jwt] ok"},
		same("eyJust a word, eyJhbGciOiJIUzI1NiJ9 alone"),
	},
	"private_key": {
		{"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----\n[REDACTED:private_key]\n-----END PRIVATE KEY-----"},
		{`{"key":"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----\n"}`, `{"key":"-----BEGIN OPENSSH PRIVATE KEY-----\n[REDACTED:private_key]\n-----END OPENSSH PRIVATE KEY-----\n"}`},
		{"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBYr", "-----BEGIN EC PRIVATE KEY-----\n[REDACTED:private_key]"},
		same("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----"),
		same("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYI\n-----END PUBLIC KEY-----"),
	},
	"auth_header": {
		{"curl -H 'Authorization: Bearer 8f14e45fceea167a5a36dedd4bea2543abc' x", "curl -H 'Authorization: Bearer [REDACTED:auth_header]' x"},
		{"OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer abc", "OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer [REDACTED:auth_header]"},
		{`{"authorization": "Basic dXNlcjpwYXNz"}`, `{"authorization": "Basic [REDACTED:auth_header]"}`},
		{"Bearer 0123456789abcdefXYZ", "Bearer [REDACTED:auth_header]"},
		{"sent Basic Y2k6czNjcmV0 to it", "sent Basic [REDACTED:auth_header] to it"},
		{"curl -u admin:hunter2 https://x", "curl -u admin:[REDACTED:auth_header] https://x"},
		{"curl --user 'admin:hunter 2' https://x", "curl --user 'admin:[REDACTED:auth_header]' https://x"},
		same("use a bearer token with basic auth; Bearer authentication"),
		same("Authorization: Bearer $TOKEN"),
		same("docker run -u 1000:1000 img; sort -u a:b"),
	},
	"url_credentials": {
		{"postgres://app:hunter2@db.internal:5432/billing", "postgres://app:[REDACTED:url_credentials]@db.internal:5432/billing"},
		{"redis://:s3cr3t@cache:6379", "redis://:[REDACTED:url_credentials]@cache:6379"},
		{"https://u:p@ss@host/x", "https://u:[REDACTED:url_credentials]@host/x"},
		same("https://alice@example.com/x and postgres://app:${DB_PASS}@db/x"),
		same("https://example.com:8443/path?q=a@b"),
	},
	"secret_assignment": {
		{"export DB_PASSWORD=hunter2 && psql", "export DB_PASSWORD=[REDACTED:secret_assignment] && psql"},
		{"PGPASSWORD='p@ss w0rd' psql -h db", "PGPASSWORD='[REDACTED:secret_assignment]' psql -h db"},
		{"SECRET_KEY=django-insecure-abc123", "SECRET_KEY=[REDACTED:secret_assignment]"},
		{"password: hunter2\nuser: deploy", "password: [REDACTED:secret_assignment]\nuser: deploy"},
		{`{"api_key": "abc123def456", "n": 1}`, `{"api_key": "[REDACTED:secret_assignment]", "n": 1}`},
		{`{\"password\":\"hunter2\"}`, `{\"password\":\"[REDACTED:secret_assignment]\"}`},
		{`password := "hunter2"`, `password := "[REDACTED:secret_assignment]"`},
		{"mysql --password hunter2 -u root", "mysql --password [REDACTED:secret_assignment] -u root"},
		{"app --client-secret=abc123", "app --client-secret=[REDACTED:secret_assignment]"},
		{"https://x/cb?access_token=abc123&state=1", "https://x/cb?access_token=[REDACTED:secret_assignment]&state=1"},
		{"X-Api-Key: 0123abcd", "X-Api-Key: [REDACTED:secret_assignment]"},
		{"DB_PASS=letmein", "DB_PASS=[REDACTED:secret_assignment]"},
		{"passphrase = correct horse\n", "passphrase = [REDACTED:secret_assignment]\n"},
		same("Reset the password flow so users can change their password."),
		same("The password: it must be 12 characters long."),
		same("token_count=12 max_tokens: 4096 input_tokens=1200 max_token: 10"),
		same("password = getpass() and token = cfg.token, secret: ${SECRET}"),
		same(`Password: cfg.Password, token: token, "password": null, password == "x"`),
		same("PWD=/home/dev/src OLDPWD=/tmp bypass=1 compass=north"),
		same("password: string; token?: string"),
		same("api_key=os.environ['API_KEY']"),
	},
}

func TestDetectors(t *testing.T) {
	p := mustCompile(t, "default", nil)
	for name, cases := range detectorCases {
		t.Run(name, func(t *testing.T) {
			for _, c := range cases {
				if got := p.String(c.in); got != c.want {
					t.Errorf("String(%q)\n got %q\nwant %q", c.in, got, c.want)
				}
			}
		})
	}
}

// TestDetectorsAlone runs each detector's true positives with only that detector enabled: each
// must find its own values without help from the others.
func TestDetectorsAlone(t *testing.T) {
	for name, cases := range detectorCases {
		t.Run(name, func(t *testing.T) {
			p := mustCompile(t, name, &config.Redaction{Detectors: []string{name}})
			for _, c := range cases {
				if got := p.String(c.in); got != c.want {
					t.Errorf("String(%q)\n got %q\nwant %q", c.in, got, c.want)
				}
			}
		})
	}
}

func TestDetectorNamesMatchConfig(t *testing.T) {
	if len(config.Detectors) != len(builtinNames) {
		t.Fatalf("config.Detectors has %d names, redact has %d", len(config.Detectors), len(builtinNames))
	}
	for i, n := range config.Detectors {
		if builtinNames[i] != n {
			t.Errorf("detector %d: config says %q, redact says %q", i, n, builtinNames[i])
		}
	}
	for _, n := range config.Detectors {
		if _, ok := detectorCases[n]; !ok {
			t.Errorf("detector %q has no test cases", n)
		}
	}
}

var moreDetectorCases = map[string][]detectorCase{
	"phone": {
		{"call 1.800.555.0199", "call [REDACTED:phone]"},
		{"call 1 (800) 555-0199", "call [REDACTED:phone]"},
		{"call 1.800-555-0199 now", "call [REDACTED:phone] now"},
	},
	"ip": {
		{"six 1:2:3:4:5:6:1.2.3.4 ok", "six [REDACTED:ip] ok"},
		{"lead ...2001:db8::1 ok", "lead ...[REDACTED:ip] ok"},
		{"ff02::1:2", "[REDACTED:ip]"},
		same("logged 10:20:30.5 ok, 1::2::3, x:2001:db8::1"),
		same("run abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd::1"),
	},
	"cloud_key": {
		{"aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws configure set aws_secret_access_key [REDACTED:cloud_key]"},
		{"client_secret=GOCSPX-abcdefghijklmnopqrstuvwx&x=1", "client_secret=[REDACTED:cloud_key]&x=1"},
		same("aws_secret_access_key_id wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
	},
	"vcs_token": {
		{"https://x-access-token:ghs_16C7e42F292c6912E7710c838347Ae178B4a@github.com/o/r.git", "https://x-access-token:[REDACTED:vcs_token]@github.com/o/r.git"},
	},
	"saas_token": {
		{"docker login -p dckr_pat_abcdefghijklmnopqrstuvwxyz12", "docker login -p [REDACTED:saas_token]"},
		{"HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "HF_TOKEN=[REDACTED:saas_token]"},
		same("from hf_hub_download_with_retry_and_cache import x"),
	},
	"secret_assignment": {
		{"mysql -u root -pSup3rS3cret! -h db", "mysql -u root -p[REDACTED:secret_assignment] -h db"},
		{"sudo /usr/bin/mysqldump -p'x y' db", "sudo /usr/bin/mysqldump -p'[REDACTED:secret_assignment]' db"},
		{"redis-cli -h cache -a s3cr3tpass ping", "redis-cli -h cache -a [REDACTED:secret_assignment] ping"},
		{"echo $P | docker login -u bot -p hunter2 ghcr.io", "echo $P | docker login -u bot -p [REDACTED:secret_assignment] ghcr.io"},
		{"sshpass -p 'pa ss' ssh host", "sshpass -p '[REDACTED:secret_assignment]' ssh host"},
		same("mysql -p mydb; mkdir -p /tmp/x; ssh -p 2222 host; docker run -p 8080:80 img; ls -a; cp -a x y"),
		same("docker login -p $DOCKER_PASSWORD; mysql -p${PW}"),
		{"redis-cli\t-a s3cr3tpass ping", "redis-cli\t-a [REDACTED:secret_assignment] ping"},
		// The operator after a key: up to eight spaces, a quote (escaped in JSON), ":=".
		{"password        :x1", "password        :[REDACTED:secret_assignment]"},
		same("password         :x1"),
		{"\"password\"\t= \"x1\"", "\"password\"\t= \"[REDACTED:secret_assignment]\""},
		{`{\"token\" : \"abc1\"}`, `{\"token\" : \"[REDACTED:secret_assignment]\"}`},
		{"token:=abc1", "token:=[REDACTED:secret_assignment]"},
		// Separators inside or after the secret word.
		{"PASS_WORD=x1 API__KEY=abc1", "PASS_WORD=[REDACTED:secret_assignment] API__KEY=[REDACTED:secret_assignment]"},
		same("Secret_=x1 pass_:x1"),
	},
}

func TestMoreDetectors(t *testing.T) {
	p := mustCompile(t, "default", nil)
	for name, cases := range moreDetectorCases {
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

// TestMasksShieldNothing: only this profile's own masks are left alone, so text dressed up as
// a mask cannot carry a secret through.
func TestMasksShieldNothing(t *testing.T) {
	p := mustCompile(t, "default", nil)
	for _, c := range []detectorCase{
		same("[REDACTED:email] [REDACTED] [email:0123456789ab]"),
		{"[REDACTED:ghp_16C7e42F292c6912E7710c838347Ae178B4a]", "[REDACTED:[REDACTED:vcs_token]]"},
		{"[REDACTED:email x@example.com]", "[REDACTED:email [REDACTED:email]]"},
		{"password=[REDACTED:secret_assignment] user=bob", "password=[REDACTED:secret_assignment] user=bob"},
		// A value that holds a mask is still redacted, the mask with it.
		{`password: "abc [REDACTED:email] def"`, `password: "[REDACTED:secret_assignment]"`},
		// A mask's own ':' separates nothing.
		{"curl -u [REDACTED:email]:hunter2 https://x", "curl -u [REDACTED:email]:[REDACTED:auth_header] https://x"},
		{"https://[REDACTED:email]:pw@host/x", "https://[REDACTED:email]:[REDACTED:url_credentials]@host/x"},
		{"curl https://api.stripe.com -u sk_test_4eC39HqLyjWDarjtT1zdp7dc:", "curl https://api.stripe.com -u [REDACTED:saas_token]:"},
	} {
		if got := p.String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
