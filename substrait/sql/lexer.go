package sql

import (
	"fmt"
	"strings"
)

// tokKind classifies a token of the small lexer used to split scripts and
// to recognise the statements that are not PostgreSQL grammar.
type tokKind int

const (
	tokIdent  tokKind = iota // unquoted identifier or keyword (text lowercased in val)
	tokQIdent                // "quoted identifier"
	tokString                // '...', E'...', $$...$$
	tokNumber
	tokPunct // one operator or punctuation character
)

type token struct {
	kind       tokKind
	val        string // identifier (lowercased unless quoted), string contents, number or punctuation
	start, end int    // byte offsets in the text
}

// is reports whether t is the unquoted keyword kw (lowercase).
func (t token) is(kw string) bool { return t.kind == tokIdent && t.val == kw }

// isPunct reports whether t is the punctuation p.
func (t token) isPunct(p string) bool { return t.kind == tokPunct && t.val == p }

// lexError is a tokenizer or statement-parser error at a byte offset.
type lexError struct {
	msg string
	off int
	err error // the error the message came from, if any (ErrNotSupported)
}

func (e *lexError) Error() string { return e.msg }

// cause is the error to report at the offset.
func (e *lexError) cause() error {
	if e.err != nil {
		return e.err
	}
	return fmt.Errorf("%s", e.msg)
}

// errorAtToken builds a lexError for err at token t.
func errorAtToken(t token, err error) *lexError {
	return &lexError{msg: err.Error(), off: t.start, err: err}
}

// tokenize splits text into tokens, skipping whitespace and comments. It
// understands PostgreSQL's quoting: ” inside strings, E” escapes,
// dollar-quoted strings, "" inside quoted identifiers and nested /* */
// comments.
func tokenize(text string) ([]token, error) {
	var toks []token
	i := 0
	n := len(text)
	for i < n {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < n && text[i+1] == '-':
			for i < n && text[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < n && text[i+1] == '*':
			start := i
			depth := 0
			for i < n {
				if text[i] == '/' && i+1 < n && text[i+1] == '*' {
					depth++
					i += 2
				} else if text[i] == '*' && i+1 < n && text[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
			if depth != 0 {
				return nil, &lexError{msg: "unterminated /* comment", off: start}
			}
		case c == '\'' || ((c == 'e' || c == 'E') && i+1 < n && text[i+1] == '\''):
			start := i
			escapes := c != '\''
			if escapes {
				i++
			}
			i++
			var b strings.Builder
			closed := false
			for i < n {
				ch := text[i]
				if escapes && ch == '\\' && i+1 < n {
					b.WriteByte(text[i+1])
					i += 2
					continue
				}
				if ch == '\'' {
					if i+1 < n && text[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(ch)
				i++
			}
			if !closed {
				return nil, &lexError{msg: "unterminated quoted string", off: start}
			}
			toks = append(toks, token{tokString, b.String(), start, i})
		case c == '"':
			start := i
			i++
			var b strings.Builder
			closed := false
			for i < n {
				if text[i] == '"' {
					if i+1 < n && text[i+1] == '"' {
						b.WriteByte('"')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(text[i])
				i++
			}
			if !closed {
				return nil, &lexError{msg: "unterminated quoted identifier", off: start}
			}
			toks = append(toks, token{tokQIdent, b.String(), start, i})
		case c == '$' && dollarTagEnd(text, i) > 0:
			start := i
			tagEnd := dollarTagEnd(text, i)
			tag := text[i:tagEnd]
			j := strings.Index(text[tagEnd:], tag)
			if j < 0 {
				return nil, &lexError{msg: "unterminated dollar-quoted string", off: start}
			}
			toks = append(toks, token{tokString, text[tagEnd : tagEnd+j], start, tagEnd + j + len(tag)})
			i = tagEnd + j + len(tag)
		case isIdentStart(c):
			start := i
			for i < n && isIdentPart(text[i]) {
				i++
			}
			toks = append(toks, token{tokIdent, strings.ToLower(text[start:i]), start, i})
		case c >= '0' && c <= '9' || (c == '.' && i+1 < n && text[i+1] >= '0' && text[i+1] <= '9'):
			start := i
			for i < n && (text[i] >= '0' && text[i] <= '9' || text[i] == '.') {
				i++
			}
			if i < n && (text[i] == 'e' || text[i] == 'E') {
				j := i + 1
				if j < n && (text[j] == '+' || text[j] == '-') {
					j++
				}
				if j < n && text[j] >= '0' && text[j] <= '9' {
					i = j
					for i < n && text[i] >= '0' && text[i] <= '9' {
						i++
					}
				}
			}
			toks = append(toks, token{tokNumber, text[start:i], start, i})
		default:
			toks = append(toks, token{tokPunct, string(c), i, i + 1})
			i++
		}
	}
	return toks, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$' }

// dollarTagEnd returns the offset just past a dollar-quote opening tag
// ($$ or $tag$) starting at i, or 0 when there is none.
func dollarTagEnd(text string, i int) int {
	j := i + 1
	if j < len(text) && text[j] == '$' {
		return j + 1
	}
	if j >= len(text) || !isIdentStart(text[j]) {
		return 0
	}
	for j < len(text) && isIdentPart(text[j]) && text[j] != '$' {
		j++
	}
	if j < len(text) && text[j] == '$' {
		return j + 1
	}
	return 0
}

// span is one statement of a script: its byte range and tokens.
type span struct {
	start, end int
	toks       []token
}

// splitStatements splits a script at top-level semicolons. Empty
// statements are dropped.
func splitStatements(text string) ([]span, error) {
	toks, err := tokenize(text)
	if err != nil {
		return nil, err
	}
	var out []span
	var cur []token
	flush := func(end int) {
		if len(cur) > 0 {
			out = append(out, span{cur[0].start, end, cur})
		}
		cur = nil
	}
	for _, t := range toks {
		if t.isPunct(";") {
			if len(cur) > 0 {
				flush(cur[len(cur)-1].end)
			}
			continue
		}
		cur = append(cur, t)
	}
	if len(cur) > 0 {
		flush(cur[len(cur)-1].end)
	}
	return out, nil
}

// intervalUnits are the interval field keywords after which a precision in
// parentheses (`interval '90' day (3)`, as the TPC-H queries write) is not
// PostgreSQL grammar.
var intervalUnits = map[string]bool{"year": true, "month": true, "day": true, "hour": true, "minute": true}

// rewriteForPostgres blanks out the constructs PostgreSQL's grammar rejects
// but that common SQL dialects accept, keeping every other byte (and so
// every error position) in place: the field precision in `interval '90'
// day (3)`.
func rewriteForPostgres(text string, toks []token) string {
	var b []byte
	for i := 0; i+5 < len(toks); i++ {
		if toks[i].is("interval") && toks[i+1].kind == tokString && toks[i+2].kind == tokIdent &&
			intervalUnits[toks[i+2].val] && toks[i+3].isPunct("(") && toks[i+4].kind == tokNumber && toks[i+5].isPunct(")") {
			if b == nil {
				b = []byte(text)
			}
			for j := toks[i+3].start; j < toks[i+5].end; j++ {
				b[j] = ' '
			}
		}
	}
	if b == nil {
		return text
	}
	return string(b)
}

// tokStream is a cursor over the tokens of one statement, used by the
// hand-written parsers of the non-PostgreSQL statements.
type tokStream struct {
	text string
	toks []token
	pos  int
}

func (s *tokStream) peek() (token, bool) {
	if s.pos < len(s.toks) {
		return s.toks[s.pos], true
	}
	return token{}, false
}

func (s *tokStream) done() bool { return s.pos >= len(s.toks) }

// accept consumes the keyword sequence kws if it is next.
func (s *tokStream) accept(kws ...string) bool {
	if s.pos+len(kws) > len(s.toks) {
		return false
	}
	for i, kw := range kws {
		if !s.toks[s.pos+i].is(kw) {
			return false
		}
	}
	s.pos += len(kws)
	return true
}

func (s *tokStream) acceptPunct(p string) bool {
	if t, ok := s.peek(); ok && t.isPunct(p) {
		s.pos++
		return true
	}
	return false
}

// offset is the byte offset of the next token (end of text when done).
func (s *tokStream) offset() int {
	if t, ok := s.peek(); ok {
		return t.start
	}
	return len(s.text)
}

// errorf builds a syntax error at the next token.
func (s *tokStream) errorf(format string, args ...any) error {
	near := "end of input"
	if t, ok := s.peek(); ok {
		near = fmt.Sprintf("%q", s.text[t.start:t.end])
	}
	return &lexError{msg: fmt.Sprintf("syntax error at or near %s: %s", near, fmt.Sprintf(format, args...)), off: s.offset()}
}

// name reads an identifier, possibly qualified (a.b.c), and returns it with
// its parts joined by dots.
func (s *tokStream) name() (string, error) {
	var parts []string
	for {
		t, ok := s.peek()
		if !ok || (t.kind != tokIdent && t.kind != tokQIdent) {
			return "", s.errorf("expected a name")
		}
		s.pos++
		parts = append(parts, t.val)
		if !s.acceptPunct(".") {
			break
		}
	}
	return strings.Join(parts, "."), nil
}

// word reads an identifier, keyword, or string and returns its text.
func (s *tokStream) word() (string, error) {
	t, ok := s.peek()
	if !ok || (t.kind != tokIdent && t.kind != tokQIdent && t.kind != tokString) {
		return "", s.errorf("expected a name")
	}
	s.pos++
	return t.val, nil
}

// value reads an option value: a string, number, identifier, or boolean.
func (s *tokStream) value() (string, error) {
	t, ok := s.peek()
	if !ok {
		return "", s.errorf("expected a value")
	}
	switch t.kind {
	case tokString, tokNumber, tokIdent, tokQIdent:
		s.pos++
		return t.val, nil
	case tokPunct:
		if t.val == "-" && s.pos+1 < len(s.toks) && s.toks[s.pos+1].kind == tokNumber {
			s.pos += 2
			return "-" + s.toks[s.pos-1].val, nil
		}
	}
	return "", s.errorf("expected a value")
}

// balanced skips a parenthesised group starting at "(" and returns the byte
// range of its contents.
func (s *tokStream) balanced() (start, end int, err error) {
	if !s.acceptPunct("(") {
		return 0, 0, s.errorf("expected \"(\"")
	}
	start = s.offset()
	depth := 1
	for !s.done() {
		t := s.toks[s.pos]
		switch {
		case t.isPunct("("):
			depth++
		case t.isPunct(")"):
			depth--
			if depth == 0 {
				end = t.start
				s.pos++
				return start, end, nil
			}
		}
		s.pos++
	}
	return 0, 0, s.errorf("missing \")\"")
}
