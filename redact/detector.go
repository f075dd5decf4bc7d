package redact

// detID identifies a detector within a profile: the built-ins first (in the order of
// config.Detectors), then the profile's custom patterns, then the two key rules. When two
// detectors claim exactly the same text, the lower id names it, which is why the specific
// detectors come before the generic ones (an API key in `token=...` counts as ai_key, not as
// secret_assignment).
type detID uint16

// The built-in detectors.
const (
	detEmail detID = iota
	detPhone
	detSSN
	detCard
	detIP
	detCloudKey
	detVCSToken
	detAIKey
	detSaaSToken
	detJWT
	detPrivateKey
	detAuthHeader
	detURLCredentials
	detSecretAssignment
	numBuiltin
)

// builtinNames are the detectors' names in configs, masks and metric labels (a contract; see
// config.Detectors).
var builtinNames = [numBuiltin]string{
	"email", "phone", "ssn", "credit_card", "ip",
	"cloud_key", "vcs_token", "ai_key", "saas_token",
	"jwt", "private_key", "auth_header", "url_credentials", "secret_assignment",
}

// The names under which mask_keys and drop_keys count what they do. "key" is also the name in
// a masked value ("[REDACTED:key]"), so that no attribute key, which may itself say something
// about a user, ends up in a label or a mask.
const (
	keyRuleName  = "key"
	dropRuleName = "drop_key"
)

// match is a span of a string that a detector (or an earlier redaction) claims.
type match struct {
	start, end int
	id         detID
}

// idMasked marks a span that is already a mask or hash tag from an earlier redaction: it is
// kept as it is and nothing may overlap it, so redacting twice changes nothing.
const idMasked detID = 1<<16 - 1
