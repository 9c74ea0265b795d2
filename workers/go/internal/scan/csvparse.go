package scan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// csvOptions are the CSV format options.
type csvOptions struct {
	header    bool
	delimiter byte
	quote     byte // 0: no quoting
	escape    byte // inside quotes; equal to quote means doubled quotes
	null      string
	inferRows int
}

// parseCSVOptions reads the options map. Keys: header (true/false, default
// true), delimiter (one character; default ',' or tab for .tsv), quote (one
// character or empty for none; default '"'), escape (default: the quote
// doubled), null (the text of a NULL; default empty), infer_rows (rows
// sampled to infer a schema; default 1000).
func parseCSVOptions(options map[string]string, location string) (*csvOptions, error) {
	o := &csvOptions{header: true, delimiter: ',', quote: '"', inferRows: 1000}
	if strings.HasSuffix(strings.ToLower(location), ".tsv") {
		o.delimiter = '\t'
	}
	escapeSet := false
	for k, v := range options {
		switch strings.ToLower(k) {
		case "header", "has_header":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("scan: CSV option %s=%q: expected true or false", k, v)
			}
			o.header = b
		case "delimiter", "delim", "sep", "separator":
			c, err := oneChar(k, v)
			if err != nil {
				return nil, err
			}
			if c == 0 {
				return nil, fmt.Errorf("scan: CSV option %s must be one character", k)
			}
			o.delimiter = c
		case "quote":
			c, err := oneChar(k, v)
			if err != nil {
				return nil, err
			}
			o.quote = c
		case "escape":
			c, err := oneChar(k, v)
			if err != nil {
				return nil, err
			}
			o.escape, escapeSet = c, true
		case "null", "null_string", "nullstr", "null_value":
			o.null = v
		case "infer_rows", "schema_infer_max_records":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("scan: CSV option %s=%q: expected a positive number", k, v)
			}
			o.inferRows = n
		case "format", "compression":
			if strings.ToLower(k) == "compression" && v != "" && !strings.EqualFold(v, "none") && !strings.EqualFold(v, "uncompressed") {
				return nil, fmt.Errorf("scan: compressed CSV (%s) is not supported", v)
			}
		default:
			return nil, fmt.Errorf("scan: unknown CSV option %q (known: header, delimiter, quote, escape, null, infer_rows)", k)
		}
	}
	if !escapeSet {
		o.escape = o.quote
	}
	if o.delimiter == o.quote || o.delimiter == '\n' || o.delimiter == '\r' {
		return nil, fmt.Errorf("scan: CSV delimiter %q cannot be the quote or a line break", o.delimiter)
	}
	return o, nil
}

func oneChar(k, v string) (byte, error) {
	switch {
	case v == "":
		return 0, nil
	case v == `\t`:
		return '\t', nil
	case len(v) == 1:
		return v[0], nil
	}
	return 0, fmt.Errorf("scan: CSV option %s=%q must be a single ASCII character", k, v)
}

// csvParser splits a CSV stream into records. The fields of all records
// read since the last reset are stored back to back in data; ends holds
// each field's end offset, so field i of the batch spans
// data[ends[i-1]:ends[i]].
type csvParser struct {
	r    *bufio.Reader
	opt  *csvOptions
	path string

	line     int64 // physical lines consumed so far
	consumed int64 // bytes consumed

	data    []byte
	ends    []int32
	quoted  []bool
	lines   []int64 // first line of each record
	partial []byte  // a line longer than the reader's buffer
}

func newCSVParser(r io.Reader, opt *csvOptions, path string) *csvParser {
	return &csvParser{r: bufio.NewReaderSize(r, 1<<20), opt: opt, path: path}
}

// reset forgets the buffered records.
func (p *csvParser) reset() {
	p.data = p.data[:0]
	p.ends = p.ends[:0]
	p.quoted = p.quoted[:0]
	p.lines = p.lines[:0]
}

// readLine returns the next line without its line break, io.EOF at the end.
// The slice is valid until the next call.
func (p *csvParser) readLine() ([]byte, error) {
	l, err := p.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		p.partial = append(p.partial[:0], l...)
		for err == bufio.ErrBufferFull {
			l, err = p.r.ReadSlice('\n')
			p.partial = append(p.partial, l...)
		}
		l = p.partial
	}
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("scan: %s: %w", p.path, err)
	}
	if len(l) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	p.consumed += int64(len(l))
	p.line++
	if n := len(l); n > 0 && l[n-1] == '\n' {
		l = l[:n-1]
	}
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	return l, nil
}

// errf formats an error naming the file and line.
func (p *csvParser) errf(line int64, format string, args ...any) error {
	return fmt.Errorf("scan: %s line %d: %s", p.path, line, fmt.Sprintf(format, args...))
}

// next parses one record into the buffers and returns its number of
// fields, or io.EOF. Blank lines are skipped.
func (p *csvParser) next() (int, error) {
	var line []byte
	for {
		l, err := p.readLine()
		if err != nil {
			return 0, err
		}
		if len(l) > 0 {
			line = l
			break
		}
	}
	start := p.line
	o := p.opt
	fields := 0
	pos := 0
	for {
		fields++
		if o.quote != 0 && pos < len(line) && line[pos] == o.quote {
			pos++
			for {
				i := indexQuoteOrEscape(line[pos:], o.quote, o.escape)
				if i < 0 {
					// The quoted field goes on on the next line.
					p.data = append(p.data, line[pos:]...)
					p.data = append(p.data, '\n')
					l, err := p.readLine()
					if err == io.EOF {
						return 0, p.errf(start, "quoted field is not closed before the end of the file")
					}
					if err != nil {
						return 0, err
					}
					line, pos = l, 0
					continue
				}
				p.data = append(p.data, line[pos:pos+i]...)
				pos += i
				c := line[pos]
				if c == o.escape && o.escape != o.quote {
					if pos+1 < len(line) {
						p.data = append(p.data, line[pos+1])
						pos += 2
					} else {
						p.data = append(p.data, c)
						pos++
					}
					continue
				}
				// A quote: doubled means a literal quote, else the end.
				if o.escape == o.quote && pos+1 < len(line) && line[pos+1] == o.quote {
					p.data = append(p.data, o.quote)
					pos += 2
					continue
				}
				pos++
				break
			}
			p.ends = append(p.ends, int32(len(p.data)))
			p.quoted = append(p.quoted, true)
			if pos == len(line) {
				break
			}
			if line[pos] != o.delimiter {
				return 0, p.errf(p.line, "unexpected %q after a closing quote in field %d", line[pos], fields)
			}
			pos++
			continue
		}
		i := bytes.IndexByte(line[pos:], o.delimiter)
		if i < 0 {
			p.data = append(p.data, line[pos:]...)
			p.ends = append(p.ends, int32(len(p.data)))
			p.quoted = append(p.quoted, false)
			break
		}
		p.data = append(p.data, line[pos:pos+i]...)
		p.ends = append(p.ends, int32(len(p.data)))
		p.quoted = append(p.quoted, false)
		pos += i + 1
	}
	if len(p.data) > 1<<30 {
		return 0, p.errf(start, "record too large")
	}
	p.lines = append(p.lines, start)
	return fields, nil
}

func indexQuoteOrEscape(b []byte, quote, escape byte) int {
	if quote == escape {
		return bytes.IndexByte(b, quote)
	}
	for i, c := range b {
		if c == quote || c == escape {
			return i
		}
	}
	return -1
}

// dropLast removes the last n fields and record (used when a record has
// the wrong number of fields and is reported).
var errFieldCount = errors.New("wrong number of fields")
