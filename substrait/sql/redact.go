package sql

import "regexp"

var (
	// userinfo passwords in URLs: postgres://user:secret@host
	urlPassword = regexp.MustCompile(`(://[^/\s:@']+):[^@/\s']*@`)
	// OPTIONS (aws_secret_access_key 'x', password = 'y', ...)
	secretOption = regexp.MustCompile(`(?i)(\b[a-z0-9_]*(?:secret|password|passwd|token|access_key)[a-z0-9_]*\b\s*=?\s*)'(?:[^']|'')*'`)
	// key=value connection strings: 'host=db password=secret'
	kvPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)[^\s']+`)
)

// RedactSecrets masks the secrets a statement may hold (option values
// whose keys name a secret, password or token; passwords in URLs and
// connection strings) so it can be shown or logged. The statement itself
// is kept unredacted where it must run again (a session's saved DDL).
func RedactSecrets(stmt string) string {
	s := urlPassword.ReplaceAllString(stmt, "$1:***@")
	s = secretOption.ReplaceAllString(s, "$1'***'")
	return kvPassword.ReplaceAllString(s, "$1***")
}
