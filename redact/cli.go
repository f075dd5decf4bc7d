package redact

import "strings"

// Password options of a few commands people run in a shell, where the option letter alone
// means something else for most other commands (mkdir -p, ssh -p 22, docker run -p 80:80,
// ls -a): the command decides.

// cliPasswords maps a command to its password option and how the value is written.
var cliPasswords = map[string]struct {
	flag     byte // after '-'
	attached bool // -pVALUE (mysql: "-p VALUE" prompts, and VALUE is the database)
	login    bool // only after the subcommand "login"
}{
	"mysql":      {flag: 'p', attached: true},
	"mysqldump":  {flag: 'p', attached: true},
	"mysqladmin": {flag: 'p', attached: true},
	"mariadb":    {flag: 'p', attached: true},
	"sshpass":    {flag: 'p'},
	"redis-cli":  {flag: 'a'},
	"docker":     {flag: 'p', login: true},
	"podman":     {flag: 'p', login: true},
	"nerdctl":    {flag: 'p', login: true},
	"helm":       {flag: 'p', login: true},
}

// findCLIPassword finds the value of a password option (-p or -a) at at, on a command line
// of a command that takes one there.
func findCLIPassword(s string, at int) (start, end int, ok bool) {
	if at == 0 || (s[at-1] != ' ' && s[at-1] != '\t') || at+2 >= len(s) {
		return 0, 0, false
	}
	cmd, login := commandAt(s, at)
	opt, known := cliPasswords[cmd]
	if !known || opt.flag != s[at+1] || (opt.login && !login) {
		return 0, 0, false
	}
	v := at + 2
	switch {
	case s[v] == ' ' && !opt.attached:
		v++
	case s[v] == ' ' || s[v] == '\t' || s[v] == '\n':
		return 0, 0, false
	case !opt.attached:
		return 0, 0, false // -pVALUE is another option (docker -pFOO is not a password)
	}
	if v >= len(s) || s[v] == '-' {
		return 0, 0, false
	}
	start, end, _, ok = valueAt(s, v)
	if ok && (s[v] != '"' && s[v] != '\'') {
		// Unquoted: the value runs to the next space, whatever it holds.
		end = v
		for end < len(s) && end-v < 256 && s[end] != ' ' && s[end] != '\t' && s[end] != '\n' {
			end++
		}
		end = runeStart(s, end)
	}
	// Cut back to a whole character, the value may be nothing at all (invalid UTF-8 after -p).
	if !ok || end <= start || !plausibleSecret(s[start:end], "password", keySecret) {
		return 0, 0, false
	}
	return start, end, true
}

// commandAt returns the command whose arguments include position at (the first word of its
// shell command, past sudo and VAR=value assignments, without its directory), and whether a
// "login" argument comes before at.
func commandAt(s string, at int) (cmd string, login bool) {
	from := at
	for from > 0 && at-from < 512 {
		c := s[from-1]
		if c == '\n' || c == ';' || c == '|' || c == '&' || c == '(' || c == '`' || c == '"' {
			break
		}
		from--
	}
	line := s[from:at]
	for len(line) > 0 {
		line = strings.TrimLeft(line, " \t")
		word := line
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			word, line = line[:i], line[i:]
		} else {
			line = ""
		}
		switch {
		case word == "":
		case cmd != "":
			login = login || word == "login"
		case word == "sudo" || word == "exec" || word == "env" || strings.IndexByte(word, '=') >= 0:
		default:
			cmd = word[strings.LastIndexByte(word, '/')+1:]
		}
	}
	return cmd, login
}
