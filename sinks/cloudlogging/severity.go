package cloudlogging

import (
	"strings"

	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	ltype "google.golang.org/genproto/googleapis/logging/type"
)

// severity maps an OTel severity number onto Cloud Logging's levels, range by range: TRACE
// and DEBUG (1-8) to DEBUG, INFO (9-12) to INFO, WARN (13-16) to WARNING, ERROR (17-20) to
// ERROR. NOTICE has no OTel level of its own and is never produced. The four FATAL levels split
// as the OpenTelemetry log data model maps Cloud Logging's onto them (CRITICAL is FATAL,
// ALERT is FATAL3, EMERGENCY is FATAL4), so that a record that came from Cloud Logging goes
// back at the level it had. Unset (0) is DEFAULT, unless the record's severity text names a
// level; a number outside the OTel range is DEFAULT too.
func severity(n logspb.SeverityNumber, text string) ltype.LogSeverity {
	switch {
	case n >= 1 && n <= 8:
		return ltype.LogSeverity_DEBUG
	case n >= 9 && n <= 12:
		return ltype.LogSeverity_INFO
	case n >= 13 && n <= 16:
		return ltype.LogSeverity_WARNING
	case n >= 17 && n <= 20:
		return ltype.LogSeverity_ERROR
	case n == 21 || n == 22:
		return ltype.LogSeverity_CRITICAL
	case n == 23:
		return ltype.LogSeverity_ALERT
	case n == 24:
		return ltype.LogSeverity_EMERGENCY
	case n == 0 && text != "":
		return severityText(text)
	}
	return ltype.LogSeverity_DEFAULT
}

// severityText reads the level names loggers commonly put in severity_text, for a record that
// has no severity number.
func severityText(text string) ltype.LogSeverity {
	switch strings.ToUpper(strings.TrimSpace(text)) {
	case "TRACE", "DEBUG":
		return ltype.LogSeverity_DEBUG
	case "INFO", "INFORMATION":
		return ltype.LogSeverity_INFO
	case "NOTICE":
		return ltype.LogSeverity_NOTICE
	case "WARN", "WARNING":
		return ltype.LogSeverity_WARNING
	case "ERROR", "ERR":
		return ltype.LogSeverity_ERROR
	case "CRITICAL", "CRIT", "FATAL":
		return ltype.LogSeverity_CRITICAL
	case "ALERT":
		return ltype.LogSeverity_CRITICAL
	case "EMERGENCY", "EMERG":
		return ltype.LogSeverity_EMERGENCY
	}
	return ltype.LogSeverity_DEFAULT
}
